"""SIP-enabled AD users, their identity resolution, and the user moves (shared by the cmdlets and stage seeding).

Kind "user", key = SamAccountName (unique in the domain, and unchanged when the SIP address changes).
Kind "user_alias", key = every identity form Lync accepts (sip:address, address, UPN, DOMAIN\\sam, DN,
display name) -> {"users": [sam, ...]} (a display name may belong to several users).
Kind "conference", key "<sam>/<conference id>": a user's "my meeting" conference, hosted on the user's pool; its
bookkeeping key "origin" says where it was scheduled ("ocs" when missing, "lync" for one scheduled on Lync 2013).
Kind "lost_data", key "<sam>/<conference id>": what a move lost for good (a rehearsal shows what a rollback costs).
"""

from __future__ import annotations

import hashlib
import re

from ..errors import PSError

# Get-CsUser's properties, in the order Lync Server 2013 prints them.
USER_PROPERTIES = [
    "Identity", "VoicePolicy", "VoiceRoutingPolicy", "ConferencingPolicy", "PresencePolicy", "DialPlan",
    "LocationPolicy", "ClientPolicy", "ClientVersionPolicy", "ArchivingPolicy", "ExchangeArchivingPolicy",
    "PinPolicy", "ExternalAccessPolicy", "MobilityPolicy", "PersistentChatPolicy", "UserServicesPolicy",
    "HostedVoiceMail", "HostedVoicemailPolicy", "HostingProvider", "RegistrarPool", "Enabled", "SipAddress",
    "LineURI", "EnterpriseVoiceEnabled", "ExUmEnabled", "HomeServer", "DisplayName", "SamAccountName",
    "UserPrincipalName",
]
POLICY_PROPERTIES = [
    "VoicePolicy", "VoiceRoutingPolicy", "ConferencingPolicy", "PresencePolicy", "DialPlan", "LocationPolicy",
    "ClientPolicy", "ClientVersionPolicy", "ArchivingPolicy", "PinPolicy", "ExternalAccessPolicy",
    "MobilityPolicy", "PersistentChatPolicy", "UserServicesPolicy", "HostedVoicemailPolicy",
]
# legacy policy field -> (Lync user property, Lync policy kind, Move-CsLegacyUser switch that skips it)
LEGACY_POLICY_MAP = {
    "meeting_policy": ("ConferencingPolicy", "conferencing_policy", "ExcludeConferencingPolicy"),
    "presence_policy": ("PresencePolicy", "presence_policy", "ExcludePresencePolicy"),
    "external_access_policy": ("ExternalAccessPolicy", "external_access_policy", "ExcludeExternalAccessPolicy"),
    "archiving_policy": ("ArchivingPolicy", "archiving_policy", "ExcludeArchivingPolicy"),
    "voice_policy": ("VoicePolicy", "voice_policy", "ExcludeVoicePolicy"),
    "location_profile": ("DialPlan", "dial_plan", "ExcludeDialPlan"),
}


def domain_dn(domain: str) -> str:
    return ",".join(f"DC={p}" for p in domain.split("."))


def lync_home_server(domain: str) -> str:
    return f"CN=Lc Services,CN=Microsoft,CN=1:1,CN=Pools,CN=RTC Service,CN=Services,CN=Configuration,{domain_dn(domain)}"


def legacy_pool_dn(pool: str, domain: str) -> str:
    """The pool's own AD object (msRTCSIP-Pool), MSFT_SIPPoolSetting.PoolDN. OCS 2007 R2 keeps its pools in the
    System container."""
    return f"CN={pool.split('.')[0]},CN=Pools,CN=RTC Service,CN=Microsoft,CN=System,{domain_dn(domain)}"


def legacy_home_server(pool: str, domain: str) -> str:
    """msRTCSIP-PrimaryHomeServer (MSFT_SIPESUserSetting.HomeServerDN) of a user the pool homes: the pool's service
    control point (msRTCSIP-PoolService), CN=LC Services under CN=Microsoft under the pool's object
    (OfficeDocs-SkypeForBusiness: Lync/LyncServer/lync-server-2013-schema-classes-and-descriptions.md names the
    class; Skype/SfbServer/manage/trusted-applications.md shows such a HomeServer value)."""
    return "CN=LC Services,CN=Microsoft," + legacy_pool_dn(pool, domain)


def _escape_cn(name: str) -> str:
    out = name
    for ch in ",+\"\\<>;=":
        out = out.replace(ch, "\\" + ch)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" "):
        out = out[:-1] + "\\ "
    return out


