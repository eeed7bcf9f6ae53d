"""Phases 4 and 5 modules against a fake Lync server at the session boundary: what each one plans, runs, refuses
and returns (cs_topology_federation, cs_management_store_replication, cs_legacy_topology_merge,
cs_legacy_configuration_import, cs_conference_directory)."""

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.lync.migration.plugins.module_utils.lync import topology
from ansible_collections.lync.migration.plugins.modules import (
    cs_conference_directory,
    cs_legacy_configuration_import,
    cs_legacy_topology_merge,
    cs_management_store_replication,
    cs_topology_federation,
)

from fake_lync import FakeCmdletError, FakeLync
from module_runner import run_module

READS = ("Get-", "Test-")
EDGE = "ocs-edge01.contoso.net"
PILOT = "pool02.contoso.net"


def lab_topology_xml(stage):
    """The published topology of the lab's contoso-small just before `stage` (4: pilot only, 5: merged)."""
    from lync_lab.model import topology, topology_xml
    from lync_lab.model.scenario import load_scenario

    return topology_xml.to_xml(topology.topology_for_stage(load_scenario("contoso-small"), stage))


class FakeServer(FakeLync):
    """A CMS with one topology document, a file system, replicas and conference directories."""

    def __init__(self, topology_xml=None):
        super().__init__([], [])
        self.topology = topology_xml
        self.files = {}
        self.replicas = {"lync-fe01.contoso.net": True}
        self.reads_until_up_to_date = 0
        self.confdirs = []
        self.legacy_copies = {}          # (cmdlet, identity) -> object
        self.legacy_side = {}            # what Import-CsLegacyConfiguration brings over
        self.merge_result = None

    def writes(self):
        return [c for c, _p in self.calls if not c.startswith(READS)]

    def run(self, cmdlet, params):
        self.calls.append((cmdlet, dict(params)))
        if cmdlet == "Get-CsTopology":
            if self.topology is None:
                raise FakeCmdletError("No topology has been published", "ObjectNotFound")
            return [self.topology]
        if cmdlet == "Set-Content":
            self.files[params["Path"]] = params["Value"] + "\r\n"
            return []
        if cmdlet == "Get-Content":
            if params["Path"] not in self.files:
                raise FakeCmdletError("Cannot find path '%s' because it does not exist." % params["Path"],
                                      "ObjectNotFound")
            return [self.files[params["Path"]]]
        if cmdlet == "Publish-CsTopology":
            self.topology = self.files[params["FileName"]]
            self.files[params["Report"]] = "<DeploymentReport Cmdlet=\"Publish-CsTopology\" Status=\"Success\"/>"
            for r in self.replicas:
                self.replicas[r] = False
            return []
        if cmdlet == "Enable-CsTopology":
            self.files[params["Report"]] = "<DeploymentReport Cmdlet=\"Enable-CsTopology\" Status=\"Success\"/>"
            return []
        if cmdlet == "Get-CsManagementStoreReplicationStatus":
            if self.reads_until_up_to_date == 0 and self._invoked():
                self.replicas = dict((r, True) for r in self.replicas)
            self.reads_until_up_to_date = max(0, self.reads_until_up_to_date - 1)
            return [{"ReplicaFqdn": r, "UpToDate": ok} for r, ok in sorted(self.replicas.items())]
        if cmdlet == "Invoke-CsManagementStoreReplication":
            return []
        if cmdlet == "Merge-CsLegacyTopology":
            self.files[params["TopologyXmlFileName"]] = self.merge_result
            self.files[params["Report"]] = "merged"
            return []
        if cmdlet == "Get-CsConferenceDirectory":
            return [{"Identity": d[0], "ServiceId": "UserServer:" + d[1]} for d in self.confdirs]
        if cmdlet == "Import-CsLegacyConferenceDirectory":
            self.confdirs.append(("3", "pool01.contoso.net"))
            self.files[params["Report"]] = "imported"
            return []
        if cmdlet.startswith("Get-Cs") and "Identity" in params:
            key = (cmdlet, params["Identity"])
            if key not in self.legacy_copies:
                raise FakeCmdletError("Cannot get \"%s\" because it does not exist." % params["Identity"],
                                      "InvalidData")
            return [self.legacy_copies[key]]
        if cmdlet == "Import-CsLegacyConfiguration":
            if params.get("ReplaceExisting"):
                self.legacy_copies.update(self.legacy_side)
            else:
                for k, v in self.legacy_side.items():
                    self.legacy_copies.setdefault(k, v)
            self.files[params["Report"]] = "imported"
            return []
        return super().run(cmdlet, params)

    def _invoked(self):
        return any(c == "Invoke-CsManagementStoreReplication" for c, _p in self.calls)


