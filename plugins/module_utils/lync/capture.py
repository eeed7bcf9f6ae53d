# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A deployment as read over WinRM -> a lab scenario (the format lab/lync_lab/model/scenario.py loads).

``build_scenario`` takes what Phase 1 reads (OCS 2007 R2 WMI on the legacy pool host: pools, users, meeting
policies, location profiles, phone routes, the Edge proxy) and the inventory's hosts, and returns the scenario as a
dict; ``scenario_yaml`` renders it deterministically (the same reads give the same bytes, so a capture of a lab
started from a capture is identical to that capture). What OCS 2007 R2's WMI does not show (SamAccountName, the
per-user location/presence/voice policies, Response Groups, conference directories) is not invented: it is left
out, and ``NOT_CAPTURED`` says so in the file's header.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

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
    "SamAccountName (OCS 2007 R2 WMI has no such property: each user's sam is derived from the SIP address)",
    "per-user location profile, presence, voice, external access and archiving policy names",
    "AD account disabled flags, users already moved to Lync Server 2013 (WMI lists only the users OCS homes)",
    "voice/presence/external access/archiving policy definitions, normalization rule patterns",
    "conference directories, Response Groups, dial-in numbers, Exchange UM contacts (no OCS 2007 R2 WMI read-back)",
    "the Lync Server 2013 topology section and DNS records",
    "each host's OS and PowerShell version (the lab's default OS is assumed; the WinRM quotas are read)",
    "passwords: the lab's account gets the lab's password (lync_migration_capture_lab_password)",
)
_RDN_SPLIT = re.compile(r"(?<!\\),")
_POLICY_CN = re.compile(r"^CN=\{(.*)\},CN=Policies,", re.I)


class CaptureError(ValueError):
    """A read that cannot become a scenario; the message names what and what to do."""


def split_dn(dn):
    """('CN=Ken Myer\\ ', 'OU=Users,DC=contoso,DC=net'): the first RDN and the rest (escaped commas kept)."""
    parts = _RDN_SPLIT.split(dn or "", 1)
    return parts[0], (parts[1] if len(parts) > 1 else "")


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
    return {(p.get("PoolDN") or "").lower(): p["PoolFQDN"] for p in instances.get("MSFT_SIPPoolSetting") or []}


def _users(instances, users_ou):
    by_dn = _pool_by_dn(instances)
    rows = sorted(instances.get("MSFT_SIPESUserSetting") or [], key=lambda u: (u.get("PrimaryURI") or "").lower())
    taken, out = set(), []
    for u in rows:
        sip = re.sub(r"^sip:", "", u.get("PrimaryURI") or "", flags=re.I)
        if not sip:
            raise CaptureError("an MSFT_SIPESUserSetting instance has no PrimaryURI (UserDN %r)" % u.get("UserDN"))
        pool = by_dn.get(split_dn(u.get("HomeServerDN"))[1].lower())
        if pool is None:
            raise CaptureError("user %s is homed on %r, which no MSFT_SIPPoolSetting PoolDN names"
                               % (sip, u.get("HomeServerDN")))
        user = {"name": u.get("DisplayName") or sip, "sip": sip, "sam": derive_sam(sip, taken), "pool": pool}
        ou = split_dn(u.get("UserDN"))[1]
        if ou and ou.lower() != users_ou.lower():
            user["ou"] = ou
        policy = _POLICY_CN.match(u.get("MeetingPolicy") or "")
        user["meeting_policy"] = policy.group(1) if policy else None
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


def _servers(hosts, pools, pilot_pool, edge_pool, site, quotas):
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
    locations = [{"name": p["Name"]} for p in
                 sorted(instances.get("MSFT_SIPLocationProfileData") or [], key=lambda p: p["Name"])]
    routes = [{"name": r["Name"], "pattern": r.get("TargetPhoneNumber"), "pstn_usages": list(r.get("PhoneRouteUsages") or []),
               "gateways": list(r.get("GatewayList") or [])}
              for r in sorted(instances.get("MSFT_SIPPhoneRouteData") or [], key=lambda r: r["Name"])]
    legacy = {"pools": pools}
    edges = instances.get("MSFT_SIPEdgeProxySetting") or []
    if edges and edge_server:
        legacy["edge"] = {"server": edge_server, "access_edge_fqdn": edges[0]["EdgeProxyFQDN"]}
    legacy.update({"meeting_policies": meeting, "location_profiles": locations, "voice_routes": routes})
    return legacy


def build_scenario(instances, hosts, name, netbios, admin_user, lab_password, pilot_pool=None, edge_pool=None,
                   site=None, quotas=None):
    """The scenario dict of the deployment read in ``instances`` (cs_wmi_info's instances, by class) and the hosts'
    WinRM ``quotas`` (host name -> cs_winrm_quota_info's quotas)."""
    domain = domain_of(instances)
    users_ou = _common_ou(instances, domain)
    pools = instances.get("MSFT_SIPPoolSetting") or []
    servers = _servers(hosts, pools, pilot_pool, edge_pool, site, quotas or {})
    edge_hosts = hosts.get("ocs_legacy_edge") or []
    return {
        "name": name,
        "domain": {"fqdn": domain, "netbios": netbios, "users_ou": users_ou},
        "accounts": [{"user": admin_user, "password": lab_password,
                      "groups": ["RTCUniversalServerAdmins", "CSAdministrator", "Domain Users"]}],
        "servers": servers,
        "legacy": _legacy(instances, edge_hosts[0] if edge_hosts else None),
        "user_defaults": {"meeting_policy": None},
        "users": _users(instances, users_ou),
    }


def scenario_yaml(scenario, header_lines=()):
    """The scenario as YAML text: keys in the order built, Unicode as is, a header of comments first."""
    import yaml  # the controller has PyYAML (Ansible needs it); imported here so module_utils stays importable

    head = ["# lync.migration capture: a lab scenario of the deployment as read over WinRM (lab/README.md,",
            "# \"Scenario format\"). Not captured (the reads have no such data):"]
    head += ["#   - " + line for line in NOT_CAPTURED]
    head += ["# " + line for line in header_lines]
    body = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096)
    return "\n".join(head) + "\n" + body
