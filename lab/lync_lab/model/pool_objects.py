"""Pool-level objects and the CMS-wide settings that go with the topology, and their per-stage seed.

Store kinds (keys lower-cased by the store):
  "confdir"      key the numeric id: {"Identity", "ServiceId", "pool", "imported"}; ``imported`` False means the
                 directory exists only on the OCS side (before Import-CsLegacyConferenceDirectory / the merge)
  "rgs_workflow", "rgs_queue", "rgs_group"  key "<pool>/<name>": Response Group objects per pool's
                 ApplicationServer service; objects on a legacy pool are the OCS copy (not listed by Get-CsRgs*)
  "endpoint"     key SIP address: application contact objects (dial-in conferencing attendant numbers, RGS
                 workflow contacts, trusted application endpoints) with their RegistrarPool
  "exum_contact" key SIP address: Exchange UM contact objects (auto attendant / subscriber access)
  "cmsconfig"    key "<Type>:Global": AccessEdgeConfiguration, WebServiceConfiguration, StaticRoutingConfiguration
  "replica"      key computer FQDN: {"UpToDate", "LastStatusReport", "LastUpdateCreation"}
  meta "adprep": {"schema": bool, "forest": bool, "domains": {fqdn: bool}}
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import uuid
from typing import Any

from .topology import _domain, section_of

SEED_TIME = "2013-06-03T09:00:00"
PRODUCT_VERSION = "5.0.8308.0"


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def stable_guid(*parts: str) -> str:
    """A GUID that is the same for the same object every time the scenario is seeded."""
    return str(uuid.UUID(hashlib.md5("|".join(parts).lower().encode()).hexdigest()))


def domain_dn(domain: str) -> str:
    return ",".join(f"DC={p}" for p in domain.split("."))


def contact_dn(guid: str, domain: str) -> str:
    return f"CN={{{guid}}},CN=Application Contacts,CN=RTC Service,CN=Services,CN=Configuration,{domain_dn(domain)}"


def section_domain(scenario: Any) -> str:
    return _domain(scenario, section_of(scenario))[0]


# ------------------------------------------------------------------------------------------------------
# constructors shared by the seed and the cmdlets


def confdir_doc(ident: int | str, pool: str, imported: bool) -> dict:
    return {"Identity": str(ident), "ServiceId": f"UserServer:{pool}", "pool": pool, "imported": imported}


def endpoint_doc(sip: str, display: str, line_uri: str | None, pool: str, owner_urn: str, domain: str,
                 application_id: str | None = None) -> dict:
    guid = stable_guid("endpoint", sip)
    return {
        "Identity": contact_dn(guid, domain),
        "RegistrarPool": pool,
        "EnterpriseVoiceEnabled": bool(line_uri),
        "HostedVoiceMail": None,
        "LineURI": line_uri,
        "SipAddress": sip,
        "DisplayName": display,
        "DisplayNumber": None,
        "OwnerUrn": owner_urn,
        "ApplicationId": application_id,
        "Enabled": True,
        "Name": "{" + guid + "}",
    }


def exum_doc(sip: str, display: str, kind: str, pool: str, domain: str) -> dict:
    guid = stable_guid("exum", sip)
    return {
        "Identity": f"CN={{{guid}}},CN=Exchange UM Contacts,CN=RTC Service,CN=Services,CN=Configuration,"
                    f"{domain_dn(domain)}",
        "RegistrarPool": pool,
        "HostedVoiceMail": None,
        "LineURI": None,
        "SipAddress": sip,
        "DisplayName": display,
        "DisplayNumber": None,
        "AutoAttendant": kind == "AA",
        "IsSubscriberAccess": kind == "SA",
        "Description": None,
        "Enabled": True,
    }


def rgs_identity(kind: str, pool: str, object_name: str) -> str:
    """The same Response Group object gets the same identity whether seeded or copied by a cmdlet."""
    return f"service:ApplicationServer:{pool}/{stable_guid(kind, pool, object_name)}"


def rgs_docs(rg: dict, pool: str, domain: str) -> list[tuple[str, str, dict]]:
    """The agent group, queue and workflow of one Response Group on ``pool``: (kind, key, doc)."""
    name = rg["name"]
    group_name, queue_name = f"{name} Agents", f"{name} Queue"
    group = {"Identity": rgs_identity("rgs_group", pool, group_name), "Name": group_name, "Description": "",
             "ParticipationPolicy": "Informal", "AgentAlertTime": 20, "RoutingMethod": "LongestIdle",
             "DistributionGroupAddress": None, "AgentsByUri": list(rg.get("agents", [])), "OwnerPool": pool}
    queue = {"Identity": rgs_identity("rgs_queue", pool, queue_name), "Name": queue_name, "Description": "",
             "TimeoutThreshold": None, "OverflowThreshold": None, "AgentGroupIDList": [group["Identity"]],
             "OwnerPool": pool}
    wf = {"Identity": rgs_identity("rgs_workflow", pool, name), "Name": name, "Description": "",
          "PrimaryUri": rg["sip_address"], "LineUri": rg.get("line_uri"), "DisplayNumber": None, "Active": True,
          "Anonymous": False, "DefaultAction": f"TransferToQueue {queue['Identity']}", "Language": "en-US",
          "TimeZone": "Pacific Standard Time", "OwnerPool": pool}
    return [("rgs_group", f"{pool}/{group_name}", group), ("rgs_queue", f"{pool}/{queue_name}", queue),
            ("rgs_workflow", f"{pool}/{name}", wf)]


# The defaults office-docs-powershell Set-CsAccessEdgeConfiguration.md gives for each parameter
# (AllowAnonymousUsers False, AllowFederatedUsers False, AllowOutsideUsers True, EnableUserReplicator False).
ACCESS_EDGE_DEFAULT = {
    "Identity": "Global",
    "AllowAnonymousUsers": False,
    "AllowFederatedUsers": False,
    "AllowOutsideUsers": True,
    "BeClearingHouse": False,
    "EnablePartnerDiscovery": False,
    "DiscoveredPartnerVerificationLevel": "UseSourceVerification",
    "EnableArchivingDisclaimer": False,
    "EnableUserReplicator": False,
    "KeepCrlsUpToDateForPeers": True,
    "MarkSourceVerifiableOnOutgoingMessages": True,
    "OutgoingTlsCountForFederatedPartners": 4,
    "RoutingMethod": "UseDnsSrvRouting",
    "DefaultRouteFqdn": None,
    "IsPublicProvider": False,
    "VerificationLevel": None,
}
WEB_SERVICE_DEFAULT = {
    "Identity": "Global",
    # Set-CsWebServiceConfiguration.md lists Negotiate, NTLM and None; the default is not stated (assumed Negotiate).
    "UseWindowsAuth": "Negotiate",
    "UseCertificateAuth": True,
    "UsePinAuth": True,
    "AllowAnonymousAccessToLWAConference": True,
    "ShowJoinUsingLegacyClientLink": False,
    "ShowDownloadCommunicatorAttendeeLink": True,
    "ShowAlternateJoinOptionsExpanded": False,
    "EnableGroupExpansion": True,
    "MaxGroupSizeToExpand": 100,
    "AutoLaunchLyncWebAccess": True,   # Set-CsWebServiceConfiguration.md: "The default value is True."
}
STATIC_ROUTING_DEFAULT = {"Identity": "Global", "Route": []}


def cms_config(tx: Any, name: str) -> dict | None:
    return tx.get("cmsconfig", f"{name}:Global")


def put_cms_config(tx: Any, name: str, doc: dict) -> None:
    tx.put("cmsconfig", f"{name}:Global", doc)


# ------------------------------------------------------------------------------------------------------
# replication


def replica_fqdns(topo: Any) -> list[str]:
    """Every computer that holds a replica of the CMS: the machines of the central sites' clusters that require
    replication (Front Ends, Edges, Mediation...), not the SQL or file servers nor BackCompatSite."""
    out: list[str] = []
    for c in topo.clusters:
        site = topo.site(c.site_id)
        if site is None or site.backcompat or not c.requires_replication:
            continue
        if all(s.sql_instance for s in topo.services_on(c)):   # a SQL store cluster holds no replica
            continue
        for m in c.machines:
            if m.lower() not in (x.lower() for x in out):
                out.append(m)
    return out


def mark_replicas(tx: Any, fqdns: list[str], up_to_date: bool, when: str) -> None:
    for f in fqdns:
        doc = tx.get("replica", f) or {}
        doc.update({"UpToDate": up_to_date, "LastStatusReport": when if up_to_date else doc.get("LastStatusReport"),
                    "LastUpdateCreation": when})
        tx.put("replica", f, doc)


# ------------------------------------------------------------------------------------------------------
# per-stage seed


def seed_stage(tx: Any, scenario: Any, stage: int, topo: Any) -> None:
    """The pool-level objects (conference directories, RGS, contacts, AD preparation, edge configuration...) of
    ``stage``, beside ``topo``, the topology topology.seed_stage published (None before the first publish)."""
    section = section_of(scenario)
    if not section:
        return
    domain = section_domain(scenario)
    pilot = section["pilot_pool"]["fqdn"]
    merged = stage >= 5
    objects_moved = stage >= 10   # Phase 9 moves RGS, dial-in numbers and UM contacts
    dirs_moved = stage >= 11      # Phase 10 moves the conference directories

    # AD preparation is the first step of Phase 3.
    prepared = stage >= 4
    tx.meta_put("adprep", {"schema": prepared, "forest": prepared, "domains": {domain.lower(): prepared}})

    for cd in section.get("conference_directories", []):
        pool = pilot if dirs_moved else cd["pool"]
        tx.put("confdir", str(cd["id"]), confdir_doc(cd["id"], pool, imported=merged))

    for rg in section.get("response_groups", []):
        for kind, key, doc in rgs_docs(rg, rg["pool"], domain):
            tx.put(kind, key, doc)         # the legacy copy stays after Move-CsRgsConfiguration
        contact_pool = rg["pool"]
        if objects_moved and rg["pool"].lower() != pilot.lower():
            for kind, key, doc in rgs_docs(rg, pilot, domain):
                tx.put(kind, key, doc)
            contact_pool = pilot
        tx.put("endpoint", rg["sip_address"],
               endpoint_doc(rg["sip_address"], rg["name"], rg.get("line_uri"), contact_pool, "urn:application:Rgs",
                            domain))
    for num in section.get("dial_in_numbers", []):
        pool = pilot if objects_moved else num["pool"]
        tx.put("endpoint", num["sip_address"],
               endpoint_doc(num["sip_address"], num["display_name"], num["line_uri"], pool, "urn:application:Caa",
                            domain))
    for um in section.get("exum_contacts", []):
        pool = pilot if objects_moved else um["pool"]
        tx.put("exum_contact", um["sip_address"], exum_doc(um["sip_address"], um["display_name"], um["type"], pool,
                                                           domain))

    if topo is None:
        return
    # CMS-wide settings exist once there is a CMS (Phase 3).
    access = dict(ACCESS_EDGE_DEFAULT)
    # The CMS's access Edge settings govern Lync Edges; during the pilot (Phases 5-7) federation runs through the
    # legacy Edge with its own OCS settings, and the guide turns them on in Lync only at P8.1.h
    # (Set-CsAccessEdgeConfiguration), so they stay at their defaults until Phase 8.
    if stage >= 9:
        access.update(AllowFederatedUsers=True, AllowOutsideUsers=True)
    put_cms_config(tx, "AccessEdgeConfiguration", access)
    put_cms_config(tx, "WebServiceConfiguration", dict(WEB_SERVICE_DEFAULT))
    put_cms_config(tx, "StaticRoutingConfiguration", dict(STATIC_ROUTING_DEFAULT))

    # The Front Ends' services start at the end of Phase 3 (P3.4), and their replica agents then apply the
    # published configuration: from stage 4 on the replicas report up to date (a publish makes them False again
    # until replication runs, as Phase 4's merge does).
    replicas = replica_fqdns(topo)
    for f in replicas:
        tx.put("replica", f, {"UpToDate": False, "LastStatusReport": None, "LastUpdateCreation": SEED_TIME})
    mark_replicas(tx, replicas, True, SEED_TIME)
