# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the capture reads besides users, servers and policies: the inventory's hosts, the pool-level objects
(Response Group workflows, dial-in access numbers, conference directories), the topology and the DNS records, and
the error every part of the capture raises. capture.py assembles them into the scenario."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .legacy import home_pool, pools_by_dn, split_dn


# inventory group -> lab role (lab/lync_lab/model/scenario.py ROLES), in the order servers are written.
GROUP_ROLES = (
    ("ocs_legacy_pool", "ocs_frontend"), ("ocs_legacy_edge", "ocs_edge"), ("ocs_legacy_director", "ocs_director"),
    ("ocs_legacy_mediation", "ocs_mediation"), ("ocs_legacy_xmpp", "ocs_xmpp"), ("lync_admin", "lync_frontend"),
    ("lync_pilot_fe", "lync_frontend"), ("lync_production_fe", "lync_frontend"), ("lync_edge", "lync_edge"),
    ("lync_mediation", "lync_mediation"), ("domain_controllers", "dc"),
)


LAB_BASE_PORT = 55985


def capture_hosts(hosts):
    """The inventory hosts the capture describes (and reads the WinRM quotas of), in GROUP_ROLES order."""
    out = []
    for group, _role in GROUP_ROLES:
        for fqdn in hosts.get(group) or []:
            if fqdn.lower() not in {h.lower() for h in out}:
                out.append(fqdn)
    return out


_POLICY_CN = re.compile(r"^CN=\{(.*?)\},CN=(?:Policies|Location Profiles),", re.I)


class CaptureError(ValueError):
    """A read that cannot become a scenario; the message names what and what to do."""


def domain_of(instances):
    pools = instances.get("MSFT_SIPPoolSetting") or []
    for p in pools:
        if p.get("DomainFQDN"):
            return p["DomainFQDN"]
    raise CaptureError("MSFT_SIPPoolSetting lists no pool with a DomainFQDN; read it on an OCS 2007 R2 pool server")


def pool_fqdn_by_dn(instances):
    """PoolDN (lower-case) -> pool FQDN."""
    return dict((dn, p["PoolFQDN"]) for dn, p in pools_by_dn(instances.get("MSFT_SIPPoolSetting")).items())


def bare_sip(uri):
    return re.sub(r"^sip:", "", uri or "", flags=re.I)


def policy_name(dn):
    policy = _POLICY_CN.match(dn or "")
    return policy.group(1) if policy else None


def pool_of_backend(pools):
    """BackEndDBPath (lower-case, as MSFT_SIPRgs*Data.Backend names it) -> pool FQDN."""
    return {(p.get("BackEndDBPath") or "").lower(): p["PoolFQDN"] for p in pools}


def pool_of_home(instances, home_server_dn):
    return (home_pool({"HomeServerDN": home_server_dn}, instances.get("MSFT_SIPPoolSetting")) or {}).get("PoolFQDN")


def response_groups(instances):
    """One entry per OCS Response Group workflow: its contact (MSFT_SIPApplicationContactSetting by ContactDN), its
    pool (by Backend), and the agents of the groups of the queues that serve it (WorkflowIds -> GroupIds ->
    AgentIds -> MSFT_SIPRgsAgentData.SipAddress)."""
    pools = pool_of_backend(instances.get("MSFT_SIPPoolSetting") or [])
    contacts = {(c.get("ContactDN") or "").lower(): c for c in instances.get("MSFT_SIPApplicationContactSetting") or []}
    groups = {(g.get("Backend"), g.get("InstanceId")): g for g in instances.get("MSFT_SIPRgsGroupData") or []}
    agents = {(a.get("Backend"), a.get("InstanceId")): a for a in instances.get("MSFT_SIPRgsAgentData") or []}
    queues = instances.get("MSFT_SIPRgsQueueData") or []
    out = []
    for wf in sorted(instances.get("MSFT_SIPRgsWorkflowData") or [], key=lambda w: (w.get("Name") or "").lower()):
        backend = wf.get("Backend")
        pool = pools.get((backend or "").lower())
        contact = contacts.get((wf.get("ContactDN") or "").lower())
        if pool is None or contact is None:
            raise CaptureError("Response Group workflow %r: its Backend %r names no pool's BackEndDBPath or its "
                               "ContactDN no MSFT_SIPApplicationContactSetting; read both on the pool's server"
                               % (wf.get("Name"), backend))
        members = []
        for q in queues:
            if q.get("Backend") == backend and wf.get("InstanceId") in (q.get("WorkflowIds") or []):
                for gid in q.get("GroupIds") or []:
                    for aid in (groups.get((backend, gid)) or {}).get("AgentIds") or []:
                        sip = (agents.get((backend, aid)) or {}).get("SipAddress")
                        if sip and sip not in members:
                            members.append(sip)
        entry = {"name": wf["Name"], "pool": pool, "sip_address": contact["PrimaryURI"]}
        if contact.get("LineURI"):
            entry["line_uri"] = contact["LineURI"]
        entry["agents"] = members
        out.append(entry)
    return out