def new_user(scenario, spec: dict) -> dict:
    """The AD/Lync state of a scenario user as enabled on their home pool (legacy or Lync)."""
    domain = scenario.domain
    ou = spec.get("ou") or scenario.raw["domain"]["users_ou"]
    sam = spec["sam"]
    sip = "sip:" + spec["sip"]
    legacy_pools = {p["fqdn"].lower() for p in (scenario.raw.get("legacy") or {}).get("pools") or []}
    on_ocs = spec["pool"].lower() in legacy_pools
    guid = hashlib.md5(f"user|{sam.lower()}".encode()).hexdigest()
    doc = {name: None for name in POLICY_PROPERTIES}
    doc.update({
        "SamAccountName": sam,
        "DisplayName": spec["name"],
        "UserPrincipalName": spec.get("upn") or spec["sip"],
        "DistinguishedName": f"CN={_escape_cn(spec['name'])},{ou}",
        "OU": ou,
        "Guid": f"{guid[:8]}-{guid[8:12]}-{guid[12:16]}-{guid[16:20]}-{guid[20:]}",
        "AdEnabled": bool(spec.get("ad_enabled", True)),
        "Enabled": True,
        "SipAddress": sip,
        "LineURI": spec.get("line_uri") or "",
        "EnterpriseVoiceEnabled": bool(spec.get("line_uri")) and spec.get("voice_policy") is not None,
        "ExUmEnabled": False,
        "ExchangeArchivingPolicy": "Uninitialized",
        "HostedVoiceMail": None,
        "HostingProvider": "SRV:",
        "RegistrarPool": spec["pool"],
        "OnOcs": on_ocs,
        "HomeServer": legacy_home_server(spec["pool"], domain) if on_ocs else lync_home_server(domain),
        "Legacy": {f: spec.get(f) for f in LEGACY_POLICY_MAP} if on_ocs else {},
    })
    return doc


def aliases(doc: dict, netbios: str) -> list[str]:
    sip = doc["SipAddress"]
    return sorted({
        sip.lower(), sip[4:].lower(), doc["UserPrincipalName"].lower(),
        f"{netbios}\\{doc['SamAccountName']}".lower(), doc["DistinguishedName"].lower(), doc["DisplayName"].lower(),
    })


def put_user(tx, doc: dict, netbios: str, old: dict | None = None) -> None:
    key = doc["SamAccountName"]
    if old is None:
        old = tx.get("user", key)
    new_aliases = aliases(doc, netbios)
    if old is not None:
        for a in set(aliases(old, netbios)) - set(new_aliases):
            entry = tx.get("user_alias", a)
            if entry:
                entry["users"] = [k for k in entry["users"] if k != key.lower()]
                if entry["users"]:
                    tx.put("user_alias", a, entry)
                else:
                    tx.delete("user_alias", a)
    for a in new_aliases:
        entry = tx.get("user_alias", a) or {"users": []}
        if key.lower() not in entry["users"]:
            entry["users"] = sorted(entry["users"] + [key.lower()])
            tx.put("user_alias", a, entry)
    tx.put("user", key, doc)


def seed_users(tx, docs: list[dict], netbios: str) -> None:
    """Bulk version of put_user for an empty store (seeding 20,000 users)."""
    index: dict[str, list[str]] = {}
    for doc in docs:
        for a in aliases(doc, netbios):
            index.setdefault(a, []).append(doc["SamAccountName"].lower())
    tx.put_many("user", [(d["SamAccountName"], d) for d in docs])
    tx.put_many("user_alias", [(a, {"users": sorted(keys)}) for a, keys in index.items()])


def not_found(identity: str) -> PSError:
    return PSError(
        f'Management object not found for identity "{identity}".',
        "Identity,Microsoft.Rtc.Management.AD.Cmdlets.GetOcsUserCmdlet",
        category="ObjectNotFound",
        target=identity,
        exception="Microsoft.Rtc.Management.AD.ManagementException",
    )


def ambiguous(identity: str) -> PSError:
    return PSError(
        f'"{identity}" is ambiguous. The identity matches more than one object in Active Directory. '
        "Specify a unique identity such as the SIP address, the user principal name, the "
        "domain\\SamAccountName or the distinguished name.",
        "AmbiguousIdentity,Microsoft.Rtc.Management.AD.Cmdlets.GetOcsUserCmdlet",
        category="InvalidArgument",
        target=identity,
        exception="Microsoft.Rtc.Management.AD.AmbiguousIdentityException",
    )


def display_name_pattern(identity: str) -> re.Pattern:
    """The display names an identity with ``*`` names. The -Identity pages (Get-CsUser.md, Move-CsUser.md ...)
    name only the asterisk as a wildcard, so every other character (``?``, ``[`` ...) stands for itself."""
    return re.compile(".*".join(re.escape(part) for part in identity.lower().split("*")), re.DOTALL)


