"""Phases 7-10 modules against a fake Lync server at the session boundary: what each plans, runs, refuses and
returns (cs_edge_pool, cs_backcompat_site, cs_access_edge_configuration, cs_web_service_configuration,
cs_server_service, cs_legacy_object_move, cs_configuration_export)."""

import copy
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.lync.migration.plugins.modules import (
    cs_access_edge_configuration,
    cs_backcompat_site,
    cs_configuration_export,
    cs_edge_pool,
    cs_legacy_object_move,
    cs_server_service,
    cs_web_service_configuration,
)

from fake_lync import FakeCmdletError, FakeLync
from module_runner import run_module

NS = "{urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008}"
SR = "{urn:schema:Microsoft.Rtc.Management.Deploy.ServiceRoles.2008}"
LEGACY, PILOT = "pool01.contoso.net", "pool02.contoso.net"
EDGE = dict(fqdn="edgepool02.contoso.net", machines=["lync-edge01.contoso.net"], access_edge="sip2.contoso.net",
            webconf_edge="webconf2.contoso.net", av_edge="av2.contoso.net", next_hop=PILOT)


def lab_topology_xml(stage):
    from lync_lab.model import topology, topology_xml
    from lync_lab.model.scenario import load_scenario

    return topology_xml.to_xml(topology.topology_for_stage(load_scenario("contoso-small"), stage))