def canonical(text):
    return ET.canonicalize(xml_data=text, strip_text=True)


def site_route(xml_text):
    ns = {"t": topology.NS}
    root = ET.fromstring(xml_text.encode())
    return root.findall("t:FederationRoutes/t:SiteFederationRoute", ns)


# -- cs_topology_federation ---------------------------------------------------------------------------------

P51 = {"federation_route": EDGE, "pool": PILOT, "media_edge": EDGE, "work_dir": "C:\\Work"}


def test_federation_check_mode_plans_the_publish_and_writes_nothing(monkeypatch):
    server = FakeServer(lab_topology_xml(5))
    out = run_module(cs_topology_federation, P51, server, check_mode=True, diff=True, monkeypatch=monkeypatch)
    assert out["changed"] is True
    assert server.writes() == []
    assert [c.split()[0] for c in out["cmdlets"]] == ["Set-Content", "Publish-CsTopology", "Enable-CsTopology"]
    assert "-FileName C:\\Work\\FederationTopology.xml" in out["cmdlets"][1]
    assert out["diff"]["before"]["federation_route"] is None
    assert out["diff"]["after"]["federation_route"] == EDGE
    assert out["diff"]["after"]["media_edges"][PILOT] == EDGE


def test_federation_publishes_the_edited_document_from_a_file_then_changes_nothing(monkeypatch):
    server = FakeServer(lab_topology_xml(5))
    out = run_module(cs_topology_federation, P51, server, monkeypatch=monkeypatch)
    assert out["changed"] is True, out
    assert server.writes() == ["Set-Content", "Publish-CsTopology", "Enable-CsTopology"]
    published = dict(server.calls)["Publish-CsTopology"]
    assert published["FileName"] == "C:\\Work\\FederationTopology.xml"
    assert "Document" not in published      # -Document is an XElement, not a string
    assert len(site_route(server.topology)) == 1
    assert out["federation_route"] == EDGE and out["media_edges"][PILOT] == EDGE
    assert set(out["reports"]) == {"Publish-CsTopology", "Enable-CsTopology"}
    assert EDGE in out["backcompat_pools"] and "pool01.contoso.net" in out["backcompat_pools"]

    server.calls.clear()
    again = run_module(cs_topology_federation, P51, server, monkeypatch=monkeypatch)
    assert again["changed"] is False and again["cmdlets"] == []
    assert server.writes() == []


def test_federation_document_matches_what_the_lab_seeds_after_phase5(monkeypatch):
    server = FakeServer(lab_topology_xml(5))
    run_module(cs_topology_federation, P51, server, monkeypatch=monkeypatch)
    assert canonical(server.topology) == canonical(lab_topology_xml(6))


def test_federation_refuses_an_edge_not_merged_for_federation_naming_phase4(monkeypatch):
    text = lab_topology_xml(5).replace('FederationEnabled="true"', 'FederationEnabled="false"')
    server = FakeServer(text)
    out = run_module(cs_topology_federation, P51, server, monkeypatch=monkeypatch)
    assert out["failed"] is True
    assert "not enabled for federation" in out["msg"] and "Phase 4" in out["msg"]
    assert server.writes() == []


@pytest.mark.parametrize("args, fragment", [
    ({"federation_route": "nosuch.contoso.net"}, "neither an Edge pool nor a Director"),
    ({"pool": "pool09.contoso.net", "media_edge": EDGE}, "pool pool09.contoso.net is not a Front End pool"),
    ({"pool": PILOT, "media_edge": "pool01.contoso.net"}, "is not an Edge pool"),
    ({"site": "Dallas", "federation_route": EDGE}, "no central site named Dallas"),
])
def test_federation_refuses_targets_the_topology_lacks(monkeypatch, args, fragment):
    server = FakeServer(lab_topology_xml(5))
    out = run_module(cs_topology_federation, args, server, monkeypatch=monkeypatch)
    assert out["failed"] is True and fragment in out["msg"], out["msg"]
    assert server.writes() == []


