"""Get-CsUser, Move-CsLegacyUser, Move-CsUser, Set-CsUser and the Grant-Cs*Policy cmdlets."""

from __future__ import annotations

from ..engine import what_if
from ..errors import PSError
from ..model import opath, policies
from ..model import users as U
from . import cmdlet, unless_confirm_false


def _dom(ctx) -> tuple[str, str]:
    sc = ctx.lab.scenario
    return sc.domain, sc.netbios


def _identity(value) -> str:
    """A UserIdParameter: a string, or a user object piped in from Get-CsUser."""
    if isinstance(value, dict):
        return value.get("SipAddress") or value.get("Identity") or ""
    return str(value)


def _find_pool(tx, fqdn: str):
    from ..model.topology import find_pool

    return find_pool(tx, fqdn)


def _error(message: str, fqid: str, category: str, target: str | None,
           exception: str = "Microsoft.Rtc.Management.AD.ManagementException") -> PSError:
    return PSError(message, fqid, category=category, target=target, exception=exception)


# -- Get-CsUser -----------------------------------------------------------------------------------------
@cmdlet("Get-CsUser", requires="lync", needs_directory=True)
def get_cs_user(ctx, params, tx):
    domain, netbios = _dom(ctx)
    if params.get("LdapFilter"):
        raise _error("The rehearsal lab does not evaluate -LdapFilter; use -Filter with the same condition "
                     "(e.g. -Filter {DisplayName -like \"Ken*\"}).", "LdapFilterNotSupported,"
                     "Microsoft.Rtc.Management.AD.Cmdlets.GetOcsUserCmdlet", "NotImplemented", params["LdapFilter"],
                     "System.NotImplementedException")
    if params.get("Identity") is not None:
        ident = _identity(params["Identity"])
        found = U.matches(tx, ident, netbios, domain)
        if not found:
            raise U.not_found(ident)
        if len(found) > 1 and "*" not in ident:
            raise U.ambiguous(ident)
        docs = found
    else:
        docs = [d for _k, d in tx.query("user")]
    if params.get("OnOfficeCommunicationServer"):
        docs = [d for d in docs if d["OnOcs"]]
    if params.get("OnLyncServer"):
        docs = [d for d in docs if not d["OnOcs"] and d.get("RegistrarPool")]
    if params.get("UnAssignedUser"):
        docs = [d for d in docs if d["Enabled"] and not d.get("RegistrarPool")]
    if params.get("OU"):
        ou = str(params["OU"]).lower()
        docs = [d for d in docs if d["DistinguishedName"].lower().endswith("," + ou)]
    out = [U.output(d) for d in docs]
    if params.get("Filter"):
        test = opath.compile_filter(str(params["Filter"]), set(U.USER_PROPERTIES) | {"Guid", "OU"})
        out = [o for o, d in zip(out, docs) if test({**o, "Guid": d["Guid"]})]
    size = params.get("ResultSize")
    if size not in (None, "Unlimited") and int(size) >= 0:
        out = out[: int(size)]
    return out


# -- Move-CsLegacyUser --------------------------------------------------------------------------------------
_EXCLUDES = ("ExcludeArchivingPolicy", "ExcludeConferencingPolicy", "ExcludeDialPlan", "ExcludeExternalAccessPolicy",
             "ExcludePresencePolicy", "ExcludeVoicePolicy")
_MOVE_LEGACY_FQID = "Microsoft.Rtc.Management.AD.Cmdlets.MoveOcsLegacyUserCmdlet"


def _check_lync_target(tx, target: str, cmd_fqid: str) -> dict:
    pool = _find_pool(tx, target)
    if pool is None:
        raise _error(f'Pool "{target}" was not found. Specify the fully qualified domain name (FQDN) of a Registrar '
                     "pool that is defined in the published topology.", f"PoolNotFound,{cmd_fqid}",
                     "ObjectNotFound", target)
    if not pool.get("registrar"):
        raise _error(f'Pool "{target}" is not a Registrar pool. Users can be homed only on a Registrar pool.',
                     f"InvalidTargetPool,{cmd_fqid}", "InvalidArgument", target)
    return pool


def _when_confirm_given(params: dict) -> bool:
    """A prompt only when -Confirm (or -Confirm:$true) is given: the page documents no prompt otherwise."""
    return params.get("Confirm") is True


