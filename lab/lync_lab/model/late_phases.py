"""Effects of the manual steps of Phases 8-10 that stage seeding and `lync-lab perform` share.

- fix_account_names (before P8.2): the guide says an account whose name has leading or trailing spaces cannot be
  moved; the administrator corrects the name in Active Directory (outside Lync's cmdlets), then moves the user.
- stop_legacy_access_edge (P8.1.i): the Office Communications Server Access Edge service on each legacy Edge is
  stopped and set to Disabled (done by the roles with Stop-Service/Set-Service; the seed uses this).
- uninstall_ocs (P10.3): the OCS 2007 R2 server roles are removed from a server (the OCS decommissioning
  documents); its OCS products and services are gone, which Merge-CsLegacyTopology then no longer finds.
"""

from __future__ import annotations

from . import servers, users

LEGACY_ACCESS_EDGE = ("RTCSRV", "Office Communications Server Access Edge")


def accounts_needing_a_name_fix(tx) -> list[dict]:
    return [d for _k, d in tx.query("user") if d.get("OnOcs") and users.leading_or_trailing_space(d) is not None]


def fix_account_names(tx, netbios: str) -> list[str]:
    """Trim DisplayName, SamAccountName and UserPrincipalName of legacy users whose names Move-CsLegacyUser
    refuses. Returns the SIP addresses fixed."""
    fixed = []
    for doc in accounts_needing_a_name_fix(tx):
        old = dict(doc)
        new = dict(doc)
        for field in ("DisplayName", "SamAccountName", "UserPrincipalName"):
            if isinstance(new.get(field), str):
                new[field] = new[field].strip()
        if new["SamAccountName"] != old["SamAccountName"]:
            tx.delete("user", old["SamAccountName"])
        users.put_user(tx, new, netbios, old)
        fixed.append(new.get("SipAddress"))
    return fixed


def stop_legacy_access_edge(tx, fqdn: str) -> bool:
    doc = servers.get(tx, fqdn)
    changed = False
    for s in doc["Services"]:
        if (s["Name"], s["DisplayName"]) == LEGACY_ACCESS_EDGE and (s["Status"], s["StartType"]) != ("Stopped",
                                                                                                      "Disabled"):
            s.update(Status="Stopped", StartType="Disabled")
            changed = True
    if changed:
        servers.put(tx, doc)
    return changed


def uninstall_ocs(tx, fqdn: str) -> list[str]:
    """Remove every OCS 2007 R2 product (server roles and administrative tools) and their services."""
    doc = servers.get(tx, fqdn)
    removed = [p["Name"] for p in doc["Products"] if p["Name"].startswith(servers.OCS_PREFIX)]
    if not removed:
        return []
    doc["Products"] = [p for p in doc["Products"] if not p["Name"].startswith(servers.OCS_PREFIX)]
    doc["Services"] = [s for s in doc["Services"] if not s["DisplayName"].startswith("Office Communications Server")]
    servers.put(tx, doc)
    return removed
