"""The modules against a lab server that plays a French Windows (scenario `culture: fr-FR`, lync_lab.localisation).

Each case the collection used to recognise by its English message is classified correctly when the message comes
in French: the modules go by the FullyQualifiedErrorId, category and exception type, which PowerShell does not
localise (docs/localisation.md lists the cases and where the identifiers come from).
"""

import pytest
import yaml

from ansible_collections.lync.migration.plugins.modules import (
    cs_legacy_configuration_import,
    cs_topology,
    cs_user_info,
    cs_winevent_info,
    cs_wmi_info,
)

from module_runner import run_module

lync_lab = pytest.importorskip("lync_lab")

PASSWORD = "Lab-Passw0rd!"


def french_scenario(path):
    from lync_lab.model.scenario import SCENARIO_DIR

    raw = yaml.safe_load((SCENARIO_DIR / "contoso-small.yml").read_text(encoding="utf-8"))
    for server in raw["servers"]:
        server["culture"] = "fr-FR"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _second_sara_davis(tx):
    """Two users named Sara Davis, so that the display name is ambiguous."""
    from lync_lab.model import users as U

    doc = dict(tx.get("user", "sdavis"))
    doc.update(SamAccountName="sdavis2", SipAddress="sip:sara.davis2@contoso.net",
               UserPrincipalName="sara.davis2@contoso.net",
               DistinguishedName="CN=Sara Davis,OU=Sales,OU=Contoso,DC=contoso,DC=net")
    U.put_user(tx, doc, "CONTOSO")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """contoso-small at stage 6 in French, with the double hop on (sessions pass -Credential unless a test wants
    the double hop's error)."""
    from lync_lab.instance import LabInstance

    root = tmp_path_factory.mktemp("lab-fr")
    instance = LabInstance(root / "state", scenario=french_scenario(root / "contoso-fr.yml"), stage=6,
                           double_hop=True, log=root / "lab.log")
    instance.seed(_second_sara_davis)
    instance.start(keep=True)
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="module")
def lab_without_topology(tmp_path_factory):
    """Phase 3 in French after the Lync Server 2013 Core Components are on lync-fe01 (P3.2), before any publish."""
    from lync_lab.perform.servers import install_core
    from lync_lab.instance import LabInstance

    root = tmp_path_factory.mktemp("lab-fr-3")
    instance = LabInstance(root / "state", scenario=french_scenario(root / "contoso-fr.yml"), stage=3,
                           log=root / "lab.log")
    instance.seed(lambda tx: install_core(tx, "lync-fe01.contoso.net"))
    instance.start(keep=True)
    try:
        yield instance
    finally:
        instance.stop()


def connection(instance, credential=True):
    return {"server": "127.0.0.1", "port": instance.http_port, "scheme": "http", "username": "CONTOSO\\lyncadmin",
            "password": PASSWORD, "cmdlet_credential": credential}


def last_error(instance, cmdlet):
    return next(e for e in reversed(instance.audit()) if e["cmdlet"] == cmdlet and e.get("error"))["error"]


def test_user_not_found_and_ambiguous(lab, monkeypatch):
    out = run_module(cs_user_info, {"identities": ["David Pelton", "Nobody Here", "Sara Davis"]}, None,
                     monkeypatch=monkeypatch, connection=connection(lab))
    assert not out.get("failed"), out.get("msg")
    assert [u["identity"] for u in out["users"]] == ["David Pelton"]
    assert out["not_found"] == ["Nobody Here"]
    assert [a["identity"] for a in out["ambiguous"]] == ["Sara Davis"]
    # The server did answer in French.
    assert last_error(lab, "Get-CsUser")["message"].startswith('"Sara Davis" est ambigu')


def test_winevent_no_events(lab, monkeypatch):
    out = run_module(cs_winevent_info, {"log_name": "Lync Server", "provider_name": "LS User Replicator",
                                        "event_id": [99999], "max_events": 1}, None,
                     monkeypatch=monkeypatch, connection=connection(lab))
    assert not out.get("failed"), out.get("msg")
    assert out["count"] == 0 and out["events"] == []
    assert last_error(lab, "Get-WinEvent")["message"].startswith("Aucun événement")


def test_wmi_missing_class(lab, monkeypatch):
    out = run_module(cs_wmi_info, {"classes": ["MSFT_SIPPoolSetting", "MSFT_NoSuchClass"]}, None,
                     monkeypatch=monkeypatch, connection=connection(lab))
    assert not out.get("failed"), out.get("msg")
    assert out["missing"] == ["MSFT_NoSuchClass"] and out["counts"]["MSFT_SIPPoolSetting"] >= 1
    assert last_error(lab, "Get-WmiObject")["message"] == 'Classe non valide "MSFT_NoSuchClass"'


def test_missing_imported_policy(lab, monkeypatch):
    args = {"expected": [{"cmdlet": "Get-CsConferencingPolicy", "identity": "Tag:NoSuchPolicy"}],
            "report_path": "C:\\LyncMigration\\import.html"}
    out = run_module(cs_legacy_configuration_import, args, None, check_mode=True, monkeypatch=monkeypatch,
                     connection=connection(lab))
    assert not out.get("failed"), out.get("msg")
    assert out["missing_before"] == ["Get-CsConferencingPolicy Tag:NoSuchPolicy"]
    assert "does not exist" not in last_error(lab, "Get-CsConferencingPolicy")["message"]


def test_double_hop_hint(lab, monkeypatch):
    out = run_module(cs_user_info, {"identities": ["David Pelton"]}, None, monkeypatch=monkeypatch,
                     connection=connection(lab, credential=False))
    assert out.get("failed")
    assert "double hop" in out["msg"]                       # the hint, from the 000004DC code the DC sent
    assert "Échec de l'opération Active Directory" in out["msg"]


def test_topology_first_publish_without_cms(lab_without_topology, monkeypatch):
    document = ('<Topology xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008">'
                '<InternalDomains AllowAllDomains="false" DefaultDomain="contoso.net"/></Topology>')
    out = run_module(cs_topology, {"document": document}, None, check_mode=True, monkeypatch=monkeypatch,
                     connection=connection(lab_without_topology))
    assert not out.get("failed"), out.get("msg")
    assert out["first_topology"] is True and out["changed"] is True
    message = last_error(lab_without_topology, "Get-CsTopology")["message"]
    assert "Central Management store" not in message and message.startswith("Active Directory ne contient pas")