@cmdlet("Move-CsLegacyUser", requires="lync", needs_directory=True, move=True, prompts=_when_confirm_given,
        prompt_source="office-docs-powershell Move-CsLegacyUser.md, -Confirm: prompts you for confirmation before "
                      "executing the command")
def move_cs_legacy_user(ctx, params, tx):
    domain, netbios = _dom(ctx)
    ident = _identity(params.get("Identity"))
    target = str(params.get("Target") or "")
    out = []
    for doc in _each_match(ident, _found(tx, ident, netbios, domain, "MoveOcsLegacyUserCmdlet")):
        out.extend(_move_legacy_one(tx, params, doc, ident, target, domain, netbios))
    return out


def _found(tx, ident: str, netbios: str, domain: str, cmdlet_class: str) -> list[dict]:
    """The users ``ident`` names; none gives the not-found error with the calling cmdlet's class in its FQID."""
    found = U.matches(tx, ident, netbios, domain)
    if not found:
        e = U.not_found(ident)
        e.fqid = f"Identity,Microsoft.Rtc.Management.AD.Cmdlets.{cmdlet_class}"
        raise e
    return found


def _each_match(ident: str, found: list[dict]) -> list[dict]:
    """The users a move acts on. A display name with the * wildcard names every user it matches, and the cmdlet
    moves each of them (Move-CsLegacyUser.md, -Identity: "* Smith" returns all the users whose display name ends
    with " Smith"). Assumed: an identity without a wildcard that two accounts share is refused as ambiguous."""
    if len(found) > 1 and "*" not in ident:
        raise U.ambiguous(ident)
    return found


def _move_legacy_one(tx, params, doc, ident, target, domain, netbios) -> list:
    if not doc["OnOcs"]:
        raise _error(f'User "{doc["SipAddress"]}" is not homed on Office Communications Server 2007 R2 or Office '
                     f'Communications Server 2007 (the user is homed on "{doc["RegistrarPool"]}"). Move-CsLegacyUser '
                     "moves legacy users only; use Move-CsUser to move users between Lync Server pools.",
                     f"NotLegacyUser,{_MOVE_LEGACY_FQID}", "InvalidOperation", ident)
    field = U.leading_or_trailing_space(doc)
    if field:
        raise _error(f'Cannot move user "{doc["SipAddress"]}": the user\'s {field} "{doc[field]}" has a leading or '
                     "trailing space. Remove the leading or trailing spaces from the name in Active Directory, wait "
                     "for replication, and then try again.", f"InvalidUserName,{_MOVE_LEGACY_FQID}",
                     "InvalidData", ident)
    pool = _check_lync_target(tx, target, _MOVE_LEGACY_FQID)
    if pool.get("legacy"):
        raise _error(f'Pool "{target}" is an Office Communications Server 2007 R2 pool. Move-CsLegacyUser moves '
                     "legacy users to a Lync Server Registrar pool.", f"InvalidTargetPool,{_MOVE_LEGACY_FQID}",
                     "InvalidArgument", target)
    excludes = {name for name in _EXCLUDES if params.get(name)}
    if not policies.imported(tx):
        raise _error("Legacy configuration has not been imported. Run Import-CsLegacyConfiguration before you "
                     "move legacy users, and then run Move-CsLegacyUser again.",
                     f"LegacyConfigurationNotImported,{_MOVE_LEGACY_FQID}", "InvalidOperation", ident)
    _assigned, missing = U.legacy_policies_to_apply(tx, doc, excludes)
    if missing:
        raise _error(f'Cannot move user "{doc["SipAddress"]}": the Lync Server copy of the legacy '
                     f"{', '.join(missing)} was not found. Run Import-CsLegacyConfiguration (with -ReplaceExisting "
                     "if the item changed) and then run Move-CsLegacyUser again, or exclude that policy.",
                     f"LegacyConfigurationNotImported,{_MOVE_LEGACY_FQID}", "InvalidOperation", ident)
    moved = U.apply_legacy_move(tx, doc, pool["Fqdn"], domain, netbios, excludes)
    if params.get("WhatIf"):
        return [what_if("Move", f"{doc['DistinguishedName']}")]
    return [U.output(moved)] if params.get("PassThru") else []


