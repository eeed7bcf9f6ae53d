"""contoso-large's pilot Front End runs Windows Server 2008 R2 SP1 with WMF 3.0 and without KB2842230, so WinRM
holds every shell to 150 MB (docs/hosts.md; the lab's memory model in lab/lync_lab/winrm/shells.py). One
Get-CsUser of its 20,004 users does not fit; the collection reads the directory again in SIP-address pieces."""

from __future__ import annotations

import json

import pytest

from ansible_collections.lync.migration.plugins.modules import cs_user_info

from module_runner import run_module

pytest.importorskip("lync_lab")


@pytest.fixture(scope="module")
def large_lab(tmp_path_factory):
    from lync_lab.instance import LabInstance

    root = tmp_path_factory.mktemp("large")
    with LabInstance(root / "state", scenario="contoso-large", stage=6, log=root / "lab.log") as instance:
        yield instance


def test_every_user_is_read_in_pieces_when_one_answer_does_not_fit_the_shell(large_lab, monkeypatch):
    connection = {"server": "127.0.0.1", "port": large_lab.http_port, "scheme": "http",
                  "username": "CONTOSO\\lyncadmin", "password": "Lab-Passw0rd!"}
    out = run_module(cs_user_info, {}, None, monkeypatch=monkeypatch, connection=connection)
    assert not out.get("failed"), out.get("msg")
    assert out["count"] == 20004 and len({u["sip_address"] for u in out["users"]}) == 20004
    reads = [e for e in large_lab.audit() if e.get("cmdlet") == "Get-CsUser"]
    # The whole read first (the server ran it; its answer did not fit), then the pieces, each with a filter.
    assert "Filter" not in reads[0]["params"]
    assert len(reads) > 1 and all("SipAddress -like" in e["params"]["Filter"] for e in reads[1:])
    assert json.dumps(out).count("OutOfMemory") == 0


def test_a_legacy_pools_users_are_read_over_wmi_in_ranges_on_winrm_2(large_lab, monkeypatch):
    """ocs-fe01 runs Windows Server 2008 R2: WinRM 2.0, MaxMemoryPerShellMB 150 (win32 installation page). Its
    MSFT_SIPESUserSetting instances for 20,000 users do not fit one answer; the read is cut into WQL ranges of
    PrimaryURI (WQL compares strings: win32 wql-operators.md), which together hold every user once."""
    from ansible_collections.lync.migration.plugins.modules import cs_wmi_info

    before = len(large_lab.audit())
    connection = {"server": "127.0.0.1", "port": 55989 + large_lab.port_offset, "scheme": "http",
                  "username": "CONTOSO\\lyncadmin", "password": "Lab-Passw0rd!"}
    out = run_module(cs_wmi_info, {"classes": ["MSFT_SIPESUserSetting", "MSFT_SIPPoolSetting"],
                                   "properties": {"MSFT_SIPESUserSetting": ["PrimaryURI", "HomeServerDN"]}},
                     None, monkeypatch=monkeypatch, connection=connection)
    assert not out.get("failed"), out.get("msg")
    uris = [u["PrimaryURI"] for u in out["instances"]["MSFT_SIPESUserSetting"]]
    assert len(uris) == len(set(uris)) == out["counts"]["MSFT_SIPESUserSetting"] >= 20000
    # The class read after the users in the same PowerShell lost its answer when that process ended: read alone.
    assert out["counts"]["MSFT_SIPPoolSetting"] == 3
    reads = [e for e in large_lab.audit()[before:] if e.get("cmdlet") == "Get-WmiObject"
             and e["params"].get("Class") == "MSFT_SIPESUserSetting"]
    assert "Filter" not in reads[0]["params"] and all("PrimaryURI" in e["params"]["Filter"] for e in reads[1:])
