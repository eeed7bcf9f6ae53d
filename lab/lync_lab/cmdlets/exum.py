"""Exchange UM contact objects: Get-CsExUmContact, Move-CsExUmContact, and Grant-CsOuPermission."""

from __future__ import annotations

from ..engine import what_if
from .cs_support import (
    filter_matches,
    invalid,
    not_found,
    public,
    require_pool,
)
from . import cmdlet, unless_confirm_false


def _find(tx, identity) -> tuple[str, dict] | None:
    ident = str(identity).strip()
    sip = ident if ident.lower().startswith("sip:") else f"sip:{ident}"
    doc = tx.get("exum_contact", sip)
    if doc is not None:
        return sip, doc
    for key, d in tx.query("exum_contact"):
        if ident.lower() in (d["Identity"].lower(), d["DisplayName"].lower()):
            return key, d
    return None


@cmdlet("Get-CsExUmContact", requires="lync", needs_directory=True)
def get_cs_ex_um_contact(ctx, params, tx):
    docs = [d for _k, d in tx.query("exum_contact")]
    if params.get("Identity"):
        hit = _find(tx, params["Identity"])
        if hit is None:
            raise not_found("Get-CsExUmContact", "Exchange UM contact", str(params["Identity"]))
        docs = [hit[1]]
    pred = filter_matches(params.get("Filter"), "Get-CsExUmContact")
    docs = [d for d in docs if pred(d)]
    if params.get("ResultSize") not in (None, "Unlimited"):
        docs = docs[: int(params["ResultSize"])]
    return [public(d) for d in docs]


@cmdlet("Move-CsExUmContact", requires="lync", needs_directory=True, prompts=unless_confirm_false,
        prompt_source="office-docs-powershell Move-CsExUmContact.md, Example 1: a confirmation prompt is displayed "
                      "even without -Confirm and even with -Force")
def move_cs_ex_um_contact(ctx, params, tx):
    name = "Move-CsExUmContact"
    identities = params.get("Identity")
    if identities is None:
        raise invalid(name, "Give the contacts to move with -Identity (or pipe Get-CsExUmContact).",
                      category="InvalidArgument")
    identities = identities if isinstance(identities, list) else [identities]
    target = require_pool(tx, name, params["Target"], "Target", registrar=True)
    out = []
    for ident in identities:
        hit = _find(tx, ident)
        if hit is None:
            raise not_found(name, "Exchange UM contact", str(ident))
        key, doc = hit
        moved = dict(doc, RegistrarPool=target["Fqdn"])
        tx.put("exum_contact", key, moved)
        out.append(what_if(name, doc["Identity"]) if params.get("WhatIf") else public(moved))
    if params.get("WhatIf"):
        return out
    return out if params.get("PassThru") else []


@cmdlet("Grant-CsOuPermission", requires="lync", needs_directory=True)
def grant_cs_ou_permission(ctx, params, tx):
    grants = tx.meta_get("ou_permissions", [])
    types = params.get("ObjectType")
    types = types if isinstance(types, list) else [types]
    for t in types:
        entry = {"OU": str(params["OU"]), "ObjectType": str(t)}
        if entry not in grants:
            grants.append(entry)
    tx.meta_put("ou_permissions", grants)
    if params.get("WhatIf"):
        return [what_if("Grant-CsOuPermission", str(params["OU"]))]
    return []