def test_federation_empty_route_removes_it(monkeypatch):
    server = FakeServer(lab_topology_xml(6))
    out = run_module(cs_topology_federation, {"federation_route": ""}, server, monkeypatch=monkeypatch)
    assert out["changed"] is True and out["federation_route"] is None
    assert site_route(server.topology) == []
    assert out["media_edges"][PILOT] == EDGE       # the media association was not asked about


def test_federation_without_a_published_topology_fails_with_the_servers_message(monkeypatch):
    server = FakeServer(None)
    out = run_module(cs_topology_federation, P51, server, monkeypatch=monkeypatch)
    assert out["failed"] is True and "No topology has been published" in out["msg"]
    assert server.writes() == []


# -- cs_management_store_replication ------------------------------------------------------------------------

def test_replication_up_to_date_invokes_nothing(monkeypatch):
    server = FakeServer()
    out = run_module(cs_management_store_replication, {}, server, monkeypatch=monkeypatch)
    assert out["changed"] is False and out["stale_before"] == [] and server.writes() == []


def test_replication_stale_invokes_and_waits_until_up_to_date(monkeypatch):
    server = FakeServer()
    server.replicas = {"lync-fe01.contoso.net": False, "lync-edge01.contoso.net": True}
    server.reads_until_up_to_date = 2
    monkeypatch.setattr(cs_management_store_replication.time, "sleep", lambda s: None)
    out = run_module(cs_management_store_replication, {"interval": 1, "timeout": 60}, server, monkeypatch=monkeypatch)
    assert out["changed"] is True and out["stale_before"] == ["lync-fe01.contoso.net"]
    assert server.writes() == ["Invoke-CsManagementStoreReplication"]
    assert all(out["replicas"].values())


def test_replication_check_mode_reports_stale_without_invoking(monkeypatch):
    server = FakeServer()
    server.replicas = {"lync-fe01.contoso.net": False}
    out = run_module(cs_management_store_replication, {}, server, check_mode=True, monkeypatch=monkeypatch)
    assert out["changed"] is True and server.writes() == []


def test_replication_timeout_names_the_replicas_behind(monkeypatch):
    server = FakeServer()
    server.replicas = {"lync-fe01.contoso.net": False}
    server.reads_until_up_to_date = 1000
    monkeypatch.setattr(cs_management_store_replication.time, "sleep", lambda s: None)
    out = run_module(cs_management_store_replication, {"interval": 5, "timeout": 4}, server, monkeypatch=monkeypatch)
    assert out["failed"] is True
    assert "lync-fe01.contoso.net" in out["msg"] and "4 seconds" in out["msg"]


# -- cs_legacy_topology_merge --------------------------------------------------------------------------------

LEGACY_EDGE = {"internal_fqdn": EDGE, "access_edge_fqdn": "sip.contoso.net", "webconf_edge_fqdn": "webconf.contoso.net",
               "av_edge_fqdn": "av.contoso.net", "next_hop_fqdn": "pool01.contoso.net", "federation": True}


def test_merge_refuses_an_expanded_edge_before_reading_anything(monkeypatch):
    server = FakeServer(lab_topology_xml(4))
    edge = dict(LEGACY_EDGE, edge_type="ExpandedEdge")
    out = run_module(cs_legacy_topology_merge, {"edges": [edge], "legacy_pools": ["pool01.contoso.net"]}, server,
                     monkeypatch=monkeypatch)
    assert out["failed"] is True and "Expanded Edge is not supported" in out["msg"] and EDGE in out["msg"]
    assert server.calls == []


def test_merge_refuses_two_federating_edges(monkeypatch):
    server = FakeServer(lab_topology_xml(4))
    second = dict(LEGACY_EDGE, internal_fqdn="ocs-edge02.contoso.net")
    out = run_module(cs_legacy_topology_merge, {"edges": [LEGACY_EDGE, second]}, server, monkeypatch=monkeypatch)
    assert out["failed"] is True and "only one Edge" in out["msg"]


def test_merge_is_a_no_op_when_backcompat_site_matches(monkeypatch):
    server = FakeServer(lab_topology_xml(5))
    out = run_module(cs_legacy_topology_merge, {"edges": [LEGACY_EDGE], "legacy_pools": ["pool01.contoso.net"]},
                     server, monkeypatch=monkeypatch)
    assert out["changed"] is False and out["commands"] == [] and server.writes() == []


