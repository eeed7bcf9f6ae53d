"""Application contact objects: Get-CsTrustedApplicationEndpoint and Move-CsApplicationEndpoint.

The dial-in conferencing attendant numbers (OwnerUrn urn:application:Caa), the Response Group workflow contacts
(urn:application:Rgs) and trusted application endpoints are contact objects homed on a pool (kind "endpoint").
"""

from __future__ import annotations

from ..engine import what_if
from .cs_support import filter_matches, invalid, not_found, public, require_pool
from . import cmdlet


def _sip(identity: str) -> str:
    ident = str(identity).strip()
    return ident if ident.lower().startswith("sip:") else f"sip:{ident}"


def find_endpoint(tx, identity: str) -> tuple[str, dict] | None:
    ident = str(identity).strip()
    doc = tx.get("endpoint", _sip(ident))
    if doc is not None:
        return _sip(ident), doc
    for key, d in tx.query("endpoint"):   # by distinguished name or display name
        if ident.lower() in (d["Identity"].lower(), d["DisplayName"].lower()):
            return key, d
    return None


@cmdlet("Get-CsTrustedApplicationEndpoint", requires="lync", needs_directory=True)
def get_cs_trusted_application_endpoint(ctx, params, tx):
    docs = [d for _k, d in tx.query("endpoint")]
    if params.get("Identity"):
        hit = find_endpoint(tx, params["Identity"])
        if hit is None:
            raise not_found("Get-CsTrustedApplicationEndpoint", "endpoint", str(params["Identity"]))
        docs = [hit[1]]
    if params.get("ApplicationId"):
        docs = [d for d in docs if (d.get("ApplicationId") or "").lower() == str(params["ApplicationId"]).lower()]
    if params.get("TrustedApplicationPoolFqdn"):
        docs = [d for d in docs if d["RegistrarPool"].lower() == str(params["TrustedApplicationPoolFqdn"]).lower()]
    pred = filter_matches(params.get("Filter"), "Get-CsTrustedApplicationEndpoint")
    return [public(d) for d in docs if pred(d)]


@cmdlet("Move-CsApplicationEndpoint", requires="lync", needs_directory=True)
def move_cs_application_endpoint(ctx, params, tx):
    name = "Move-CsApplicationEndpoint"
    hit = find_endpoint(tx, params["Identity"])
    if hit is None:
        raise not_found(name, "application endpoint", str(params["Identity"]))
    key, doc = hit
    target = require_pool(tx, name, params["TargetApplicationPool"], "TargetApplicationPool", registrar=True)
    if doc["RegistrarPool"].lower() == target["Fqdn"].lower():
        raise invalid(name, f"The endpoint {doc['SipAddress']} is already homed on {target['Fqdn']}.",
                      target=doc["SipAddress"])
    moved = dict(doc, RegistrarPool=target["Fqdn"])
    tx.put("endpoint", key, moved)
    if params.get("WhatIf"):
        return [what_if("Move-CsApplicationEndpoint", doc["Identity"])]
    return [public(moved)] if params.get("PassThru") else []
