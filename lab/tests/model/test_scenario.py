import time

import pytest
import yaml

from lync_lab.errors import LabConfigError
from lync_lab.model import stages
from lync_lab.model.scenario import SCENARIO_DIR, load_scenario
from lync_lab.model.store import Store


def test_contoso_small_names_and_accounts():
    sc = load_scenario("contoso-small")
    assert sc.admin_server.fqdn == "lync-fe01.contoso.net"
    assert (sc.admin_server.http_port, sc.admin_server.https_port) == (55985, 55986)
    assert sc.check_password("CONTOSO\\lyncadmin", "Lab-Passw0rd!") == "CONTOSO\\lyncadmin"
    assert sc.check_password("lyncadmin@contoso.net", "Lab-Passw0rd!") == "CONTOSO\\lyncadmin"
    assert sc.check_password("CONTOSO\\lyncadmin", "wrong") is None
    assert sc.waves["test"] == ["David Pelton", "Hao Chen"]
    assert "Ana Trujillo" in sc.waves["pilot"]
    assert 50 <= len(sc.users) <= 70


def _broken(tmp_path, mutate):
    raw = yaml.safe_load((SCENARIO_DIR / "contoso-small.yml").read_text(encoding="utf-8"))
    mutate(raw)
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LabConfigError) as info:
        load_scenario(str(path))
    return str(info.value)


def test_validation_names_file_and_field(tmp_path):
    msg = _broken(tmp_path, lambda r: r["users"][12].update(sip="not an address"))
    assert "broken.yml" in msg and "users[12].sip" in msg and "user@domain" in msg
    msg = _broken(tmp_path, lambda r: r["users"][3].update(meeting_policy="Nope"))
    assert "users[3].meeting_policy" in msg
    msg = _broken(tmp_path, lambda r: r["servers"][1].update(http_port=55985))
    assert "servers[3].http_port" in msg and "already used by ocs-edge01" in msg
    msg = _broken(tmp_path, lambda r: r["waves"]["test"].append("Nobody Here"))
    assert "waves.test[2]" in msg


def test_unknown_scenario_lists_shipped_ones():
    with pytest.raises(LabConfigError, match="contoso-small"):
        load_scenario("no-such-scenario")


def test_stage_seed_is_deterministic(tmp_path):
    sc = load_scenario("contoso-small")
    a, b = Store(tmp_path / "a.sqlite"), Store(tmp_path / "b.sqlite")
    a.seed(sc, 9)
    b.seed(sc, 9)
    assert stages.dump_state(a) == stages.dump_state(b)
    a.close()
    b.close()


def test_contoso_large_seeds_quickly(tmp_path):
    # CPU time, not wall time: the test runs beside others on 2 cores, and what it guards is the seed's own cost.
    start = time.process_time()
    sc = load_scenario("contoso-large")
    store = Store(tmp_path / "large.sqlite")
    store.seed(sc, 6)
    elapsed = time.process_time() - start
    with store.transaction(write=False) as tx:
        assert tx.count("user") >= 20000
        pools = {d["RegistrarPool"] for _k, d in tx.query("user")}
    store.close()
    assert len(pools) == 3
    assert elapsed < 10


# -- servers' hosts (os: and overrides; lync_lab/hosts.py) -----------------------------------------------

def test_shipped_scenarios_run_ocs_on_2008_r2_and_lync_on_supported_windows():
    """wmf-overview.md: 2008 R2 includes WMF 2.0 (PowerShell 2.0, WinRM 2.0), 2012 R2 WMF 4.0; win32
    WinRM/installation-and-configuration page: WinRM 2.0 allows 5 shells per user, 150 MB per shell."""
    small = {s.fqdn: s.host for s in load_scenario("contoso-small").servers}
    ocs = small["ocs-fe01.contoso.net"]
    assert (ocs.os, ocs.powershell, ocs.winrm, ocs.dotnet) == ("2008r2", "2.0", "2.0", "3.5")
    assert (ocs.quotas.MaxShellsPerUser, ocs.quotas.MaxMemoryPerShellMB, ocs.quotas.IdleTimeout) == (5, 150, 180000)
    lync = small["lync-fe01.contoso.net"]
    assert (lync.os, lync.powershell, lync.winrm, lync.quotas.MaxShellsPerUser) == ("2012r2", "4.0", "3.0", 30)
    large = {s.fqdn: s.host for s in load_scenario("contoso-large").servers}
    pilot = large["lync-fe01.contoso.net"]
    # KB2842230 not installed: MaxMemoryPerShellMB says 1024, shells get 150 MB.
    assert (pilot.os, pilot.powershell, pilot.wmf3_memory_bug) == ("2008r2sp1-wmf3", "3.0", True)
    assert (pilot.quotas.MaxMemoryPerShellMB, pilot.effective_memory_mb) == (1024, 150)
    assert {h.os for h in large.values()} >= {"2003sp2", "2008sp2", "2008r2", "2008r2sp1-wmf3", "2012"}


def test_server_overrides_apply_over_the_os_defaults(tmp_path):
    raw = yaml.safe_load((SCENARIO_DIR / "contoso-small.yml").read_text(encoding="utf-8"))
    raw["servers"][0].update(os="2008r2sp1-wmf3", wmf3_memory_bug=False,
                             quotas={"MaxShellsPerUser": 12, "IdleTimeout": 600000})
    path = tmp_path / "custom.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    host = load_scenario(str(path)).servers[0].host
    assert (host.powershell, host.winrm, host.wmf3_memory_bug) == ("3.0", "3.0", False)
    assert (host.quotas.MaxShellsPerUser, host.quotas.IdleTimeout, host.quotas.MaxMemoryPerShellMB) == (12, 600000, 1024)
    assert host.effective_memory_mb == 1024


@pytest.mark.parametrize("server, change, field, fix", [
    (0, {"os": "2016"}, "servers[0].os", "2008r2"),
    (0, {"os": "2003sp2", "powershell": "3.0"}, "servers[0].powershell", "at most WMF 2.0"),
    (0, {"powershell": "5.1"}, "servers[0].powershell", "2.0, 3.0, 4.0"),
    (0, {"quotas": {"MaxShells": 3}}, "servers[0].quotas.MaxShells", "MaxShellsPerUser"),
    (0, {"quotas": {"MaxShellsPerUser": 0}}, "servers[0].quotas.MaxShellsPerUser", "positive whole number"),
    (0, {"os": "2012r2", "winrm": "2.0"}, "servers[0].winrm", "WinRM 3.0"),
    (0, {"os": "2012r2"}, "servers[0].os", "OCS 2007 R2"),
    (3, {"os": "2008r2"}, "servers[3].os", "Lync Server 2013"),
    (3, {"os": "2012", "powershell": "2.0", "winrm": "2.0"}, "servers[3].powershell", "PowerShell 3.0"),
    (0, {"os": "2008r2", "wmf3_memory_bug": True}, "servers[0].wmf3_memory_bug", "WMF 3.0"),
])
def test_host_errors_name_the_field_and_the_fix(tmp_path, server, change, field, fix):
    msg = _broken(tmp_path, lambda r: r["servers"][server].update(change))
    assert f"{field}:" in msg and fix in msg
