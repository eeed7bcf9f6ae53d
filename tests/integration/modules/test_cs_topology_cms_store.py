"""cs_topology's first publish against a lab at Phase 3, after the Core Components (P3.2) and before any store:
the Central Management store is created the documented way before the publish (office-docs-powershell
Install-CsDatabase.md -CentralManagementDatabase, Set-CsConfigurationStoreLocation.md), check mode only reads,
and a second run changes nothing."""

import pytest

from ansible_collections.lync.migration.plugins.modules import cs_topology

from module_runner import run_module

pytest.importorskip("lync_lab")

SQL = "lync-sql01.contoso.net"
STORE = {"sql_server_fqdn": SQL, "sql_instance": "rtc"}
WRITES = ("Install-CsDatabase", "Set-CsConfigurationStoreLocation", "Publish-CsTopology", "Enable-CsTopology")


@pytest.fixture
def lab(tmp_path):
    from lync_lab.perform.servers import install_core
    from lync_lab.instance import LabInstance

    instance = LabInstance(tmp_path / "state", scenario="contoso-small", stage=3, log=tmp_path / "lab.log")
    instance.seed(lambda tx: install_core(tx, "lync-fe01.contoso.net"))
    instance.start(keep=True)
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def document(tmp_path):
    """The pilot pool's document as the stage-4 seed publishes it (what the Phase 3 template renders)."""
    from lync_lab.model import topology, topology_xml
    from lync_lab.model.scenario import load_scenario

    return topology_xml.to_xml(topology.pilot_topology(load_scenario("contoso-small")))


def connection(instance):
    return {"server": "127.0.0.1", "port": instance.http_port, "scheme": "http", "username": "CONTOSO\\lyncadmin",
            "password": "Lab-Passw0rd!"}


def writes(instance):
    return [e["cmdlet"] for e in instance.audit() if e["cmdlet"] in WRITES and not e.get("error")]


def test_check_mode_plans_the_store_and_the_publish_and_runs_nothing(lab, document, monkeypatch):
    out = run_module(cs_topology, {"document": document, "central_management_store": STORE}, None, check_mode=True,
                     monkeypatch=monkeypatch, connection=connection(lab))
    assert not out.get("failed"), out.get("msg")
    assert out["changed"] is True and out["first_topology"] is True
    assert out["cmdlets"] == [
        "Install-CsDatabase -CentralManagementDatabase -SqlServerFqdn %s -SqlInstanceName rtc" % SQL,
        "Set-CsConfigurationStoreLocation -SqlServerFqdn %s -SqlInstanceName rtc" % SQL,
        "Publish-CsTopology -Document <document>", "Enable-CsTopology"]
    assert out["central_management_store"] == {"location_before": None, "location": None, "database_found": False}
    assert writes(lab) == []


def test_first_run_creates_the_store_then_publishes_and_a_rerun_changes_nothing(lab, document, monkeypatch):
    out = run_module(cs_topology, {"document": document, "central_management_store": STORE}, None,
                     monkeypatch=monkeypatch, connection=connection(lab))
    assert not out.get("failed"), out.get("msg")
    assert writes(lab) == list(WRITES)
    assert out["central_management_store"]["location"] == SQL + "/rtc"
    again = run_module(cs_topology, {"document": document, "central_management_store": STORE}, None,
                       monkeypatch=monkeypatch, connection=connection(lab))
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False and again["cmdlets"] == [] and writes(lab) == list(WRITES)


def test_without_the_store_the_publish_fails_with_the_lab_s_error(lab, document, monkeypatch):
    out = run_module(cs_topology, {"document": document}, None, monkeypatch=monkeypatch, connection=connection(lab))
    assert out.get("failed") and "Install-CsDatabase -CentralManagementDatabase" in out["msg"]


def test_a_store_located_elsewhere_is_not_moved(lab, document, monkeypatch):
    from winrm import Session

    shell = Session("http://127.0.0.1:%d/wsman" % lab.http_port, auth=("CONTOSO\\lyncadmin", "Lab-Passw0rd!"),
                    transport="ntlm", message_encryption="always")
    result = shell.run_ps("Set-CsConfigurationStoreLocation -SqlServerFqdn other-sql.contoso.net -SqlInstanceName rtc "
                          "-SkipLookup")
    assert result.status_code == 0, result.std_err
    before = writes(lab)
    out = run_module(cs_topology, {"document": document, "central_management_store": STORE}, None,
                     monkeypatch=monkeypatch, connection=connection(lab))
    assert out.get("failed") and "other-sql.contoso.net/rtc" in out["msg"] and "Move-CsManagementServer" in out["msg"]
    assert writes(lab) == before
