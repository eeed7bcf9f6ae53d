"""OCS 2007 R2 WMI classes for the pool-level objects a migration has to move (spec section 3, rows 8 and 10):
MSFT_SIPApplicationContactSetting (application contacts homed on an OCS pool: Conferencing Attendant dial-in
numbers, Response Group workflow contacts), MSFT_SIPRgsWorkflowData, MSFT_SIPRgsQueueData, MSFT_SIPRgsGroupData and
MSFT_SIPRgsAgentData (the Response Groups of an OCS pool, linked by InstanceId as the reference's WorkflowIds,
GroupIds and AgentIds say), MSFT_SIPLocationContactsMapping (the dial-in numbers each region offers) and
MSFT_SIPConferencingDirectoryData (the pools' conference directories; property names assumed).
Registered into cmdlets/wmi.py's Get-WmiObject; property names from data/ocs2007r2-wmi.json.

An object OCS 2007 R2 no longer homes (moved to Lync Server 2013 in Phase 9) is not listed, as in MSFT_SIPESUserSetting.
"""

from __future__ import annotations

from ..model import users as U
from . import wmi


def _legacy_pools(ctx) -> dict[str, dict]:
    return {p["fqdn"].lower(): p for p in wmi._legacy_pools(ctx)}


def _dial_in_settings(ctx) -> dict[str, dict]:
    """The scenario's dial-in numbers by SIP address: display number, languages and regions (the values
    Get-CsDialInConferencingAccessNumber shows, cmdlets/policies.py)."""
    section = (ctx.lab.scenario.raw.get("topology") or {}).get("dial_in_numbers") or []
    return {str(n["sip_address"]).lower(): n for n in section}


def _application_contacts(ctx, tx):
    pools = _legacy_pools(ctx)
    domain = ctx.lab.scenario.domain
    dial_in = _dial_in_settings(ctx)
    out = []
    for _k, d in tx.query("endpoint"):
        pool = (d.get("RegistrarPool") or "").lower()
        if pool not in pools:
            continue
        extra = dial_in.get(str(d.get("SipAddress") or "").lower())
        languages = list((extra or {}).get("languages") or ["en-US"]) if extra else [None]
        out.append(wmi._instance("MSFT_SIPApplicationContactSetting", {
            "DisplayName": d.get("DisplayName"), "PrimaryURI": d.get("SipAddress"), "LineURI": d.get("LineURI"),
            "DisplayNumber": (extra or {}).get("display_number") or d.get("DisplayNumber"),
            "PrimaryLanguage": languages[0], "SecondaryLanguages": languages[1:] if extra else None,
            "Enabled": bool(d.get("Enabled", True)),
            "ContactDN": d.get("Identity"), "HomeServerDN": U.legacy_home_server(pools[pool]["fqdn"], domain),
            "EnabledForEnhancedPresence": True, "UCEnabled": bool(d.get("EnterpriseVoiceEnabled"))}))
    return out


def _location_contacts(ctx, tx):
    # MSFT_SIPLocationContactsMapping (reference dd185912): per location profile (region), the Conferencing
    # Attendant contacts it offers, by DN. Only contacts still homed on an OCS pool are listed.
    contacts = {c["PrimaryURI"].lower(): c["ContactDN"] for c in _application_contacts(ctx, tx) if c["PrimaryURI"]}
    regions: dict[str, list[str]] = {}
    for sip, n in _dial_in_settings(ctx).items():
        for region in n.get("regions") or []:
            if sip in contacts:
                regions.setdefault(region, []).append(contacts[sip])
    return [wmi._instance("MSFT_SIPLocationContactsMapping", {
        "LocationProfile": wmi._dn(ctx, "Location Profiles", region), "ApplicationContacts": dns,
        "MappingDN": wmi._dn(ctx, "Location Contacts Mapping", region),
        "InstanceID": "{" + U.conference_id("mapping|" + region, 0) + "}"}) for region, dns in sorted(regions.items())]


def _conference_directories(ctx, tx):
    # MSFT_SIPConferencingDirectoryData (reference dd130087): a pool's Conference Directory (one is created on each
    # pool when it is created), movable to another pool. The reference's stored text ends before the class's
    # syntax block, so the property names are assumed (lab/FIDELITY.md): InstanceID as in every MSFT_SIP class,
    # the directory's number, and its pool's DN as MSFT_SIPPoolSetting.PoolDN gives it. Directories that Lync
    # Server 2013 homes (moved in Phase 10) are not listed.
    pools = _legacy_pools(ctx)
    domain = ctx.lab.scenario.domain
    out = []
    for _k, d in tx.query("confdir"):
        pool = pools.get((d.get("pool") or "").lower())
        if pool is None:
            continue
        out.append({"InstanceID": "{" + U.conference_id("confdir|" + str(d["Identity"]), 0) + "}",
                    "ConferenceDirectoryId": int(d["Identity"]),
                    "HomePoolDN": U.legacy_pool_dn(pool["fqdn"], domain)})
    return sorted(out, key=lambda c: c["ConferenceDirectoryId"])