class FakeServer(FakeLync):
    def __init__(self, topology_xml=None):
        super().__init__([], [])
        self.topology = topology_xml
        self.config = {"AccessEdgeConfiguration": {"Identity": "Global", "AllowFederatedUsers": False,
                                                   "AllowOutsideUsers": False, "AllowAnonymousUsers": True,
                                                   "EnablePartnerDiscovery": False},
                       "WebServiceConfiguration": {"Identity": "Global", "ShowJoinUsingLegacyClientLink": False,
                                                   "ShowAlternateJoinOptionsExpanded": False}}
        self.ignore_set = False
        self.services = {"RTCSRV": {"Name": "RTCSRV", "DisplayName": "Office Communications Server Access Edge",
                                    "Status": "Running", "StartType": "Automatic"}}
        self.endpoints = [{"SipAddress": "sip:helpdesk@contoso.net", "RegistrarPool": LEGACY, "OwnerUrn": "urn:application:Rgs"},
                          {"SipAddress": "sip:dialin@contoso.net", "RegistrarPool": LEGACY, "OwnerUrn": "urn:application:Caa"}]
        self.exum = [{"Identity": "CN={1}", "SipAddress": "sip:aa@contoso.net", "RegistrarPool": LEGACY},
                     {"Identity": "CN={2}", "SipAddress": "sip:sa@contoso.net", "RegistrarPool": PILOT}]
        self.confdirs = [{"Identity": "3", "ServiceId": "UserServer:" + LEGACY}]
        self.rgs = {LEGACY: ["Help Desk"], PILOT: []}
        self.fail_next_confdir_moves = 0

    def writes(self):
        return [c for c, _p in self.calls if not c.startswith(("Get-", "Test-"))]

    def run(self, cmdlet, params):
        self.calls.append((cmdlet, copy.deepcopy(params)))
        noun = cmdlet.split("-Cs", 1)[-1]
        if cmdlet == "Get-CsTopology":
            return [self.topology]
        if cmdlet == "Publish-CsTopology":
            ET.fromstring(params["Document"])   # a well-formed document, or the test fails here
            self.topology = params["Document"]
            return []
        if cmdlet == "Enable-CsTopology":
            return []
        if cmdlet.startswith("Get-Cs") and noun in self.config:
            return [dict(self.config[noun])]
        if cmdlet.startswith("Set-Cs") and noun in self.config:
            if not self.ignore_set:
                self.config[noun].update((k, v) for k, v in params.items() if k != "Identity")
            return []
        if cmdlet == "Get-Service":
            if params["Name"] not in self.services:
                raise FakeCmdletError("Cannot find any service with service name '%s'." % params["Name"],
                                      "ObjectNotFound")
            return [dict(self.services[params["Name"]])]
        if cmdlet == "Get-WmiObject" and params.get("Class") == "Win32_Service":
            # Win32_Service.StartMode: Auto, Manual, Disabled (what WMI reports on every .NET version)
            return [{"Name": n, "StartMode": {"Automatic": "Auto"}.get(v["StartType"], v["StartType"])}
                    for n, v in self.services.items()]
        if cmdlet == "Set-Service":
            self.services[params["Name"]]["StartType"] = params["StartupType"]
            return []
        if cmdlet == "Stop-Service":
            self.services[params["Name"]]["Status"] = "Stopped"
            return []
        if cmdlet == "Get-CsTrustedApplicationEndpoint":
            return [dict(e) for e in self.endpoints]
        if cmdlet == "Get-CsDialInConferencingAccessNumber":
            return [{"PrimaryUri": e["SipAddress"], "Pool": e["RegistrarPool"]} for e in self.endpoints
                    if e["OwnerUrn"] == "urn:application:Caa"]
        if cmdlet == "Move-CsApplicationEndpoint":
            next(e for e in self.endpoints if e["SipAddress"] == params["Identity"])["RegistrarPool"] = \
                params["TargetApplicationPool"]
            return []
        if cmdlet == "Get-CsExUmContact":
            return [dict(c) for c in self.exum]
        if cmdlet == "Move-CsExUmContact":
            if params.get("Confirm") is not False:
                raise FakeCmdletError("Move-CsExUmContact prompts for confirmation", "InvalidOperation")
            next(c for c in self.exum if c["Identity"] == params["Identity"])["RegistrarPool"] = params["Target"]
            return []
        if cmdlet == "Get-CsConferenceDirectory":
            return [dict(d) for d in self.confdirs]
        if cmdlet == "Export-CsUserData":
            # Export-CsUserData.md: the user data of a Lync Server (Registrar) pool; an OCS 2007 R2 pool is refused.
            if params.get("PoolFqdn") == LEGACY:
                raise FakeCmdletError("Export-CsUserData exports the user data of a Lync Server pool",
                                      "InvalidArgument")
            return []
        if cmdlet == "Move-CsConferenceDirectory":
            if self.fail_next_confdir_moves:
                self.fail_next_confdir_moves -= 1
                raise FakeCmdletError("Insufficient access rights to perform the operation", "PermissionDenied")
            next(d for d in self.confdirs if d["Identity"] == params["Identity"])["ServiceId"] = \
                "UserServer:" + params["TargetPool"]
            return []
        if cmdlet == "Move-CsRgsConfiguration":
            # Move-CsRgsConfiguration.md: -Source and -Destination are pool FQDNs (Example 1).
            src, dst = params["Source"], params["Destination"]
            if ":" in src or ":" in dst:
                raise FakeCmdletError("Cannot find a pool with the fully qualified domain name", "ObjectNotFound")
            self.rgs[dst] = list(self.rgs[src])
            for e in self.endpoints:
                if e["OwnerUrn"] == "urn:application:Rgs" and e["RegistrarPool"] == src:
                    e["RegistrarPool"] = dst
            return []
        if cmdlet in ("Get-CsRgsWorkflow", "Get-CsRgsQueue", "Get-CsRgsAgentGroup"):
            pool = params["Identity"].split(":", 2)[2]
            suffix = {"Get-CsRgsWorkflow": "", "Get-CsRgsQueue": " Queue", "Get-CsRgsAgentGroup": " Agents"}[cmdlet]
            return [{"Name": n + suffix} for n in self.rgs.get(pool, [])]
        if cmdlet in ("Export-CsRgsConfiguration", "Export-CsConfiguration"):
            return []
        raise AssertionError("the fake has no %s" % cmdlet)


def edge_settings(xml, fqdn):
    root = ET.fromstring(xml)
    number = next(c.find(NS + "ClusterId").get("Number") for c in root.find(NS + "Clusters") if c.get("Fqdn") == fqdn)
    for svc in root.find(NS + "Services"):
        on = svc.find(NS + "InstalledOn").find(NS + "ClusterId")
        if on is not None and on.get("Number") == number and on.get("SiteId") == "1":
            return svc.find(SR + "EdgeService")
    return None


# -- cs_edge_pool ---------------------------------------------------------------------------------------------


