"""cs_wmi_info and cs_dns_info against the rehearsal lab (in-process, on free ports): the OCS 2007 R2 WMI reads
Phases 1-2 rely on, and the DNS queries of P2.2."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.lync.migration.plugins.modules import cs_dns_info, cs_wmi_info

from module_runner import run_module

lync_lab = pytest.importorskip("lync_lab")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from lync_lab.config import LabConfig
    from lync_lab.instance import choose_port_offset, scenario_ports
    from lync_lab.lab import Lab

    offset = choose_port_offset(scenario_ports("contoso-small"), udp_ports=[55953])
    config = LabConfig(stage=2, state_dir=tmp_path_factory.mktemp("lab"), http_port=55985 + offset,
                       https_port=55986 + offset, port_offset=offset, dns_port=55953 + offset)
    lab = Lab(config)
    lab.start()
    yield {"lab": lab, "offset": offset, "dns_port": 55953 + offset}
    lab.stop()


def ocs(lab):
    return {"server": "127.0.0.1", "port": 55989 + lab["offset"], "scheme": "http", "username": "CONTOSO\\lyncadmin",
            "password": "Lab-Passw0rd!"}


def test_wmi_info_reads_the_legacy_pool_without_the_lync_module(lab, monkeypatch):
    out = run_module(cs_wmi_info, {"classes": ["MSFT_SIPPoolSetting", "MSFT_SIPESUserSetting"],
                                   "properties": {"MSFT_SIPESUserSetting": ["PrimaryURI", "HomeServerDN"]}},
                     None, monkeypatch=monkeypatch, connection=ocs(lab))
    assert out.get("failed") is not True, out
    assert out["changed"] is False and out["missing"] == []
    assert [p["PoolFQDN"] for p in out["instances"]["MSFT_SIPPoolSetting"]] == ["pool01.contoso.net"]
    users = out["instances"]["MSFT_SIPESUserSetting"]
    assert out["counts"]["MSFT_SIPESUserSetting"] == len(users) > 50
    assert set(users[0]) == {"PrimaryURI", "HomeServerDN"}
    assert any(u["PrimaryURI"] == "sip:david.pelton@contoso.net" for u in users)
    # Both reads ran on the OCS 2007 R2 server itself, which has WMI only (no Lync module to import).
    reads = [e for e in lab["lab"].audit.read() if e.get("cmdlet") == "Get-WmiObject"]
    assert {e.get("server") for e in reads} == {"ocs-fe01.contoso.net"}


def test_wmi_info_filter_is_data_and_unknown_classes_are_missing(lab, monkeypatch):
    out = run_module(cs_wmi_info, {"classes": ["MSFT_SIPESUserSetting", "MSFT_NoSuchClass"],
                                   "filters": {"MSFT_SIPESUserSetting": "PrimaryURI = 'sip:hao.chen@contoso.net'"}},
                     None, monkeypatch=monkeypatch, connection=ocs(lab))
    assert [u["DisplayName"] for u in out["instances"]["MSFT_SIPESUserSetting"]] == ["Hao Chen"]
    assert out["missing"] == ["MSFT_NoSuchClass"]
    strict = run_module(cs_wmi_info, {"classes": ["MSFT_NoSuchClass"], "missing_ok": False},
                        None, monkeypatch=monkeypatch, connection=ocs(lab))
    assert strict["failed"] is True and "Invalid class" in strict["msg"]


def test_wmi_info_refuses_names_that_are_not_class_names(lab, monkeypatch):
    out = run_module(cs_wmi_info, {"classes": ["Win32_Service; Stop-Service RTCSRV"]}, None,
                     monkeypatch=monkeypatch, connection=ocs(lab))
    assert out["failed"] is True and "is not a WMI class name" in out["msg"]


def test_dns_info_resolves_a_and_srv_and_reports_missing_names(lab, monkeypatch):
    args = {"resolver": "127.0.0.1", "resolver_port": lab["dns_port"],
            "queries": [{"name": "pool01.contoso.net"}, {"name": "pool02.contoso.net", "type": "A"},
                        {"name": "_sipinternaltls._tcp.contoso.net", "type": "SRV"}]}
    for tcp in (False, True):
        out = run_module(cs_dns_info, dict(args, tcp=tcp), None, monkeypatch=monkeypatch, connection={})
        assert out["changed"] is False
        a01, a02, srv = out["records"]
        assert a01["found"] and a01["addresses"] == ["192.168.10.11"] and a01["authoritative"]
        assert not a02["found"] and a02["rcode"] == "NXDOMAIN"
        assert srv["targets"] == [{"target": "pool01.contoso.net", "port": 5061, "priority": 0, "weight": 0}]
        assert out["missing"] == ["A pool02.contoso.net"]


def test_dns_info_fails_when_the_server_does_not_answer(monkeypatch):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        silent = s.getsockname()[1]
        out = run_module(cs_dns_info, {"resolver": "127.0.0.1", "resolver_port": silent, "timeout": 0.5,
                                       "queries": [{"name": "pool02.contoso.net"}]},
                         None, monkeypatch=monkeypatch, connection={})
    assert out["failed"] is True and "did not answer" in out["msg"]


def test_dns_info_wants_the_servers_address(monkeypatch):
    out = run_module(cs_dns_info, {"resolver": "dc01.contoso.net", "queries": [{"name": "pool02.contoso.net"}]},
                     None, monkeypatch=monkeypatch, connection={})
    assert out["failed"] is True and "is not an IP address" in out["msg"]


def test_a_lync_task_on_a_powershell_2_host_fails_at_once_naming_host_version_and_fix(lab, monkeypatch):
    """ocs-fe01 runs Windows Server 2008 R2, whose PowerShell is 2.0 (PowerShell-Docs wmf-overview.md); the Lync
    Server 2013 Management Shell needs 3.0 (OfficeDocs-SkypeForBusiness lync-server-2013-additional-software-
    requirements.md). The envelope refuses before importing anything or running any call, and the error is not
    retried: it names the host, its version and what to install."""
    import time

    from ansible_collections.lync.migration.plugins.modules import cs_pool_info

    before = len(lab["lab"].audit.read())
    started = time.monotonic()
    out = run_module(cs_pool_info, {}, None, monkeypatch=monkeypatch, connection=ocs(lab))
    assert time.monotonic() - started < 10
    assert out["failed"] is True
    assert "127.0.0.1 (OCS-FE01) runs Windows PowerShell 2.0" in out["msg"]
    assert "need 3.0 or later" in out["msg"] and "Windows Management Framework 3.0" in out["msg"]
    assert out["error"]["fqid"] == "PowerShellVersionTooOld" and out["error"]["transient"] is False
    assert lab["lab"].audit.read()[before:] == []


def test_a_lync_cmdlet_on_a_server_without_lync_fails_once_and_says_where_to_run_it(lab, monkeypatch):
    """The OCS 2007 R2 server has no Lync Server Management Shell: the module's request without min_ps (a
    reading module of its own would not ask for 3.0) fails with PowerShell's module-not-found error, which is
    permanent (not retried) and comes with what to do."""
    from ansible_collections.lync.migration.plugins.module_utils.lync import envelope

    from ansible_collections.lync.migration.plugins.modules import cs_pool_info

    monkeypatch.setattr(envelope, "MODULE_MIN_POWERSHELL", {})
    before = len(lab["lab"].audit.read())
    out = run_module(cs_pool_info, {}, None, monkeypatch=monkeypatch, connection=ocs(lab))
    assert out["failed"] is True and out["error"]["transient"] is False
    assert out["error"]["fqid"].startswith("Modules_ModuleNotFound")
    assert "run the task on a server that has it" in out["msg"]
    assert lab["lab"].audit.read()[before:] == []