def dial_in_numbers(instances):
    """The application contacts no Response Group workflow owns: the Conferencing Attendant's dial-in numbers
    (the OCS 2007 R2 WMI reference gives MSFT_SIPApplicationContactSetting no application type; the workflows'
    ContactDN tells the Response Group contacts apart), with the regions MSFT_SIPLocationContactsMapping gives."""
    owned = {(w.get("ContactDN") or "").lower() for w in instances.get("MSFT_SIPRgsWorkflowData") or []}
    regions = {}
    for m in instances.get("MSFT_SIPLocationContactsMapping") or []:
        region = policy_name(m.get("LocationProfile")) or dn_name(m.get("LocationProfile"))
        for dn in m.get("ApplicationContacts") or []:
            regions.setdefault(dn.lower(), []).append(region)
    out = []
    for c in sorted(instances.get("MSFT_SIPApplicationContactSetting") or [], key=lambda c: (c.get("PrimaryURI") or "").lower()):
        dn = (c.get("ContactDN") or "").lower()
        if dn in owned:
            continue
        pool = pool_of_home(instances, c.get("HomeServerDN"))
        entry = {"sip_address": c.get("PrimaryURI"), "display_name": c.get("DisplayName"), "line_uri": c.get("LineURI"),
                 "pool": pool}
        if c.get("DisplayNumber"):
            entry["display_number"] = c["DisplayNumber"]
        if c.get("PrimaryLanguage"):
            entry["languages"] = [c["PrimaryLanguage"]] + list(c.get("SecondaryLanguages") or [])
        if regions.get(dn):
            entry["regions"] = sorted(regions[dn])
        out.append(entry)
    return out


def dn_name(dn):
    """The value of a DN's first RDN: CN={Dallas},CN=... -> Dallas."""
    first = split_dn(dn)[0].partition("=")[2]
    return first[1:-1] if first.startswith("{") and first.endswith("}") else first


def topology_section(instances, domain, pilot_pool, site, plan):
    """The scenario's topology: section: the planned Lync side as the inventory gives it (pilot pool, its SQL
    Server and share, the Edges), the legacy pools as WMI shows them, and the pool-level objects read."""
    pools = instances.get("MSFT_SIPPoolSetting") or []
    topology = {}
    if site:
        topology["central_site"] = site
    topology["sip_domains"] = list(plan.get("sip_domains") or [domain])
    pilot = {"fqdn": pilot_pool, "sql": plan["pilot_sql"]}
    if plan.get("pilot_sql_instance") and plan["pilot_sql_instance"].lower() != "rtc":
        pilot["sql_instance"] = plan["pilot_sql_instance"]
    if plan.get("file_share"):
        pilot["file_share"] = plan["file_share"]
    topology["pilot_pool"] = pilot
    legacy_pools = []
    for p in sorted(pools, key=lambda p: p["PoolFQDN"].lower()):
        backend = re.sub(r"\\rtc$", "", p.get("BackEndDBPath") or "", flags=re.I)
        if not backend or backend.lower() == "(local)":
            backend = (list(p.get("PoolMemberList") or []) or [p["PoolFQDN"]])[0]   # Standard Edition: its own SQL
        legacy_pools.append({"fqdn": p["PoolFQDN"], "sql": backend})
    topology["legacy_pools"] = legacy_pools
    edges = [{"fqdn": e["internal_fqdn"], "access_edge": e["access_edge_fqdn"], "webconf_edge": e["webconf_edge_fqdn"],
              "av_edge": e["av_edge_fqdn"], "next_hop": e["next_hop_fqdn"], "federation": bool(e.get("federation"))}
             for e in plan.get("legacy_edges") or []]
    if edges:
        topology["legacy_edges"] = edges
    lync_edge = plan.get("lync_edge_pool") or {}
    if lync_edge.get("fqdn"):
        topology["lync_edge_pool"] = {"fqdn": lync_edge["fqdn"], "access_edge": lync_edge["access_edge_fqdn"],
                                      "webconf_edge": lync_edge["webconf_edge_fqdn"],
                                      "av_edge": lync_edge["av_edge_fqdn"], "next_hop": lync_edge["next_hop_fqdn"]}
    by_dn = pool_fqdn_by_dn(instances)
    directories = sorted(({"id": int(d["ConferenceDirectoryId"]), "pool": by_dn.get((d.get("HomePoolDN") or "").lower())}
                          for d in instances.get("MSFT_SIPConferencingDirectoryData") or []
                          if d.get("ConferenceDirectoryId") is not None), key=lambda d: d["id"])
    if any(d["pool"] is None for d in directories):
        raise CaptureError("a conference directory's HomePoolDN names no MSFT_SIPPoolSetting PoolDN (an unassigned "
                           "directory?): assign it to a pool in the OCS 2007 R2 administration tool, or capture again")
    if directories:
        topology["conference_directories"] = directories
    groups = response_groups(instances)
    if groups:
        topology["response_groups"] = groups
    numbers = dial_in_numbers(instances)
    if numbers:
        topology["dial_in_numbers"] = numbers
    return topology


