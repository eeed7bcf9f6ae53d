"""Get-/Set-CsConferencingPolicy and the read side of the other policies imported from OCS 2007 R2."""

from __future__ import annotations

import fnmatch

from ..engine import what_if
from ..errors import PSError
from ..model import opath
from . import cmdlet


def _not_found(noun: str, identity: str) -> PSError:
    return PSError(
        f'Cannot get "{noun}" "{identity}" because it does not exist.',
        f"MissingItem,Microsoft.Rtc.Management.Internal.Get{noun}Cmdlet",
        category="InvalidData", target=identity,
        exception="System.Management.Automation.ItemNotFoundException")


def _norm_identity(identity: str) -> str:
    if identity.lower() == "global":
        return "Global"
    if ":" in identity:
        scope, _, name = identity.partition(":")
        return f"{scope[:1].upper()}{scope[1:].lower()}:{name}"
    return f"Tag:{identity}"


def _make_get(cmd: str, kind: str, global_relative: bool = False):
    noun = cmd.split("-", 1)[1].replace("Cs", "", 1)

    def get(ctx, params, tx):
        docs = [d for _k, d in tx.query(kind)]
        ident = params.get("Identity")
        if ident is not None:
            ident = str(ident)
            if "*" in ident:
                docs = [d for d in docs if fnmatch.fnmatchcase(d["Identity"].lower(), ident.lower())]
            else:
                key = ident if global_relative else _norm_identity(ident)
                doc = tx.get(kind, key)
                if doc is None:
                    raise _not_found(noun, ident)
                docs = [doc]
        if params.get("Filter"):
            pattern = str(params["Filter"]).lower()
            docs = [d for d in docs if fnmatch.fnmatchcase(d["Identity"].lower(), pattern)]
        # Global first, then sites, then per-user tags, as Lync lists them.
        order = {"global": 0, "site": 1, "service": 2, "tag": 3}
        docs.sort(key=lambda d: (order.get(d["Identity"].split(":")[0].lower(), 4), d["Identity"].lower()))
        return docs

    get.__name__ = cmd.replace("-", "_").lower()
    cmdlet(cmd, requires="lync")(get)


for _cmd, _kind in (
    ("Get-CsConferencingPolicy", "conferencing_policy"),
    ("Get-CsVoicePolicy", "voice_policy"),
    ("Get-CsDialPlan", "dial_plan"),
    ("Get-CsExternalAccessPolicy", "external_access_policy"),
    ("Get-CsArchivingPolicy", "archiving_policy"),
    ("Get-CsPresencePolicy", "presence_policy"),
):
    _make_get(_cmd, _kind)
_make_get("Get-CsVoiceRoute", "voice_route", global_relative=True)

@cmdlet("Set-CsConferencingPolicy", requires="lync")
def set_cs_conferencing_policy(ctx, params, tx):
    from ..model.policies import CONFERENCING_DEFAULTS

    ident = _norm_identity(str(params.get("Identity") or "Global"))
    doc = tx.get("conferencing_policy", ident)
    if doc is None:
        raise PSError(
            f'Cannot find "ConferencingPolicy" "{params.get("Identity") or "Global"}" because it does not exist. To '
            "create it, use the New- cmdlet.",
            "MissingItem,Microsoft.Rtc.Management.Internal.SetConferencingPolicyCmdlet",
            category="InvalidData", target=ident, exception="System.Management.Automation.ItemNotFoundException")
    changed = dict(doc)
    for name, value in params.items():
        if name in CONFERENCING_DEFAULTS and value is not None:
            current = CONFERENCING_DEFAULTS[name]
            if isinstance(current, bool) and not isinstance(value, bool):
                raise PSError(f"Cannot process argument transformation on parameter '{name}'. Cannot convert value "
                              f'"{value}" to type "System.Boolean".',
                              f"ParameterArgumentTransformationError,Set-CsConferencingPolicy", "InvalidData", str(value),
                              "System.Management.Automation.ParameterBindingArgumentTransformationException")
            changed[name] = value
    tx.put("conferencing_policy", ident, changed)
    if params.get("WhatIf"):
        return [what_if("Set", ident)]
    return []


@cmdlet("Get-CsDialInConferencingAccessNumber", requires="lync", needs_directory=True)
def get_cs_dial_in_conferencing_access_number(ctx, params, tx):
    """The dial-in conferencing access numbers: Conferencing Attendant contact objects (kind "endpoint")."""
    section = (ctx.lab.scenario.raw.get("topology") or {}).get("dial_in_numbers") or []
    settings = {str(n["sip_address"]).lower(): n for n in section}
    out = []
    for _k, ep in tx.query("endpoint"):
        if "caa" not in str(ep.get("OwnerUrn", ep.get("ApplicationId", ""))).lower():
            continue
        sip = str(ep.get("SipAddress") or "").lower()
        extra = settings.get(sip, {})
        obj = {
            "Identity": ep.get("Identity") or ep.get("DistinguishedName"),
            "PrimaryUri": ep.get("SipAddress"),
            "DisplayName": ep.get("DisplayName"),
            "DisplayNumber": extra.get("display_number") or str(ep.get("LineURI") or "").replace("tel:", ""),
            "LineURI": ep.get("LineURI"),
            "PrimaryLanguage": (extra.get("languages") or ["en-US"])[0],
            "SecondaryLanguages": list((extra.get("languages") or ["en-US"])[1:]),
            "Regions": list(extra.get("regions") or []),
            "Pool": ep.get("RegistrarPool"),
        }
        out.append(obj)
    ident = params.get("Identity")
    if ident is not None:
        want = str(ident).lower()
        out = [o for o in out if want in (str(o["PrimaryUri"]).lower(), str(o["PrimaryUri"]).lower()[4:],
                                          str(o["DisplayName"]).lower(), str(o["Identity"]).lower())]
        if not out:
            raise PSError(f'Management object not found for identity "{ident}".',
                          "Identity,Microsoft.Rtc.Management.AD.Cmdlets.GetOcsDialInConferencingAccessNumberCmdlet",
                          category="ObjectNotFound", target=str(ident),
                          exception="Microsoft.Rtc.Management.AD.ManagementException")
    if params.get("Region"):
        out = [o for o in out if str(params["Region"]).lower() in (r.lower() for r in o["Regions"])]
    if params.get("EmptyRegion"):
        out = [o for o in out if not o["Regions"]]
    if params.get("Filter"):
        test = opath.compile_filter(str(params["Filter"]), set(out[0]) if out else {"PrimaryUri"})
        out = [o for o in out if test(o)]
    return out