def test_edge_pool_is_planned_in_check_mode_and_defined_idle_then_left_alone(monkeypatch):
    lync = FakeServer(lab_topology_xml(7))
    out = run_module(cs_edge_pool, EDGE, lync, check_mode=True, monkeypatch=monkeypatch)
    assert out["changed"] and out["created"] and lync.writes() == []
    out = run_module(cs_edge_pool, EDGE, lync, monkeypatch=monkeypatch)
    assert out["changed"] and lync.writes() == ["Publish-CsTopology", "Enable-CsTopology"]
    settings = edge_settings(lync.topology, "edgepool02.contoso.net")
    assert settings.get("FederationEnabled") == "false" and settings.get("NextHopFqdn") == PILOT
    assert out["edge_pool"]["machines"] == ["lync-edge01.contoso.net"] and out["edge_pool"]["federation"] is False
    lync.calls.clear()
    out = run_module(cs_edge_pool, EDGE, lync, monkeypatch=monkeypatch)
    assert not out["changed"] and lync.writes() == []


def test_edge_pool_federation_is_switched_on_and_refused_for_a_second_pool(monkeypatch):
    lync = FakeServer(lab_topology_xml(8))
    out = run_module(cs_edge_pool, {"fqdn": "edgepool02.contoso.net", "federation": True}, lync, monkeypatch=monkeypatch)
    assert out["changed"] and edge_settings(lync.topology, "edgepool02.contoso.net").get("FederationEnabled") == "true"
    second = dict(EDGE, fqdn="edgepool03.contoso.net", machines=["lync-edge02.contoso.net"], federation=True)
    lync.calls.clear()
    out = run_module(cs_edge_pool, second, lync, monkeypatch=monkeypatch)
    assert out.get("failed") and "only one Edge pool" in out["msg"] and lync.writes() == []


def test_edge_pool_refuses_an_undefined_pool_without_its_fqdns_and_a_legacy_edge(monkeypatch):
    lync = FakeServer(lab_topology_xml(7))
    out = run_module(cs_edge_pool, {"fqdn": "edgepool02.contoso.net"}, lync, monkeypatch=monkeypatch)
    assert out.get("failed") and "access_edge, webconf_edge, av_edge, next_hop" in out["msg"]
    out = run_module(cs_edge_pool, {"fqdn": "ocs-edge01.contoso.net", "federation": False}, lync, monkeypatch=monkeypatch)
    assert out.get("failed") and "legacy" in out["msg"] and lync.writes() == []


# -- cs_backcompat_site ---------------------------------------------------------------------------------------


def _empty_backcompat(xml):
    root = ET.fromstring(xml)
    for c in list(root.find(NS + "Clusters")):
        if c.find(NS + "ClusterId").get("SiteId") == "2":
            root.find(NS + "Clusters").remove(c)
    for s in list(root.find(NS + "Services")):
        if s.find(NS + "ServiceId").get("SiteId") == "2":
            root.find(NS + "Services").remove(s)
    routes = root.find(NS + "FederationRoutes")
    if routes is not None:
        root.remove(routes)
    return ET.tostring(root, encoding="unicode")


def test_backcompat_site_is_refused_while_it_lists_servers(monkeypatch):
    lync = FakeServer(lab_topology_xml(10))
    out = run_module(cs_backcompat_site, {}, lync, monkeypatch=monkeypatch)
    assert out.get("failed") and "pool01.contoso.net" in out["msg"] and "ocs-edge01.contoso.net" in out["msg"]
    assert lync.writes() == []


def test_empty_backcompat_site_is_deleted_once(monkeypatch):
    lync = FakeServer(_empty_backcompat(lab_topology_xml(10)))
    out = run_module(cs_backcompat_site, {}, lync, check_mode=True, monkeypatch=monkeypatch)
    assert out["changed"] and lync.writes() == []
    out = run_module(cs_backcompat_site, {}, lync, monkeypatch=monkeypatch)
    assert out["changed"] and out["sites"] == ["Redmond"] and "BackCompatSite" not in lync.topology
    lync.calls.clear()
    assert not run_module(cs_backcompat_site, {}, lync, monkeypatch=monkeypatch)["changed"]
    assert lync.writes() == []