def test_merge_check_mode_plans_and_runs_nothing(monkeypatch):
    server = FakeServer(lab_topology_xml(4))
    out = run_module(cs_legacy_topology_merge, {"edges": [LEGACY_EDGE], "legacy_pools": ["pool01.contoso.net"]},
                     server, check_mode=True, monkeypatch=monkeypatch)
    assert out["changed"] is True and server.writes() == []
    planned = [c.split()[0] for c in out["commands"]]
    assert planned == ["Set-Content", "Merge-CsLegacyTopology", "Publish-CsTopology", "Enable-CsTopology"]


def test_merge_publishes_the_merged_document_and_verifies_backcompat_site(monkeypatch):
    server = FakeServer(lab_topology_xml(4))
    server.merge_result = lab_topology_xml(5)
    out = run_module(cs_legacy_topology_merge, {"edges": [LEGACY_EDGE], "legacy_pools": ["pool01.contoso.net"]},
                     server, monkeypatch=monkeypatch)
    assert out["changed"] is True and out["merged"] is True, out
    assert server.writes() == ["Set-Content", "Merge-CsLegacyTopology", "Publish-CsTopology", "Enable-CsTopology"]
    assert "pool01.contoso.net" in out["backcompat"]["pools"] and out["backcompat"]["edges"][EDGE]["federation"]


def test_merge_fails_when_the_published_topology_lacks_a_legacy_pool(monkeypatch):
    server = FakeServer(lab_topology_xml(4))
    # The OCS side the merge read no longer has pool01 (say it was decommissioned meanwhile).
    server.merge_result = lab_topology_xml(5).replace('Fqdn="pool01.contoso.net"', 'Fqdn="pool07.contoso.net"')
    out = run_module(cs_legacy_topology_merge, {"edges": [LEGACY_EDGE], "legacy_pools": ["pool01.contoso.net"]},
                     server, monkeypatch=monkeypatch)
    assert out["failed"] is True and "lacks pool01.contoso.net" in out["msg"], out


def test_merge_publishes_nothing_when_the_merge_gives_the_published_document_again(monkeypatch):
    server = FakeServer(lab_topology_xml(4))
    server.merge_result = lab_topology_xml(4)
    out = run_module(cs_legacy_topology_merge, {"edges": [LEGACY_EDGE], "legacy_pools": ["pool01.contoso.net"]},
                     server, monkeypatch=monkeypatch)
    assert out["merged"] is False and out["changed"] is False
    assert server.writes() == ["Set-Content", "Merge-CsLegacyTopology"]


def test_edge_input_document_is_microsofts_custom_edge_input_file_with_values_escaped():
    """The custom Edge Server input file as Microsoft documents it (Lync Server 2010 "Create a Custom Edge Server
    Input File", gg398097): EdgeCluster AP/MR/DP/Version, LoadBalancer, Machines/Machine, Ports,
    DirectorOrEdgeNextHop."""
    edge = dict(LEGACY_EDGE, edge_type="SingleEdgeServer", webconf_edge_fqdn='web"&<x>.contoso.net', machines=None,
                internal_webconf_port=8057, external_webconf_port=443, version="OCS2007R2")
    text = cs_legacy_topology_merge.user_input_document([edge], 5061)
    ns = "{%s}" % cs_legacy_topology_merge.INPUT_NS
    root = ET.fromstring(text.encode())
    assert root.tag == ns + "TopologyInput"
    cluster = root.find("%sEdgeClusters/%sEdgeCluster" % (ns, ns))
    assert {k: cluster.get(k) for k in ("AP", "MR", "DP", "Version", "FederationEnabled")} == {
        "AP": "true", "MR": "true", "DP": "true", "Version": "OCS2007R2", "FederationEnabled": "true"}
    lb = cluster.find(ns + "LoadBalancer")
    assert lb.get("InternalFqdn") == EDGE and lb.get("ExternalDPFqdn") == 'web"&<x>.contoso.net'
    assert [m.get("InternalFqdn") for m in cluster.find(ns + "Machines")] == [EDGE]
    assert cluster.find(ns + "Ports").attrib == {"InternalAPPort": "5061", "InternalDPPort": "8057",
                                                 "ExternalDPPort": "443"}
    assert cluster.find(ns + "DirectorOrEdgeNextHop").get("Fqdn") == "pool01.contoso.net"
    assert "sip.contoso.net" not in text      # the file has no place for the Access Edge's external FQDN


# -- cs_legacy_configuration_import --------------------------------------------------------------------------