def _instance_id(identity: str) -> str:
    return "{" + identity.rsplit("/", 1)[-1] + "}"


def _rgs_objects(ctx, tx, kind: str):
    """(doc, Backend) of the Response Group objects of ``kind`` on an OCS pool (key "<pool>/<name>")."""
    pools = _legacy_pools(ctx)
    for key, d in tx.query(kind):
        pool = key.split("/", 1)[0]
        if pool in pools:
            backend = pools[pool].get("backend")
            yield d, (f"{backend}\\rtc" if backend else "(local)\\rtc")


def _rgs_workflows(ctx, tx):
    out = []
    contacts = {(e.get("SipAddress") or "").lower(): e for _k, e in tx.query("endpoint")}
    for d, backend in _rgs_objects(ctx, tx, "rgs_workflow"):
        contact = contacts.get((d.get("PrimaryUri") or "").lower()) or {}
        out.append(wmi._instance("MSFT_SIPRgsWorkflowData", {
            "Name": d.get("Name"), "Description": d.get("Description"), "Active": bool(d.get("Active")),
            "Backend": backend, "InstanceId": _instance_id(d["Identity"]), "ContactDN": contact.get("Identity"),
            "LCID": 1033 if d.get("Language", "en-US") == "en-US" else None}))
    return out


def _rgs_queues(ctx, tx):
    workflows = [w for w, _b in _rgs_objects(ctx, tx, "rgs_workflow")]
    out = []
    for q, backend in _rgs_objects(ctx, tx, "rgs_queue"):
        # The workflows whose calls go to this queue (the lab's workflow names its queue in DefaultAction).
        using = [_instance_id(w["Identity"]) for w in workflows if q["Identity"] in (w.get("DefaultAction") or "")]
        out.append(wmi._instance("MSFT_SIPRgsQueueData", {
            "Name": q.get("Name"), "Description": q.get("Description"), "Backend": backend,
            "InstanceId": _instance_id(q["Identity"]), "GroupIds": [_instance_id(g) for g in q.get("AgentGroupIDList") or []],
            "WorkflowIds": using, "TimeoutThreshold": q.get("TimeoutThreshold"),
            "OverflowThreshold": q.get("OverflowThreshold")}))
    return out


def _agent_id(backend: str, sip: str) -> str:
    return "{" + U.conference_id("agent|" + backend + "|" + sip, 0) + "}"


def _rgs_groups(ctx, tx):
    out = []
    for g, backend in _rgs_objects(ctx, tx, "rgs_group"):
        out.append(wmi._instance("MSFT_SIPRgsGroupData", {
            "Name": g.get("Name"), "Description": g.get("Description"), "Backend": backend,
            "InstanceId": _instance_id(g["Identity"]), "RoutingMethod": g.get("RoutingMethod"),
            "RingTimeout": g.get("AgentAlertTime"), "AgentStatePolicy": g.get("ParticipationPolicy"),
            "DistributionListId": g.get("DistributionGroupAddress"),
            "AgentIds": [_agent_id(backend, a) for a in g.get("AgentsByUri") or []]}))
    return out


def _rgs_agents(ctx, tx):
    # One agent per (back end, user) that some group of that back end lists; IndividualAgent: added by name.
    out, seen = [], set()
    for g, backend in _rgs_objects(ctx, tx, "rgs_group"):
        for sip in g.get("AgentsByUri") or []:
            if (backend, sip.lower()) in seen:
                continue
            seen.add((backend, sip.lower()))
            out.append(wmi._instance("MSFT_SIPRgsAgentData", {
                "Backend": backend, "InstanceId": _agent_id(backend, sip), "SipAddress": sip, "Enabled": True,
                "IndividualAgent": True, "DistributionListIds": []}))
    return out


wmi._OCS_CLASSES.setdefault("MSFT_SIPApplicationContactSetting", _application_contacts)
wmi._OCS_CLASSES.setdefault("MSFT_SIPRgsWorkflowData", _rgs_workflows)
wmi._OCS_CLASSES.setdefault("MSFT_SIPRgsQueueData", _rgs_queues)
wmi._OCS_CLASSES.setdefault("MSFT_SIPRgsGroupData", _rgs_groups)
wmi._OCS_CLASSES.setdefault("MSFT_SIPRgsAgentData", _rgs_agents)
wmi._OCS_CLASSES.setdefault("MSFT_SIPLocationContactsMapping", _location_contacts)
wmi._OCS_CLASSES.setdefault("MSFT_SIPConferencingDirectoryData", _conference_directories)