# -- configuration objects ------------------------------------------------------------------------------------


def test_access_edge_changes_only_what_differs_and_checks_the_read_back(monkeypatch):
    lync = FakeServer()
    args = {"allow_federated_users": True, "allow_outside_users": True, "allow_anonymous_users": True}
    out = run_module(cs_access_edge_configuration, args, lync, check_mode=True, diff=True, monkeypatch=monkeypatch)
    assert out["changed"] and lync.writes() == [] and out["diff"]["after"]["allow_federated_users"] is True
    out = run_module(cs_access_edge_configuration, args, lync, monkeypatch=monkeypatch)
    assert [p for c, p in lync.calls if c.startswith("Set-")] == [
        {"Identity": "Global", "AllowFederatedUsers": True, "AllowOutsideUsers": True}]
    assert not run_module(cs_access_edge_configuration, args, lync, monkeypatch=monkeypatch)["changed"]
    lync.config["AccessEdgeConfiguration"]["AllowOutsideUsers"] = False
    lync.ignore_set = True
    out = run_module(cs_access_edge_configuration, args, lync, monkeypatch=monkeypatch)
    assert out.get("failed") and "allow_outside_users did not take the new value" in out["msg"]


def test_join_page_option(monkeypatch):
    lync = FakeServer()
    out = run_module(cs_web_service_configuration, {"show_join_using_legacy_client_link": True}, lync,
                     monkeypatch=monkeypatch)
    assert out["changed"] and lync.config["WebServiceConfiguration"]["ShowJoinUsingLegacyClientLink"] is True


# -- cs_server_service ----------------------------------------------------------------------------------------


def test_legacy_access_edge_is_disabled_then_stopped_and_the_display_name_guards(monkeypatch):
    lync = FakeServer()
    args = {"name": "RTCSRV", "display_name": "Office Communications Server Access Edge", "state": "stopped",
            "start_mode": "disabled"}
    wrong = dict(args, display_name="Lync Server Access Edge")
    out = run_module(cs_server_service, wrong, lync, monkeypatch=monkeypatch)
    assert out.get("failed") and lync.writes() == []
    out = run_module(cs_server_service, args, lync, monkeypatch=monkeypatch)
    assert lync.writes() == ["Set-Service", "Stop-Service"]
    assert out["service"] == {"name": "RTCSRV", "display_name": "Office Communications Server Access Edge",
                              "status": "Stopped", "start_type": "Disabled"}
    lync.calls.clear()
    assert not run_module(cs_server_service, args, lync, monkeypatch=monkeypatch)["changed"] and lync.writes() == []


def test_an_uninstalled_service_counts_as_stopped_but_not_as_started(monkeypatch):
    lync = FakeServer()
    lync.services.clear()
    out = run_module(cs_server_service, {"name": "RTCSRV", "state": "stopped", "start_mode": "disabled"}, lync,
                     monkeypatch=monkeypatch)
    assert not out["changed"] and out["service"]["status"] == "NotInstalled" and lync.writes() == []
    out = run_module(cs_server_service, {"name": "RTCSRV", "state": "started"}, lync, monkeypatch=monkeypatch)
    assert out.get("failed") and "not installed" in out["msg"]


# -- cs_legacy_object_move ------------------------------------------------------------------------------------


def move(kind, lync, monkeypatch, **kw):
    args = dict(object_type=kind, source_pool=LEGACY, target_pool=PILOT)
    args.update(kw)
    return run_module(cs_legacy_object_move, args, lync, monkeypatch=monkeypatch)


def test_um_contacts_on_the_source_move_without_a_prompt(monkeypatch):
    lync = FakeServer()
    out = move("exum_contacts", lync, monkeypatch)
    assert out["moved"] == ["sip:aa@contoso.net"] and out["remaining"] == []
    assert [p for c, p in lync.calls if c == "Move-CsExUmContact"] == [
        {"Identity": "CN={1}", "Target": PILOT, "Confirm": False}]
    lync.calls.clear()
    out = move("exum_contacts", lync, monkeypatch)
    assert not out["changed"] and lync.writes() == []


