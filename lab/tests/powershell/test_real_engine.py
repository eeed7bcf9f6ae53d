"""The PowerShell layer over the real engine, store and cmdlets (contoso-small, stage 6: users still on OCS)."""

from __future__ import annotations

import base64
import json

import pytest

from lync_lab.config import LabConfig
from lync_lab.lab import Lab

from conftest import ps, run
from test_envelope import collection


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = Lab(LabConfig(state_dir=tmp_path_factory.mktemp("lab"), stage=6))
    yield lab
    lab.store.close()


def test_admin_moves_a_user_and_reads_the_new_pool(lab):
    fe = lab.runtime_for(lab.server("lync-fe01.contoso.net"))
    code, sink = ps(fe, "Get-CsUser -Identity 'Adam Barr' | Move-CsLegacyUser -Target pool02.contoso.net "
                        "-Confirm:$false; (Get-CsUser -Identity 'Adam Barr').RegistrarPool")
    assert (code, sink.stdout_text, sink.stderr_text) == (0, "pool02.contoso.net\r\n", "")
    audit = [json.loads(line) for line in (lab.state_dir / "audit.jsonl").read_text().splitlines()]
    assert [a["cmdlet"] for a in audit[-3:]] == ["Get-CsUser", "Move-CsLegacyUser", "Get-CsUser"]


def test_envelope_with_credential_against_the_real_engine(lab):
    fe = lab.runtime_for(lab.server("lync-fe01.contoso.net"))
    exe, args = collection.command_line()
    request = collection.build_request(
        [collection.Call("Get-CsUser", {"Identity": "Amy Alberts"}, select=["RegistrarPool"]),
         collection.Call("Move-CsLegacyUser", {"Identity": "Amy Alberts", "Target": "pool02.contoso.net"},
                         pass_credential=True),
         collection.Call("Get-CsUser", {"Identity": "Amy Alberts", "OnModernServer": True})],
        credential=("CONTOSO\\lyncadmin", "Secr3t-in-audit?"))
    code, sink = run(fe, " ".join([exe] + args), collection.encode_request(request))
    lines = [json.loads(line) for line in sink.stdout_text.splitlines()]
    assert code == 0 and lines[0]["ready"] is True and lines[-1] == {"done": True}
    assert lines[1] == {"id": "0", "ok": True, "objects": [{"RegistrarPool": "pool01.contoso.net"}]}
    assert lines[2]["ok"] is True
    assert lines[3]["error"]["fqid"].startswith("NamedParameterNotFound,")
    assert "Secr3t-in-audit?" not in (lab.state_dir / "audit.jsonl").read_text()


def test_ocs_servers_have_wmi_but_no_lync_cmdlets(lab):
    ocs = lab.runtime_for(lab.server("ocs-fe01.contoso.net"))
    code, sink = ps(ocs, "Get-CsUser")
    assert code == 1 and "The term 'Get-CsUser' is not recognized" in sink.stderr_text
    code, sink = ps(ocs, "Get-WmiObject -Class MSFT_SIPESUserSetting | Select-Object -First 1 -ExpandProperty PrimaryURI")
    assert code == 0 and sink.stdout_text.startswith("sip:") and sink.stdout_text.endswith("@contoso.net\r\n")
    assert sink.stdout_text.count("\r\n") == 1