def dns_queries(hosts, instances, plan):
    """The A and SRV records the capture asks the internal DNS server for: every inventory host, the legacy pools
    and their SQL back ends, the pilot pool and its SQL Server, the Edges' external names, and the automatic
    sign-in SRV record of each SIP domain (the names the guide's P2.2 and P10.2 check)."""
    names = list(capture_hosts(hosts))
    for p in instances.get("MSFT_SIPPoolSetting") or []:
        names.append(p["PoolFQDN"])
        backend = re.sub(r"\\rtc$", "", p.get("BackEndDBPath") or "", flags=re.I)
        if backend and backend.lower() != "(local)":
            names.append(backend)
    names += [plan.get("pilot_pool") or "", plan.get("pilot_sql") or ""]
    for e in plan.get("legacy_edges") or []:
        names += [e.get("access_edge_fqdn") or "", e.get("webconf_edge_fqdn") or "", e.get("av_edge_fqdn") or ""]
    seen, queries = set(), []
    for n in names:
        if n and n.lower() not in seen:
            seen.add(n.lower())
            queries.append({"name": n.lower(), "type": "A"})
    domains = plan.get("sip_domains") or [domain_of(instances)]
    queries += [{"name": "_sipinternaltls._tcp." + d.lower(), "type": "SRV"} for d in domains]
    return queries


def dns_section(records, plan, legacy_pools):
    """The dns: section from cs_dns_info's answers, plus what the guide has the admin change later: the pilot
    pool's A record created in P2.2 (from_stage 3, at lync_migration_pilot_pool_address) when it does not resolve
    yet, and each automatic sign-in SRV record that points at a legacy pool re-pointed at the pilot pool in P10.2
    (until_stage 10 / from_stage 11)."""
    out, names = [], set()
    pilot = (plan.get("pilot_pool") or "").lower()
    legacy = {p.lower() for p in legacy_pools}
    for r in records or []:
        if not r.get("found"):
            continue
        names.add(r["name"].lower())
        if r["type"] == "A":
            out += [{"name": r["name"].lower(), "type": "A", "address": a} for a in sorted(r.get("addresses") or [])]
            continue
        for t in sorted(r.get("targets") or [], key=lambda t: (t["target"].lower(), t["port"])):
            srv = {"name": r["name"].lower(), "type": "SRV", "target": t["target"].lower().rstrip("."), "port": t["port"]}
            if t.get("priority"):
                srv["priority"] = t["priority"]
            if t.get("weight"):
                srv["weight"] = t["weight"]
            if pilot and srv["target"] in legacy:
                out += [dict(srv, until_stage=10), {"name": srv["name"], "type": "SRV", "target": pilot, "port": 5061,
                                                    "from_stage": 11}]
            else:
                out.append(srv)
    if pilot and pilot not in names and plan.get("pilot_pool_address"):
        out.append({"name": pilot, "type": "A", "address": plan["pilot_pool_address"], "from_stage": 3})
    return {"records": out} if out else None
