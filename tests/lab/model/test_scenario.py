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
