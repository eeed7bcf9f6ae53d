# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A deployment as read over WinRM -> a lab scenario (the format lab/lync_lab/model/scenario.py loads).

``build_scenario`` takes what the capture reads over WinRM (OCS 2007 R2 WMI on the legacy pool hosts: pools,
users, meeting/presence policies, location profiles with their normalization rules, phone routes, the Edge proxy,
Response Group workflows/queues/groups/agents and application contacts; the Active Directory provider's ds_user on
a domain controller: SamAccountName, UPN, disabled flag; Win32_OperatingSystem and winrm/config on every host; the
internal DNS records the guide's phases check) and the inventory's hosts and planned Lync side, and returns the
scenario as a dict; ``scenario_yaml`` renders it deterministically (the same reads give the same bytes, so a
capture of a lab started from a capture is identical to that capture). What the reads do not show is not
invented: it is left out, and ``NOT_CAPTURED`` says so in the file's header.
"""

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


NOT_CAPTURED = (
    "per-user location profile and presence policy (not properties of MSFT_SIPESUserSetting), external access and "
    "archiving policies (OCS 2007 R2 has per-user flags, not named policies)",
    "voice policy definitions (MSFT_SIPGlobalUCPolicyData's properties are not in the reference): each voice policy "
    "a user's UCPolicy names is written by name only",
    "the meeting policies' anonymous-participant switch (per user in OCS 2007 R2, not a policy property)",
    "each user's scheduled meetings (kept in the pool's back-end database, not in WMI)",
    "users already moved to Lync Server 2013 (WMI lists only the users OCS homes)",
    "Exchange UM contacts (no OCS 2007 R2 WMI class); conference directories are read from "
    "MSFT_SIPConferencingDirectoryData with property names the reference does not show (ConferenceDirectoryId, "
    "HomePoolDN: the lab's, assumed)",
    "a host without a readable Win32_OperatingSystem gets the lab's default OS; WMF 3.0 is assumed on Lync "
    "Server 2013 hosts (which need it) and not on OCS 2007 R2 hosts; DNS record TTLs (the lab's 3600 s)",
    "passwords: the lab's account gets the lab's password (lync_migration_capture_lab_password)",
)
# Win32_OperatingSystem Version (and ServicePackMajorVersion) -> the lab's os: name (lab/README.md, servers[].os).
OS_BY_VERSION = (("5.2.", 2, "2003sp2"), ("6.0.", 2, "2008sp2"), ("6.1.7600", 0, "2008r2"), ("6.1.7601", 1, "2008r2sp1"),
                 ("6.2.", 0, "2012"), ("6.3.", 0, "2012r2"))
WMF3_VARIANT = {"2008sp2": "2008sp2-wmf3", "2008r2sp1": "2008r2sp1-wmf3"}
LYNC_ROLES = ("lync_frontend", "lync_edge", "lync_mediation")
UF_ACCOUNTDISABLE = 0x2     # userAccountControl: the account is disabled
_POLICY_CN = re.compile(r"^CN=\{(.*?)\},CN=(?:Policies|Location Profiles),", re.I)


class CaptureError(ValueError):
    """A read that cannot become a scenario; the message names what and what to do."""


def split_account(account, netbios=None):
    """(NETBIOS, user) of the account the capture connects as: DOMAIN\\user, or user with ``netbios`` given."""
    domain, sep, user = (account or "").rpartition("\\")
    if not user:
        raise CaptureError("no account to give the lab: set ansible_user of the lync_admin host (DOMAIN\\user)")
    netbios = netbios or (domain if sep else "")
    if not netbios:
        raise CaptureError("ansible_user %r names no domain: set lync_migration_capture_netbios to the AD domain's "
                           "NetBIOS name (e.g. CONTOSO)" % account)
    return netbios, user


def domain_of(instances):
    pools = instances.get("MSFT_SIPPoolSetting") or []
    for p in pools:
        if p.get("DomainFQDN"):
            return p["DomainFQDN"]
    raise CaptureError("MSFT_SIPPoolSetting lists no pool with a DomainFQDN; read it on an OCS 2007 R2 pool server")


def derive_sam(sip, taken):
    """A SamAccountName for a user whose sam cannot be read: the SIP local part, made valid and unique."""
    base = re.sub(r"[\"/\\\[\]:;|=,+*?<>@\s]", "", sip.split("@", 1)[0])[:20] or "user"
    sam, n = base, 1
    while sam.lower() in taken:
        suffix = str(n)
        sam, n = base[:20 - len(suffix)] + suffix, n + 1
    taken.add(sam.lower())
    return sam


def _pool_by_dn(instances):
    """PoolDN (lower-case) -> pool FQDN."""
    return dict((dn, p["PoolFQDN"]) for dn, p in pools_by_dn(instances.get("MSFT_SIPPoolSetting")).items())


def _bare_sip(uri):
    return re.sub(r"^sip:", "", uri or "", flags=re.I)


def _directory_index(directory):
    """ds_user instances by DN and by SIP address (lower-case)."""
    by_dn, by_sip = {}, {}
    for d in directory or []:
        if d.get("DS_distinguishedName"):
            by_dn[d["DS_distinguishedName"].lower()] = d
        if d.get("DS_msRTCSIP_PrimaryUserAddress"):
            by_sip[_bare_sip(d["DS_msRTCSIP_PrimaryUserAddress"]).lower()] = d
    return by_dn, by_sip


def _policy_name(dn):
    policy = _POLICY_CN.match(dn or "")
    return policy.group(1) if policy else None


def _users(instances, users_ou, directory):
    pools = pools_by_dn(instances.get("MSFT_SIPPoolSetting"))
    rows = sorted(instances.get("MSFT_SIPESUserSetting") or [], key=lambda u: (u.get("PrimaryURI") or "").lower())
    ad_by_dn, ad_by_sip = _directory_index(directory)
    taken = {d["DS_sAMAccountName"].lower() for d in directory or [] if d.get("DS_sAMAccountName")}
    out = []
    for u in rows:
        sip = _bare_sip(u.get("PrimaryURI"))
        if not sip:
            raise CaptureError("an MSFT_SIPESUserSetting instance has no PrimaryURI (UserDN %r)" % u.get("UserDN"))
        pool = (home_pool(u, pools) or {}).get("PoolFQDN")
        if pool is None:
            raise CaptureError("user %s is homed on %r, which no MSFT_SIPPoolSetting PoolDN names"
                               % (sip, u.get("HomeServerDN")))
        ad = ad_by_dn.get((u.get("UserDN") or "").lower()) or ad_by_sip.get(sip.lower()) or {}
        sam = ad.get("DS_sAMAccountName") or derive_sam(sip, taken)
        user = {"name": u.get("DisplayName") or sip, "sip": sip, "sam": sam, "pool": pool}
        upn = ad.get("DS_userPrincipalName")
        if upn and upn.lower() != sip.lower():
            user["upn"] = upn
        if int(ad.get("DS_userAccountControl") or 0) & UF_ACCOUNTDISABLE:
            user["ad_enabled"] = False
        ou = split_dn(u.get("UserDN"))[1]
        if ou and ou.lower() != users_ou.lower():
            user["ou"] = ou
        user["meeting_policy"] = _policy_name(u.get("MeetingPolicy"))
        voice = _policy_name(u.get("UCPolicy"))
        if voice:
            user["voice_policy"] = voice
        if u.get("LineURI"):
            user["line_uri"] = u["LineURI"]
        out.append(user)
    return out


def _common_ou(instances, domain):
    counts = {}
    for u in instances.get("MSFT_SIPESUserSetting") or []:
        ou = split_dn(u.get("UserDN"))[1]
        if ou:
            counts[ou] = counts.get(ou, 0) + 1
    if not counts:
        return "OU=Users," + ",".join("DC=" + p for p in domain.split("."))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def lab_os(system, role):
    """The lab's os: name for a Win32_OperatingSystem instance (None when the version is not one the lab models)."""
    version = str((system or {}).get("Version") or "")
    sp = int((system or {}).get("ServicePackMajorVersion") or 0)
    for prefix, service_pack, name in OS_BY_VERSION:
        if version.startswith(prefix) and sp == service_pack:
            return WMF3_VARIANT.get(name, name) if role in LYNC_ROLES else name
    return None


def _servers(hosts, pools, pilot_pool, edge_pool, site, quotas, systems):
    """One entry per inventory host, its role from its first group in GROUP_ROLES, ports assigned in that order."""
    member_pool = {fe.lower(): p["PoolFQDN"] for p in pools for fe in p.get("PoolMemberList") or []}
    out, seen = [], set()
    for group, role in GROUP_ROLES:
        for fqdn in hosts.get(group) or []:
            if fqdn.lower() in seen:
                continue
            seen.add(fqdn.lower())
            server = {"fqdn": fqdn, "role": role}
            pool = member_pool.get(fqdn.lower()) if role == "ocs_frontend" else (
                pilot_pool if role == "lync_frontend" else (edge_pool if role == "lync_edge" else None))
            if pool:
                server["pool"] = pool
            if site:
                server["site"] = site
            os_name = lab_os(systems.get(fqdn) or systems.get(fqdn.lower()), role)
            if os_name:
                server["os"] = os_name
            read = quotas.get(fqdn) or quotas.get(fqdn.lower())
            if read:
                # As winrm get winrm/config shows them on that host (cs_winrm_quota_info).
                server["quotas"] = {name: read[name] for name in sorted(read)}
            out.append(server)
    admins = [s for s in out if s["role"] == "lync_frontend"]
    if not admins:
        raise CaptureError("the inventory has no lync_admin host; the lab needs a Lync Front End to administer")
    admins[0]["admin"] = True
    # The lab's admin host answers on 55985/55986 (lync_lab.instance ADMIN_HTTP_PORT); the others follow in order.
    others = iter(range(LAB_BASE_PORT + 2, LAB_BASE_PORT + 2 + 2 * len(out), 2))
    for server in out:
        port = LAB_BASE_PORT if server.get("admin") else next(others)
        server.update({"http_port": port, "https_port": port + 1})
    return out


def _legacy(instances, edge_server):
    pools = []
    for p in sorted(instances.get("MSFT_SIPPoolSetting") or [], key=lambda p: p["PoolFQDN"].lower()):
        backend = re.sub(r"\\rtc$", "", p.get("BackEndDBPath") or "", flags=re.I)
        pool = {"fqdn": p["PoolFQDN"], "edition": "standard" if p.get("PoolType") == "Standard" else "enterprise",
                "frontends": list(p.get("PoolMemberList") or [])}
        if backend and backend != "(local)":
            pool["backend"] = backend
        pools.append(pool)
    meeting = [{"name": m["Name"], "max_meeting_size": m.get("MeetingSize"), "allow_ip_audio": m.get("AllowIPAudio"),
                "allow_ip_video": m.get("AllowIPVideo"), "enable_data_collaboration": m.get("EnableDataCollaboration"),
                "app_sharing": m.get("EnableAppDesktopSharing")}
               for m in sorted(instances.get("MSFT_SIPGlobalMeetingPolicyData") or [], key=lambda m: m["Name"])]
    rules = {(r.get("NormalizationRuleDN") or "").lower(): r for r in
             instances.get("MSFT_SIPLocalNormalizationRuleData") or []}
    locations = []
    for p in sorted(instances.get("MSFT_SIPLocationProfileData") or [], key=lambda p: p["Name"]):
        profile = {"name": p["Name"]}
        if p.get("Description"):
            profile["description"] = p["Description"]
        # The profile's rules in its NormalizationRules order (DNs of MSFT_SIPLocalNormalizationRuleData).
        profile["rules"] = [{"name": r["Name"], "pattern": r.get("Pattern"), "translation": r.get("Translation")}
                            for r in (rules.get(dn.lower()) for dn in p.get("NormalizationRules") or []) if r]
        locations.append(profile)
    presence = [{"name": p["Name"], "max_prompted_subscribers": p.get("PromptedSubscribers"),
                 "max_category_subscription": p.get("CategorySubscriptions")}
                for p in sorted(instances.get("MSFT_SIPGlobalPresencePolicyData") or [], key=lambda p: p["Name"])]
    voice = sorted({_policy_name(u.get("UCPolicy")) for u in instances.get("MSFT_SIPESUserSetting") or []} - {None})
    routes = [{"name": r["Name"], "pattern": r.get("TargetPhoneNumber"), "pstn_usages": list(r.get("PhoneRouteUsages") or []),
               "gateways": list(r.get("GatewayList") or [])}
              for r in sorted(instances.get("MSFT_SIPPhoneRouteData") or [], key=lambda r: r["Name"])]
    legacy = {"pools": pools}
    edges = instances.get("MSFT_SIPEdgeProxySetting") or []
    if edges and edge_server:
        legacy["edge"] = {"server": edge_server, "access_edge_fqdn": edges[0]["EdgeProxyFQDN"]}
    legacy.update({"meeting_policies": meeting, "location_profiles": locations, "voice_routes": routes,
                   "presence_policies": presence, "voice_policies": [{"name": n} for n in voice]})
    return legacy


def _pool_of_backend(pools):
    """BackEndDBPath (lower-case, as MSFT_SIPRgs*Data.Backend names it) -> pool FQDN."""
    return {(p.get("BackEndDBPath") or "").lower(): p["PoolFQDN"] for p in pools}


def _pool_of_home(instances, home_server_dn):
    return (home_pool({"HomeServerDN": home_server_dn}, instances.get("MSFT_SIPPoolSetting")) or {}).get("PoolFQDN")


def _response_groups(instances):
    """One entry per OCS Response Group workflow: its contact (MSFT_SIPApplicationContactSetting by ContactDN), its
    pool (by Backend), and the agents of the groups of the queues that serve it (WorkflowIds -> GroupIds ->
    AgentIds -> MSFT_SIPRgsAgentData.SipAddress)."""
    pools = _pool_of_backend(instances.get("MSFT_SIPPoolSetting") or [])
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


def _dial_in_numbers(instances):
    """The application contacts no Response Group workflow owns: the Conferencing Attendant's dial-in numbers
    (the OCS 2007 R2 WMI reference gives MSFT_SIPApplicationContactSetting no application type; the workflows'
    ContactDN tells the Response Group contacts apart), with the regions MSFT_SIPLocationContactsMapping gives."""
    owned = {(w.get("ContactDN") or "").lower() for w in instances.get("MSFT_SIPRgsWorkflowData") or []}
    regions = {}
    for m in instances.get("MSFT_SIPLocationContactsMapping") or []:
        region = _policy_name(m.get("LocationProfile")) or _dn_name(m.get("LocationProfile"))
        for dn in m.get("ApplicationContacts") or []:
            regions.setdefault(dn.lower(), []).append(region)
    out = []
    for c in sorted(instances.get("MSFT_SIPApplicationContactSetting") or [], key=lambda c: (c.get("PrimaryURI") or "").lower()):
        dn = (c.get("ContactDN") or "").lower()
        if dn in owned:
            continue
        pool = _pool_of_home(instances, c.get("HomeServerDN"))
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


def _dn_name(dn):
    """The value of a DN's first RDN: CN={Dallas},CN=... -> Dallas."""
    first = split_dn(dn)[0].partition("=")[2]
    return first[1:-1] if first.startswith("{") and first.endswith("}") else first


def _topology(instances, domain, pilot_pool, site, plan):
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
    by_dn = _pool_by_dn(instances)
    directories = sorted(({"id": int(d["ConferenceDirectoryId"]), "pool": by_dn.get((d.get("HomePoolDN") or "").lower())}
                          for d in instances.get("MSFT_SIPConferencingDirectoryData") or []
                          if d.get("ConferenceDirectoryId") is not None), key=lambda d: d["id"])
    if any(d["pool"] is None for d in directories):
        raise CaptureError("a conference directory's HomePoolDN names no MSFT_SIPPoolSetting PoolDN (an unassigned "
                           "directory?): assign it to a pool in the OCS 2007 R2 administration tool, or capture again")
    if directories:
        topology["conference_directories"] = directories
    groups = _response_groups(instances)
    if groups:
        topology["response_groups"] = groups
    numbers = _dial_in_numbers(instances)
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


def _dns(records, plan, legacy_pools):
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


def _waves(planned, users):
    """The inventory's waves by display name (as the scenario's waves: section wants them); identities given as
    SIP addresses become the user's display name; ones that name no captured user are returned apart."""
    by_name = {u["name"] for u in users}
    by_sip = {u["sip"].lower(): u["name"] for u in users}
    waves, unknown = {}, []
    for wave in planned or []:
        members = []
        for ident in wave.get("identities") or []:
            ident = str(ident)
            name = ident if ident in by_name else by_sip.get(_bare_sip(ident).lower())
            if name is None:
                unknown.append("%s: %s" % (wave.get("name"), ident))
            elif name not in members:
                members.append(name)
        waves[wave["name"]] = members
    return waves, unknown


def build_scenario(instances, hosts, name, netbios, admin_user, lab_password, pilot_pool=None, edge_pool=None,
                   site=None, quotas=None, directory=None, systems=None, dns=None, plan=None):
    """The scenario dict of the deployment read in ``instances`` (cs_wmi_info's instances, by class), the hosts'
    WinRM ``quotas`` and ``systems`` (host name -> cs_winrm_quota_info's quotas / Win32_OperatingSystem instance),
    the domain controller's ds_user instances (``directory``), cs_dns_info's ``dns`` records and the inventory's
    ``plan`` for the Lync side (pilot_sql, pilot_sql_instance, file_share, sip_domains, legacy_edges,
    lync_edge_pool, pilot_pool_address, waves). Wave members that name no captured user: ``unplaced_wave_members``."""
    plan = dict(plan or {}, pilot_pool=pilot_pool)
    domain = domain_of(instances)
    users_ou = _common_ou(instances, domain)
    pools = instances.get("MSFT_SIPPoolSetting") or []
    servers = _servers(hosts, pools, pilot_pool, edge_pool, site, quotas or {}, systems or {})
    edge_hosts = hosts.get("ocs_legacy_edge") or []
    users = _users(instances, users_ou, directory)
    scenario = {
        "name": name,
        "domain": {"fqdn": domain, "netbios": netbios, "users_ou": users_ou},
        "accounts": [{"user": admin_user, "password": lab_password,
                      "groups": ["RTCUniversalServerAdmins", "CSAdministrator", "Domain Users"]}],
        "servers": servers,
        "legacy": _legacy(instances, edge_hosts[0] if edge_hosts else None),
        "user_defaults": {"meeting_policy": None},
        "users": users,
    }
    waves = _waves(plan.get("waves"), users)[0]
    if waves:
        scenario["waves"] = waves
    if pilot_pool and plan.get("pilot_sql"):
        scenario["topology"] = _topology(instances, domain, pilot_pool, site, plan)
    zone = _dns(dns, plan, [p["PoolFQDN"] for p in pools])
    if zone:
        scenario["dns"] = zone
    return scenario


def unplaced_wave_members(scenario, planned_waves):
    """'wave: identity' for each planned wave member the captured scenario has no user for."""
    return _waves(planned_waves, scenario.get("users") or [])[1]


def scenario_yaml(scenario, header_lines=()):
    """The scenario as YAML text: keys in the order built, Unicode as is, a header of comments first."""
    import yaml  # the controller has PyYAML (Ansible needs it); imported here so module_utils stays importable

    head = ["# lync.migration capture: a lab scenario of the deployment as read over WinRM (lab/README.md,",
            "# \"Scenario format\"). Not captured (the reads have no such data):"]
    head += ["#   - " + line for line in NOT_CAPTURED]
    head += ["# " + line for line in header_lines]
    body = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096)
    return "\n".join(head) + "\n" + body