EXPECTED = [{"cmdlet": "Get-CsConferencingPolicy", "identity": "Tag:Default Policy"},
            {"cmdlet": "Get-CsDialPlan", "identity": "Tag:Redmond"}]
LEGACY = {("Get-CsConferencingPolicy", "Tag:Default Policy"): {"Identity": "Tag:Default Policy", "AllowIPVideo": True},
          ("Get-CsDialPlan", "Tag:Redmond"): {"Identity": "Tag:Redmond", "Description": "Redmond"}}


def test_import_runs_when_a_copy_is_missing_and_verifies_them(monkeypatch):
    server = FakeServer()
    server.legacy_side = dict(LEGACY)
    out = run_module(cs_legacy_configuration_import, {"expected": EXPECTED}, server, monkeypatch=monkeypatch)
    assert out["changed"] is True and out["imported"] is True and out["replaced"] is False
    assert len(out["missing_before"]) == 2
    assert server.writes() == ["Import-CsLegacyConfiguration"]
    assert "ReplaceExisting" not in dict(server.calls)["Import-CsLegacyConfiguration"]

    server.calls.clear()
    again = run_module(cs_legacy_configuration_import, {"expected": EXPECTED}, server, monkeypatch=monkeypatch)
    assert again["changed"] is False and server.writes() == []
    assert again["fingerprint"] == out["fingerprint"]


def test_import_check_mode_imports_nothing(monkeypatch):
    server = FakeServer()
    out = run_module(cs_legacy_configuration_import, {"expected": EXPECTED}, server, check_mode=True,
                     monkeypatch=monkeypatch)
    assert out["changed"] is True and server.writes() == []


def test_import_fails_when_copies_stay_missing(monkeypatch):
    server = FakeServer()   # the legacy side has nothing to import (OCSWMIBC missing, say)
    out = run_module(cs_legacy_configuration_import, {"expected": EXPECTED}, server, monkeypatch=monkeypatch)
    assert out["failed"] is True and "still missing" in out["msg"] and "Tag:Redmond" in out["msg"]


def test_replace_existing_needs_the_baseline_and_refuses_edited_copies(monkeypatch):
    server = FakeServer()
    server.legacy_copies = dict(LEGACY)
    out = run_module(cs_legacy_configuration_import, {"expected": EXPECTED, "replace_existing": True}, server,
                     monkeypatch=monkeypatch)
    assert out["failed"] is True and "baseline_fingerprint" in out["msg"]

    out = run_module(cs_legacy_configuration_import, {"expected": EXPECTED, "replace_existing": True,
                                                      "baseline_fingerprint": "0" * 64}, server, monkeypatch=monkeypatch)
    assert out["failed"] is True and "changed since the last import" in out["msg"]
    assert server.writes() == []


def test_replace_existing_with_the_right_baseline_overwrites(monkeypatch):
    server = FakeServer()
    server.legacy_copies = dict(LEGACY)
    server.legacy_side = {k: dict(v, Description="changed on OCS") for k, v in LEGACY.items()}
    first = run_module(cs_legacy_configuration_import, {"expected": EXPECTED}, server, monkeypatch=monkeypatch)
    out = run_module(cs_legacy_configuration_import, {"expected": EXPECTED, "replace_existing": True,
                                                      "baseline_fingerprint": first["fingerprint"]}, server,
                     monkeypatch=monkeypatch)
    assert out["changed"] is True and out["replaced"] is True
    assert dict(server.calls)["Import-CsLegacyConfiguration"]["ReplaceExisting"] is True
    assert out["fingerprint"] != first["fingerprint"]


# -- cs_conference_directory ---------------------------------------------------------------------------------

def test_conference_directory_import_only_when_no_legacy_directory_is_listed(monkeypatch):
    server = FakeServer()
    args = {"legacy_pools": ["pool01.contoso.net"], "import_legacy": True}
    plan = run_module(cs_conference_directory, args, server, check_mode=True, monkeypatch=monkeypatch)
    assert plan["changed"] is True and server.writes() == []

    out = run_module(cs_conference_directory, args, server, monkeypatch=monkeypatch)
    assert out["changed"] is True and out["legacy_directories"] == ["3"]
    assert server.writes() == ["Import-CsLegacyConferenceDirectory"]

    server.calls.clear()
    again = run_module(cs_conference_directory, args, server, monkeypatch=monkeypatch)
    assert again["changed"] is False and server.writes() == []
