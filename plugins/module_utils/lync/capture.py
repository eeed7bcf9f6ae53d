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

from .capture_objects import (GROUP_ROLES, LAB_BASE_PORT, CaptureError, bare_sip, dns_section, domain_of, policy_name,
                              topology_section)
from .legacy import home_pool, pools_by_dn, split_dn


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


def derive_sam(sip, taken):
    """A SamAccountName for a user whose sam cannot be read: the SIP local part, made valid and unique."""
    base = re.sub(r"[\"/\\\[\]:;|=,+*?<>@\s]", "", sip.split("@", 1)[0])[:20] or "user"
    sam, n = base, 1
    while sam.lower() in taken:
        suffix = str(n)
        sam, n = base[:20 - len(suffix)] + suffix, n + 1
    taken.add(sam.lower())
    return sam


def _directory_index(directory):
    """ds_user instances by DN and by SIP address (lower-case)."""
    by_dn, by_sip = {}, {}
    for d in directory or []:
        if d.get("DS_distinguishedName"):
            by_dn[d["DS_distinguishedName"].lower()] = d
        if d.get("DS_msRTCSIP_PrimaryUserAddress"):
            by_sip[bare_sip(d["DS_msRTCSIP_PrimaryUserAddress"]).lower()] = d
    return by_dn, by_sip


def _users(instances, users_ou, directory):
    pools = pools_by_dn(instances.get("MSFT_SIPPoolSetting"))
    rows = sorted(instances.get("MSFT_SIPESUserSetting") or [], key=lambda u: (u.get("PrimaryURI") or "").lower())
    ad_by_dn, ad_by_sip = _directory_index(directory)
    taken = {d["DS_sAMAccountName"].lower() for d in directory or [] if d.get("DS_sAMAccountName")}
    out = []
    for u in rows:
        sip = bare_sip(u.get("PrimaryURI"))
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
        user["meeting_policy"] = policy_name(u.get("MeetingPolicy"))
        voice = policy_name(u.get("UCPolicy"))
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
    voice = sorted({policy_name(u.get("UCPolicy")) for u in instances.get("MSFT_SIPESUserSetting") or []} - {None})
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
            name = ident if ident in by_name else by_sip.get(bare_sip(ident).lower())
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
        scenario["topology"] = topology_section(instances, domain, pilot_pool, site, plan)
    zone = dns_section(dns, plan, [p["PoolFQDN"] for p in pools])
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