# -- Move-CsUser ------------------------------------------------------------------------------------------
_MOVE_FQID = "Microsoft.Rtc.Management.AD.Cmdlets.MoveOcsUserCmdlet"


@cmdlet("Move-CsUser", requires="lync", needs_directory=True, move=True, prompts=unless_confirm_false,
        prompt_source="office-docs-powershell Move-CsUser.md, -Confirm: bypasses the confirmation prompt that "
                      "would otherwise appear when you attempt to move a user (-Confirm:$False)")
def move_cs_user(ctx, params, tx):
    domain, netbios = _dom(ctx)
    if params.get("UserList"):
        raise _error("The rehearsal lab moves users one -Identity at a time; -UserList is not modelled.",
                     f"UserListNotSupported,{_MOVE_FQID}", "NotImplemented", None, "System.NotImplementedException")
    ident = _identity(params.get("Identity"))
    target = str(params.get("Target") or "")
    out = []
    for doc in _each_match(ident, _found(tx, ident, netbios, domain, "MoveOcsUserCmdlet")):
        out.extend(_move_one(tx, params, doc, ident, target, domain, netbios))
    return out


def _move_one(tx, params, doc, ident, target, domain, netbios) -> list:
    if doc["OnOcs"]:
        raise _error(f'User "{doc["SipAddress"]}" is homed on a legacy pool ("{doc["RegistrarPool"]}"). To move '
                     "users homed on Office Communications Server 2007 R2, use Move-CsLegacyUser.",
                     f"LegacyUserMove,{_MOVE_FQID}", "InvalidOperation", ident)
    pool = _check_lync_target(tx, target, _MOVE_FQID)
    if (doc.get("RegistrarPool") or "").lower() == pool["Fqdn"].lower():
        raise _error(f'User "{doc["SipAddress"]}" is already homed on "{pool["Fqdn"]}". Specify a different '
                     "target pool.", f"SameSourceAndTargetPool,{_MOVE_FQID}", "InvalidOperation", ident)
    old = dict(doc)
    new = dict(doc)
    new["RegistrarPool"] = pool["Fqdn"]
    if pool.get("legacy"):
        # Rollback to OCS 2007 R2: the user is homed on the legacy pool again and keeps the OCS settings; Lync
        # policies do not apply to users homed on OCS.
        new["OnOcs"] = True
        new["HomeServer"] = U.legacy_home_server(pool["Fqdn"], domain)
        for prop, _kind, _switch in U.LEGACY_POLICY_MAP.values():
            new[prop] = None
    else:
        new["HomeServer"] = U.lync_home_server(domain)
    U.put_user(tx, new, netbios, old)
    if params.get("Force"):
        # Move-CsUser.md, -Force: the account moves without its contacts or meetings, which are not recoverable.
        U.lose_conferences(tx, new, lambda conf: False, "Move-CsUser -Force moves no meetings", "Move-CsUser")
    elif pool.get("legacy"):
        # Back to OCS 2007 R2: users "will likely experience functionality and data loss" and may have to
        # reschedule the meetings they created while homed on Lync (Move-CsUser, Lync Server 2010 reference,
        # learn.microsoft.com gg398528(v=ocs.14)). Assumed: the meetings migrated from OCS go back with the user.
        U.lose_conferences(tx, new, lambda conf: conf.get("origin", "ocs") != "lync",
                           "scheduled on Lync Server 2013: OCS 2007 R2 cannot host it; reschedule it", "Move-CsUser")
    U.move_conferences(tx, new, pool["Fqdn"])
    if params.get("WhatIf"):
        return [what_if("Move", doc["DistinguishedName"])]
    return [U.output(new)] if params.get("PassThru") else []


# -- Set-CsUser -----------------------------------------------------------------------------------------
@cmdlet("Set-CsUser", requires="lync", needs_directory=True)
def set_cs_user(ctx, params, tx):
    domain, netbios = _dom(ctx)
    ident = _identity(params.get("Identity"))
    out = []
    # Set-CsUser.md (-Identity): the * wildcard in a display name reaches every user it matches.
    for doc in _each_match(ident, _found(tx, ident, netbios, domain, "SetOcsUserCmdlet")):
        out.extend(_set_one(tx, params, doc, netbios, domain))
    return out


