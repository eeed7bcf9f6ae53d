"""Get-WmiObject / Get-CimInstance: the OCS 2007 R2 MSFT_SIP* classes (on OCS servers, and on a Lync server once
the OCS WMI Backward Compatibility Package is installed), Win32_Product / Win32_Service / Win32_OperatingSystem on
every server, and the Active Directory provider's ds_user (namespace root\\directory\\LDAP) on domain controllers.

Class and property names come from Microsoft's OCS 2007 R2 WMI reference (data/ocs2007r2-wmi.json); a property
the lab has no value for is null, as an unset WMI property is.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from ..errors import PSError
from ..model import servers
from ..model import users as U
from . import cmdlet

_WMI = Path(__file__).resolve().parent.parent / "data" / "ocs2007r2-wmi.json"


@functools.lru_cache(maxsize=1)
def _class_properties() -> dict[str, list[str]]:
    with open(_WMI, encoding="utf-8") as f:
        classes = json.load(f)["classes"]
    out = {}
    for name, c in classes.items():
        props = c.get("properties") or []
        out[name] = [p["name"] for p in props] if isinstance(props, list) else list(props)
    return out


def _instance(cls: str, values: dict) -> dict:
    props = _class_properties()[cls]
    return {p: values.get(p) for p in props}


def _legacy_pools(ctx) -> list[dict]:
    return list((ctx.lab.scenario.raw.get("legacy") or {}).get("pools") or [])


def _dn(ctx, kind: str, name: str) -> str:
    return (f"CN={{{name}}},CN={kind},CN=RTC Service,CN=Microsoft,CN=System,"
            f"{U.domain_dn(ctx.lab.scenario.domain)}")


def _pools(ctx, tx):
    out = []
    for p in _legacy_pools(ctx):
        name = p["fqdn"].split(".")[0]
        out.append(_instance("MSFT_SIPPoolSetting", {
            "PoolFQDN": p["fqdn"], "PoolDisplayName": name, "PoolType": "Enterprise" if p.get("edition", "enterprise")
            == "enterprise" else "Standard", "BackEndDBPath": f"{p.get('backend', '(local)')}\\rtc",
            "DomainFQDN": ctx.lab.scenario.domain, "PoolMemberList": list(p.get("frontends") or []),
            "MajorVersion": 3, "MinorVersion": 5, "SupportIMPresence": True, "SupportMeeting": True,
            "PoolDN": U.legacy_pool_dn(p["fqdn"], ctx.lab.scenario.domain),
            "InstanceID": "{" + U.conference_id("pool", 0) + "}"}))
    return out


def _servers(ctx, tx):
    users = [d for _k, d in tx.query("user") if d["OnOcs"]]
    out = []
    for p in _legacy_pools(ctx):
        for fe in p.get("frontends") or []:
            home = U.legacy_home_server(p["fqdn"], ctx.lab.scenario.domain)
            out.append(_instance("MSFT_SIPESServerSetting", {
                "FQDN": fe, "ESInstalled": True, "HomeServerDN": home, "MajorVersion": 3, "MinorVersion": 5,
                "HomeUsers": sum(1 for u in users if u["RegistrarPool"].lower() == p["fqdn"].lower()),
                "PoolDN": U.legacy_pool_dn(p["fqdn"], ctx.lab.scenario.domain)}))
    return out


def _users(ctx, tx):
    # OCS 2007 R2 sees the users it homes; users moved to Lync Server 2013 are no longer its to manage.
    out = []
    for _k, d in tx.query("user"):
        if not d["OnOcs"]:
            continue
        legacy = d.get("Legacy") or {}
        eap = tx.get("legacy_external_access_policy", legacy.get("external_access_policy") or "") or {}
        arch = tx.get("legacy_archiving_policy", legacy.get("archiving_policy") or "") or {}
        mp = legacy.get("meeting_policy")
        vp = legacy.get("voice_policy")
        out.append(_instance("MSFT_SIPESUserSetting", {
            "DisplayName": d["DisplayName"], "Enabled": d["Enabled"], "HomeServerDN": d["HomeServer"],
            "InstanceID": "{" + d["Guid"].upper() + "}", "LineURI": d["LineURI"] or None,
            "MeetingPolicy": _dn(ctx, "Policies", mp) if mp else None, "PrimaryURI": d["SipAddress"],
            # UCPolicy: the user's Enterprise Voice policy (the reference's purpose line: "meeting and voice (UC) policy").
            "UCPolicy": _dn(ctx, "Policies", vp) if vp else None,
            "UserDN": d["DistinguishedName"], "EnabledForFederation": bool(eap.get("federation")),
            "EnabledForInternetAccess": bool(eap.get("remote_access")),
            "PublicNetworkEnabled": bool(eap.get("public_im")),
            "ArchiveInternalCommunications": bool(arch.get("archive_internal")),
            "ArchiveFederatedCommunications": bool(arch.get("archive_external")),
            "EnabledForEnhancedPresence": True, "UCEnabled": bool(d["EnterpriseVoiceEnabled"]),
            "AllowOrganizeMeetingWithAnonymousParticipants": False, "ContactType": 0}))
    return out


def _meeting_policies(ctx, tx):
    return [_instance("MSFT_SIPGlobalMeetingPolicyData", {
        "Name": p["name"], "MeetingSize": p.get("max_meeting_size"), "AllowIPAudio": p.get("allow_ip_audio"),
        "AllowIPVideo": p.get("allow_ip_video"), "EnableDataCollaboration": p.get("enable_data_collaboration"),
        "EnableAppDesktopSharing": p.get("app_sharing"), "DefaultPolicy": p["name"] == "Default Policy",
        "PolicyDN": _dn(ctx, "Policies", p["name"])}) for _k, p in tx.query("legacy_meeting_policy")]


def _location_profiles(ctx, tx):
    return [_instance("MSFT_SIPLocationProfileData", {
        "Name": p["name"], "Description": p.get("description"), "ProfileDN": _dn(ctx, "Location Profiles", p["name"]),
        "NormalizationRules": [_dn(ctx, "Normalization Rules", r["name"]) for r in p.get("rules") or []],
        "OptimizeDeviceDialing": False}) for _k, p in tx.query("legacy_location_profile")]


def _routes(ctx, tx):
    return [_instance("MSFT_SIPPhoneRouteData", {
        "Name": r["name"], "TargetPhoneNumber": r["pattern"], "GatewayList": list(r.get("gateways") or []),
        "PhoneRouteUsages": list(r.get("pstn_usages") or []), "PhoneRouteDN": _dn(ctx, "Phone Routes", r["name"])})
        for _k, r in tx.query("legacy_voice_route")]


def _edge(ctx, tx):
    edge = (ctx.lab.scenario.raw.get("legacy") or {}).get("edge") or {}
    return [_instance("MSFT_SIPEdgeProxySetting", {"EdgeProxyFQDN": edge["access_edge_fqdn"]})] if edge else []


def _presence_policies(ctx, tx):
    # MSFT_SIPGlobalPresencePolicyData (OCS 2007 R2 WMI reference dd146509): one instance per presence policy.
    return [_instance("MSFT_SIPGlobalPresencePolicyData", {
        "Name": p["name"], "PromptedSubscribers": p.get("max_prompted_subscribers"),
        "CategorySubscriptions": p.get("max_category_subscription"), "PolicyDN": _dn(ctx, "Policies", p["name"]),
        "DefaultPolicy": p["name"] == "Default Presence Policy", "Type": "presence",
        "InstanceID": "{" + U.conference_id("presence|" + p["name"], 0) + "}"})
        for _k, p in tx.query("legacy_presence_policy")]


def _normalization_rules(ctx, tx):
    # MSFT_SIPLocalNormalizationRuleData (reference dd185890): a rule is one object that location profiles
    # reference by DN (MSFT_SIPLocationProfileData.NormalizationRules), so a rule named in two profiles is listed
    # once with both profiles in LocationProfiles.
    rules: dict[str, dict] = {}
    for _k, p in tx.query("legacy_location_profile"):
        for r in p.get("rules") or []:
            rule = rules.setdefault(r["name"], _instance("MSFT_SIPLocalNormalizationRuleData", {
                "Name": r["name"], "Pattern": r.get("pattern"), "Translation": r.get("translation"),
                "NormalizationRuleDN": _dn(ctx, "Normalization Rules", r["name"]), "LocationProfiles": [],
                "InstanceID": "{" + U.conference_id("rule|" + r["name"], 0) + "}"}))
            rule["LocationProfiles"].append(_dn(ctx, "Location Profiles", p["name"]))
    return list(rules.values())


_OCS_CLASSES = {
    "MSFT_SIPPoolSetting": _pools,
    "MSFT_SIPESServerSetting": _servers,
    "MSFT_SIPESUserSetting": _users,
    "MSFT_SIPGlobalMeetingPolicyData": _meeting_policies,
    "MSFT_SIPLocationProfileData": _location_profiles,
    "MSFT_SIPPhoneRouteData": _routes,
    "MSFT_SIPEdgeProxySetting": _edge,
    "MSFT_SIPGlobalPresencePolicyData": _presence_policies,
    "MSFT_SIPLocalNormalizationRuleData": _normalization_rules,
}


# Win32_OperatingSystem (MicrosoftDocs/win32:desktop-src/CIMWin32Prov/win32-operatingsystem.md, the properties of
# the class; Version is major.minor.build as desktop-src/SysInfo/operating-system-version.md numbers the releases:
# 5.2 Server 2003, 6.0 Server 2008, 6.1 Server 2008 R2, 6.2 Server 2012, 6.3 Server 2012 R2). Build and service pack
# per lab OS (lync_lab.hosts PROFILES): RTM builds 3790 / 6002 (SP2) / 7600 / 7601 (SP1) / 9200 / 9600.
OS_VERSIONS = {
    "2003sp2": ("5.2.3790", 2), "2008sp2": ("6.0.6002", 2), "2008sp2-wmf3": ("6.0.6002", 2),
    "2008r2": ("6.1.7600", 0), "2008r2sp1": ("6.1.7601", 1), "2008r2sp1-wmf3": ("6.1.7601", 1),
    "2012": ("6.2.9200", 0), "2012r2": ("6.3.9600", 0),
}


def _operating_system(ctx) -> dict:
    host = ctx.server.host
    version, sp = OS_VERSIONS[host.os]
    return {"Caption": host.os_name, "Version": version, "BuildNumber": version.rsplit(".", 1)[1],
            "ServicePackMajorVersion": sp, "ServicePackMinorVersion": 0, "CSName": ctx.server.fqdn.split(".")[0].upper(),
            # OSArchitecture is not available on Windows Server 2003 (the class page: not available before Vista).
            "OSArchitecture": None if host.os.startswith("2003") else "64-bit", "ProductType": 2 if
            ctx.server.role == "dc" else 3}


def _win32(ctx, tx, cls: str):
    if cls == "Win32_OperatingSystem":
        return [_operating_system(ctx)]
    doc = servers.get(tx, ctx.server.fqdn)
    if cls == "Win32_Product":
        return [{"IdentifyingNumber": p["IdentifyingNumber"], "Name": p["Name"], "Vendor": p["Vendor"],
                 "Version": p["Version"], "Caption": p["Name"], "PackageName": p["PackageName"]}
                for p in doc["Products"]]
    return [{"Name": s["Name"], "DisplayName": s["DisplayName"], "State": s["Status"],
             "StartMode": "Auto" if s["StartType"] == "Automatic" else s["StartType"],
             "Status": "OK", "Started": s["Status"] == "Running"} for s in doc["Services"]]


def _invalid_class(cls: str, cmd: str) -> PSError:
    return PSError("Invalid class " + f'"{cls}"', f"GetWMIManagementException,Microsoft.PowerShell.Commands.{cmd}",
                   category="InvalidType", target=cls, exception="System.Management.ManagementException")


# Classes every Windows Server has (win32 desktop-src/CIMWin32Prov: the Win32 provider's classes; __NAMESPACE is a
# WMI system class) that the lab does not model: a real server answers them, so they are "not modelled", never
# "Invalid class" as for a class the server lacks.
_WINDOWS_CLASSES_NOT_MODELLED = frozenset(c.lower() for c in (
    "Win32_ComputerSystem", "Win32_BIOS", "Win32_Process", "Win32_LogicalDisk",
    "Win32_NetworkAdapter", "Win32_NetworkAdapterConfiguration", "Win32_QuickFixEngineering", "Win32_Share",
    "Win32_Processor", "Win32_PhysicalMemory", "Win32_UserAccount", "Win32_Group", "Win32_Environment",
    "Win32_TimeZone", "Win32_PageFileUsage", "Win32_DiskDrive", "Win32_Volume", "Win32_StartupCommand",
    "__NAMESPACE"))


def _not_modelled(cls: str) -> PSError:
    return PSError(f'The rehearsal lab does not model the WMI class "{cls}" (every Windows Server has it); see '
                   "lab/README.md for the classes it answers.", "LabClassNotModelled", category="NotImplemented",
                   target=cls, exception="System.NotImplementedException")


# WQL's comparison operators (win32 desktop-src/WmiSdk/wql-operators.md: =, <, >, <=, >=, != or <>, LIKE), and
# conditions joined by AND; strings compare without regard to case.
_COND = re.compile(r"^\s*\(?\s*(\w+)\s*(<=|>=|<>|!=|=|<|>|like)\s*(?:'((?:[^']|'')*)'|\"([^\"]*)\"|(\w+))\s*\)?\s*$",
                   re.I)


def _wql(filter_text: str, cmd: str):
    conds = []
    for part in re.split(r"\s+and\s+", filter_text.strip(), flags=re.I):
        m = _COND.match(part)
        if not m:
            raise PSError("Invalid query " + f'"{filter_text}"',
                          f"GetWMIManagementException,Microsoft.PowerShell.Commands.{cmd}", category="InvalidArgument",
                          target=filter_text, exception="System.Management.ManagementException")
        prop, op, sq, dq, bare = m.groups()
        value = sq.replace("''", "'") if sq is not None else dq if dq is not None else bare
        conds.append((prop, op.lower(), value))

    def test(obj: dict) -> bool:
        for prop, op, value in conds:
            have = next((v for k, v in obj.items() if k.lower() == prop.lower()), None)
            have_s = "" if have is None else str(have).lower()
            want = str(value).lower()
            if isinstance(have, bool):
                want = {"true": "true", "false": "false", "1": "true", "0": "false"}.get(want, want)
            if op == "=" and have_s != want:
                return False
            if op in ("<>", "!=") and have_s == want:
                return False
            if op == "like" and not re.fullmatch(re.escape(want).replace("%", ".*").replace("_", "."), have_s):
                return False
            if op in ("<", "<=", ">", ">=") and have is None:
                return False
            if op == "<" and not have_s < want or op == "<=" and not have_s <= want:
                return False
            if op == ">" and not have_s > want or op == ">=" and not have_s >= want:
                return False
        return True

    return test


# The Active Directory provider (MicrosoftDocs/win32:desktop-src/WmiSdk/mapping-active-directory-instances.md: every
# AD object is one instance in root\directory\LDAP, keyed by ADSIPath; creating-and-updating-active-directory-objects.md
# reads and writes ds_user's DS_sAMAccountName, and ADS_UF_ACCOUNTDISABLE is userAccountControl bit 0x2).
# Attributes are DS_ + the LDAP display name with '-' as '_' (the mapping the provider applies; the names below
# beyond DS_sAMAccountName follow it: assumed). Modelled on domain controllers only, where the provider reads the
# local directory (on a member server it would be a second hop); other servers answer "not modelled".
AD_NAMESPACE = "root\\directory\\ldap"
UF_ACCOUNTDISABLE = 0x2
UF_NORMAL_ACCOUNT = 0x200


def _ds_users(ctx, tx):
    out = []
    for _k, d in tx.query("user"):
        out.append({
            "ADSIPath": "LDAP://" + d["DistinguishedName"], "DS_distinguishedName": d["DistinguishedName"],
            "DS_sAMAccountName": d["SamAccountName"], "DS_userPrincipalName": d["UserPrincipalName"],
            "DS_displayName": d["DisplayName"],
            "DS_userAccountControl": UF_NORMAL_ACCOUNT | (0 if d.get("AdEnabled", True) else UF_ACCOUNTDISABLE),
            "DS_msRTCSIP_PrimaryUserAddress": d["SipAddress"], "DS_msRTCSIP_UserEnabled": bool(d["Enabled"])})
    return out


def _get(ctx, params, tx, cmd: str):
    cls = str(params.get("Class") or params.get("ClassName") or "")
    query = params.get("Query")
    filt = params.get("Filter")
    if query:
        m = re.match(r"^\s*select\s+\*\s+from\s+(\w+)(?:\s+where\s+(.+))?\s*$", str(query), re.I)
        if not m:
            raise PSError(f'Invalid query "{query}"', f"GetWMIManagementException,Microsoft.PowerShell.Commands.{cmd}",
                          category="InvalidArgument", target=str(query),
                          exception="System.Management.ManagementException")
        cls, filt = m.group(1), m.group(2)
    namespace = str(params.get("Namespace") or "root\\cimv2").lower().replace("/", "\\")
    if namespace == AD_NAMESPACE:
        if cls.lower() != "ds_user" or ctx.server.role != "dc":
            raise _not_modelled(cls)
        objs = _ds_users(ctx, tx)
        return [o for o in objs if _wql(str(params["Filter"]), cmd)(o)] if params.get("Filter") else objs
    windows = ["Win32_Product", "Win32_Service", "Win32_OperatingSystem"]
    canonical = next((c for c in list(_OCS_CLASSES) + windows if c.lower() == cls.lower()), None)
    if canonical in windows:
        objs = _win32(ctx, tx, canonical)
    elif canonical is not None:
        # The MSFT_SIP classes are registered by OCS 2007 R2 itself, or on Lync Server 2013 by OCSWMIBC.msi.
        if not (servers.has(tx, ctx.server.fqdn, "ocs") or servers.installed(tx, ctx.server.fqdn, servers.OCSWMIBC)):
            raise _invalid_class(cls, cmd)
        objs = _OCS_CLASSES[canonical](ctx, tx)
    elif cls.lower() in _WINDOWS_CLASSES_NOT_MODELLED:
        raise _not_modelled(cls)
    else:
        raise _invalid_class(cls, cmd)
    if filt:
        test = _wql(str(filt), cmd)
        objs = [o for o in objs if test(o)]
    return objs


@cmdlet("Get-WmiObject", requires="any")
def get_wmi_object(ctx, params, tx):
    return _get(ctx, params, tx, "GetWmiObjectCommand")


@cmdlet("Get-CimInstance", requires="any")
def get_cim_instance(ctx, params, tx):
    return _get(ctx, params, tx, "GetCimInstanceCommand")