def test_dial_in_numbers_move_per_sip_uri_and_check_mode_only_reads(monkeypatch):
    lync = FakeServer()
    out = run_module(cs_legacy_object_move, dict(object_type="dial_in_numbers", source_pool=LEGACY, target_pool=PILOT),
                     lync, check_mode=True, monkeypatch=monkeypatch)
    assert out["changed"] and out["moved"] == ["sip:dialin@contoso.net"] and lync.writes() == []
    out = move("dial_in_numbers", lync, monkeypatch)
    assert [p for c, p in lync.calls if c == "Move-CsApplicationEndpoint"] == [
        {"Identity": "sip:dialin@contoso.net", "TargetApplicationPool": PILOT}]


def test_response_groups_move_then_export_and_are_verified(monkeypatch):
    lync = FakeServer()
    out = move("response_groups", lync, monkeypatch)
    assert lync.writes() == ["Move-CsRgsConfiguration", "Export-CsRgsConfiguration"]
    assert [p for c, p in lync.calls if c == "Move-CsRgsConfiguration"] == [{"Source": LEGACY, "Destination": PILOT}]
    assert out["verified"] == {"workflows": ["Help Desk"], "queues": ["Help Desk Queue"],
                               "agent_groups": ["Help Desk Agents"]}
    [backup] = out["backups"]   # a name of this run's: Export-CsRgsConfiguration fails on an existing file
    assert re.fullmatch(r"C:\\LyncMigration\\backup\\rgs-pool01\.contoso\.net-to-pool02\.contoso\.net-\d{8}T\d{6}Z\.zip",
                        backup), backup
    assert [p for c, p in lync.calls if c == "Export-CsRgsConfiguration"] == [
        {"Source": "ApplicationServer:" + PILOT, "FileName": backup}]
    rollback = run_module(cs_legacy_object_move, dict(object_type="rgs_contacts_rollback", source_pool=PILOT,
                                                      target_pool=LEGACY), lync, monkeypatch=monkeypatch)
    assert rollback["moved"] == ["sip:helpdesk@contoso.net"]


def test_conference_directories_are_moved_without_force_and_retried_in_a_new_shell(monkeypatch):
    # No Export-CsUserData of the legacy pool: the cmdlet exports Lync Server pools only (its backup is the OCS
    # back-end backup the decommission role asks for, guided step P10.1-confdir-backup).
    lync = FakeServer()
    lync.fail_next_confdir_moves = 1
    out = move("conference_directories", lync, monkeypatch)
    assert out["moved"] == ["3"] and out["remaining"] == [] and out["backups"] == []
    assert lync.writes() == ["Move-CsConferenceDirectory", "Move-CsConferenceDirectory"]
    assert all("Force" not in p for c, p in lync.calls if c == "Move-CsConferenceDirectory")
    assert lync.shells_opened >= 2


def test_a_directory_that_cannot_move_fails_with_the_server_message(monkeypatch):
    lync = FakeServer()
    lync.fail_next_confdir_moves = 2
    out = move("conference_directories", lync, monkeypatch)
    assert out.get("failed") and "Insufficient access rights" in out["msg"]


def test_configuration_export_runs_only_outside_check_mode(monkeypatch):
    lync = FakeServer()
    run_module(cs_configuration_export, {"file_name": "C:\\x\\edge.zip"}, lync, check_mode=True, monkeypatch=monkeypatch)
    assert lync.writes() == []
    run_module(cs_configuration_export, {"file_name": "C:\\x\\edge.zip"}, lync, monkeypatch=monkeypatch)
    assert lync.calls[-1] == ("Export-CsConfiguration", {"FileName": "C:\\x\\edge.zip", "Force": True})


@pytest.mark.parametrize("module", [cs_edge_pool, cs_backcompat_site, cs_access_edge_configuration,
                                    cs_web_service_configuration, cs_server_service, cs_legacy_object_move,
                                    cs_configuration_export])
def test_documentation_is_complete(module):
    import yaml

    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["module"] == module.__name__.rsplit(".", 1)[-1]
    assert yaml.safe_load(module.EXAMPLES) and yaml.safe_load(module.RETURN)
    assert doc["attributes"]["check_mode"]["support"] == "full"