def _set_one(tx, params, doc, netbios, domain) -> list:
    new = dict(doc)
    for name in ("Enabled", "EnterpriseVoiceEnabled", "LineURI", "SipAddress"):
        if name in params and params[name] is not None:
            new[name] = params[name]
    if isinstance(new["SipAddress"], str) and not new["SipAddress"].lower().startswith("sip:"):
        raise _error(f'"{new["SipAddress"]}" is not a valid SIP address. SIP addresses start with "sip:".',
                     "InvalidSipAddress,Microsoft.Rtc.Management.AD.Cmdlets.SetOcsUserCmdlet", "InvalidArgument",
                     new["SipAddress"])
    if new["SipAddress"].lower() != doc["SipAddress"].lower():
        other = U.matches(tx, new["SipAddress"], netbios, domain)
        if other:
            raise _error(f'SIP address "{new["SipAddress"]}" is already in use by "{other[0]["DistinguishedName"]}".',
                         "DuplicateSipAddress,Microsoft.Rtc.Management.AD.Cmdlets.SetOcsUserCmdlet",
                         "InvalidArgument", new["SipAddress"])
    if new["LineURI"] and not str(new["LineURI"]).lower().startswith("tel:"):
        raise _error(f'"{new["LineURI"]}" is not a valid line URI. Line URIs start with "tel:".',
                     "InvalidLineUri,Microsoft.Rtc.Management.AD.Cmdlets.SetOcsUserCmdlet", "InvalidArgument",
                     new["LineURI"])
    U.put_user(tx, new, netbios, doc)
    if params.get("WhatIf"):
        return [what_if("Set", doc["DistinguishedName"])]
    return [U.output(new)] if params.get("PassThru") else []


# -- Grant-Cs*Policy ---------------------------------------------------------------------------------------
def _make_grant(cmd: str, prop: str, kind: str):
    noun = cmd.split("-", 1)[1]

    def grant(ctx, params, tx):
        domain, netbios = _dom(ctx)
        if params.get("Identity") is None:
            raise _error(f"{cmd} without -Identity (global or group assignment) is not modelled by the rehearsal "
                         "lab; grant the policy to a user.", f"GlobalGrantNotSupported,{noun}", "NotImplemented",
                         None, "System.NotImplementedException")
        ident = _identity(params["Identity"])
        # Grant-Cs*Policy.md (-Identity): the * wildcard reaches every user whose display name it matches.
        docs = _each_match(ident, _found(tx, ident, netbios, domain,
                                           f"Grant{noun.replace('Cs', 'Ocs', 1)}Cmdlet"))
        name = params.get("PolicyName")
        if name in ("", "$null"):
            name = None
        if name is not None:
            tag = name[4:] if name.lower().startswith("tag:") else name
            if tag.lower() == "global" or tx.get(kind, f"Tag:{tag}") is None:
                raise _error(f'Cannot find policy "{name}" because it does not exist, or it is not a per-user '
                             "policy.", f"PolicyNotFound,Microsoft.Rtc.Management.AD.Cmdlets.Assign{noun}Cmdlet",
                             "ObjectNotFound", name)
            name = tx.get(kind, f"Tag:{tag}")["Identity"][4:]
        out = []
        for doc in docs:
            new = dict(doc)
            new[prop] = name
            U.put_user(tx, new, netbios, doc)
            if params.get("WhatIf"):
                out.append(what_if(cmd.replace("-", " "), doc["DistinguishedName"]))
            elif params.get("PassThru"):
                out.append(U.output(new))
        return out

    grant.__name__ = cmd.replace("-", "_").lower()
    cmdlet(cmd, requires="lync", needs_directory=True)(grant)


for _cmd, _prop, _kind in (
    ("Grant-CsConferencingPolicy", "ConferencingPolicy", "conferencing_policy"),
    ("Grant-CsVoicePolicy", "VoicePolicy", "voice_policy"),
    ("Grant-CsDialPlan", "DialPlan", "dial_plan"),
    ("Grant-CsExternalAccessPolicy", "ExternalAccessPolicy", "external_access_policy"),
    ("Grant-CsArchivingPolicy", "ArchivingPolicy", "archiving_policy"),
    ("Grant-CsPresencePolicy", "PresencePolicy", "presence_policy"),
):
    _make_grant(_cmd, _prop, _kind)