def matches(tx, identity: str, netbios: str, domain: str) -> list[dict]:
    """Every user the identity names, as Lync resolves a UserIdParameter (wildcards in display names).

    The identity is compared exactly as given, spaces included: no Lync page says -Identity is trimmed, and
    PowerShell binds a quoted string as written (about_Quoting_Rules). Case does not matter: the AD attributes
    it is compared with (displayName, userPrincipalName ...) have the String(Unicode) syntax, which AD compares
    case-insensitively (MicrosoftDocs/win32 desktop-src/ADSchema/s-string-unicode.md)."""
    key = identity.lower()
    if "\\" in key:
        dom, _, name = key.partition("\\")
        if dom == domain.lower():
            key = f"{netbios.lower()}\\{name}"
    if "*" in identity:
        pattern = display_name_pattern(identity)
        return [d for _k, d in tx.query("user") if pattern.fullmatch(d["DisplayName"].lower())]
    entry = tx.get("user_alias", key)
    if not entry:
        return []
    return [d for d in (tx.get("user", k) for k in entry["users"]) if d is not None]


def resolve_one(tx, identity: str, netbios: str, domain: str) -> dict:
    found = matches(tx, identity, netbios, domain)
    if not found:
        raise not_found(identity)
    if len(found) > 1:
        raise ambiguous(identity)
    return found[0]


def output(doc: dict) -> dict:
    """The object Get-CsUser returns for this user."""
    out = {}
    for name in USER_PROPERTIES:
        if name == "Identity":
            out[name] = doc["DistinguishedName"]
        else:
            out[name] = doc.get(name)
    return out


# -- conferences ------------------------------------------------------------------------------------------
def conference_id(sam: str, n: int) -> str:
    digest = hashlib.sha1(f"conf|{sam.lower()}|{n}".encode()).hexdigest().upper()
    return "".join(c for c in digest if c not in "01")[:8]


def new_conference(doc: dict, n: int) -> dict:
    cid = conference_id(doc["SamAccountName"], n)
    return {
        "ConferenceId": cid,
        "Organizer": doc["SipAddress"],
        "ConferenceUrl": f"conf:{doc['SipAddress']};gruu;opaque=app:conf:focus:id:{cid}",
        "Pool": doc["RegistrarPool"],
    }


def conferences_of(tx, doc: dict) -> list[tuple[str, dict]]:
    return tx.query("conference", prefix=doc["SamAccountName"].lower() + "/")


# -- moves ------------------------------------------------------------------------------------------------
def leading_or_trailing_space(doc: dict) -> str | None:
    for field in ("DisplayName", "SamAccountName", "UserPrincipalName"):
        value = doc.get(field) or ""
        if value != value.strip():
            return field
    return None


def legacy_policies_to_apply(tx, doc: dict, excludes: set[str]) -> tuple[dict, list[str]]:
    """(Lync property -> imported policy tag name, legacy names that were never imported)."""
    assigned: dict[str, str | None] = {}
    missing: list[str] = []
    for legacy_field, (prop, kind, switch) in LEGACY_POLICY_MAP.items():
        name = (doc.get("Legacy") or {}).get(legacy_field)
        if switch in excludes or name is None:
            assigned[prop] = None
            continue
        if tx.get(kind, f"Tag:{name}") is None:
            missing.append(f"{legacy_field.replace('_', ' ')} \"{name}\"")
        assigned[prop] = name
    return assigned, missing


def apply_legacy_move(tx, doc: dict, target: str, domain: str, netbios: str, excludes: set[str]) -> dict:
    """Home a legacy user on the Lync pool ``target`` with the imported equivalents of their legacy policies,
    and move their meetings there (same conference ID and URL). Callers have validated everything."""
    old = dict(doc)
    assigned, _missing = legacy_policies_to_apply(tx, doc, excludes)
    doc = dict(doc)
    doc.update(assigned)
    doc["RegistrarPool"] = target
    doc["OnOcs"] = False
    doc["HomeServer"] = lync_home_server(domain)
    # Kept: Move-CsUser back to the legacy pool restores the OCS settings the user had.
    doc["MovedFromLegacy"] = old["RegistrarPool"]
    put_user(tx, doc, netbios, old)
    move_conferences(tx, doc, target)
    return doc


def move_conferences(tx, doc: dict, target: str) -> None:
    for key, conf in conferences_of(tx, doc):
        conf["Pool"] = target
        tx.put("conference", key, conf)


def new_lync_conference(doc: dict, n: int) -> dict:
    """A meeting the user scheduled while homed on Lync Server 2013 (ids apart from the OCS ones)."""
    conf = new_conference(doc, 1000 + n)
    conf["origin"] = "lync"
    return conf


def lose_conferences(tx, doc: dict, keep, reason: str, cmdlet: str) -> list[str]:
    """Delete the user's conferences that ``keep(conf)`` refuses, each recorded as lost data; their ids."""
    lost = []
    for key, conf in conferences_of(tx, doc):
        if keep(conf):
            continue
        tx.delete("conference", key)
        tx.put("lost_data", key, {"User": doc["SipAddress"], "ConferenceId": conf["ConferenceId"],
                                  "Origin": conf.get("origin", "ocs"), "Pool": conf["Pool"], "Reason": reason,
                                  "Cmdlet": cmdlet})
        lost.append(conf["ConferenceId"])
    return lost
