"""The audit log names the WinRS request each call ran in: its shell, its command and when that command's input
arrived. (Lab bookkeeping, marked assumed in lab/FIDELITY.md: a real server keeps no such log.) The reliability
suite relies on it to show that a killed run sends nothing after the kill (tests/reliability/scenarios.py)."""

from __future__ import annotations

import datetime
import time

from lync_lab.instance import LabInstance


def test_each_call_names_its_shell_command_and_when_its_input_arrived(tmp_path):
    import winrm

    lab = LabInstance(tmp_path / "lab", stage=6)
    with lab:
        session = winrm.Session(lab.admin_url, auth=("CONTOSO\\lyncadmin", "Lab-Passw0rd!"), transport="ntlm",
                                message_encryption="always")
        before = datetime.datetime.now(datetime.timezone.utc)
        first = session.run_ps("Set-CsUser -Identity 'sip:hao.chen@contoso.net' -Enabled $false")
        time.sleep(0.05)
        second = session.run_ps("Set-CsUser -Identity 'sip:hao.chen@contoso.net' -Enabled $true; "
                                "Get-CsUser -Identity 'sip:hao.chen@contoso.net'")
        after = datetime.datetime.now(datetime.timezone.utc)
        assert first.status_code == 0 and second.status_code == 0, (first.std_err, second.std_err)
        entries = lab.audit()
    assert [e["cmdlet"] for e in entries] == ["Set-CsUser", "Set-CsUser", "Get-CsUser"]
    requests = [e["request"] for e in entries]
    assert requests[0]["command"] != requests[1]["command"] == requests[2]["command"]   # run_ps: one command each
    for entry, request in zip(entries, requests):
        received = datetime.datetime.fromisoformat(request["input_received"])
        started = datetime.datetime.fromisoformat(entry["time"])
        assert before <= received <= started <= after
