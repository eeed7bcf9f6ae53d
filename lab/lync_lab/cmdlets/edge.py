"""Access Edge configuration (federation and remote access): Get-/Set-CsAccessEdgeConfiguration."""

from __future__ import annotations

from ..engine import what_if
from ..model import pool_objects
from .cs_support import invalid, not_found, require_topology
from . import cmdlet

_SETTABLE = ("AllowAnonymousUsers", "AllowFederatedUsers", "AllowOutsideUsers", "BeClearingHouse",
             "EnablePartnerDiscovery", "EnableArchivingDisclaimer", "EnableUserReplicator",
             "KeepCrlsUpToDateForPeers", "MarkSourceVerifiableOnOutgoingMessages",
             "OutgoingTlsCountForFederatedPartners", "DiscoveredPartnerVerificationLevel", "IsPublicProvider",
             "VerificationLevel")


def _config(tx, cmdlet_name: str, identity) -> dict:
    require_topology(tx, cmdlet_name)
    if identity not in (None, "", "Global", "global"):
        raise not_found(cmdlet_name, "access Edge configuration", str(identity))
    return pool_objects.cms_config(tx, "AccessEdgeConfiguration") or dict(pool_objects.ACCESS_EDGE_DEFAULT)


@cmdlet("Get-CsAccessEdgeConfiguration", requires="lync")
def get_cs_access_edge_configuration(ctx, params, tx):
    return [_config(tx, "Get-CsAccessEdgeConfiguration", params.get("Identity"))]


@cmdlet("Set-CsAccessEdgeConfiguration", requires="lync")
def set_cs_access_edge_configuration(ctx, params, tx):
    name = "Set-CsAccessEdgeConfiguration"
    doc = _config(tx, name, params.get("Identity"))
    if params.get("Instance") is not None and isinstance(params["Instance"], dict):
        doc.update({k: v for k, v in params["Instance"].items() if k in _SETTABLE})
    for k in _SETTABLE:
        if k in params:
            doc[k] = params[k]
    if params.get("UseDnsSrvRouting"):
        doc.update(RoutingMethod="UseDnsSrvRouting", DefaultRouteFqdn=None)
    if params.get("UseDefaultRouting") or params.get("DefaultRouteFqdn"):
        if not params.get("DefaultRouteFqdn"):
            raise invalid(name, "-UseDefaultRouting needs -DefaultRouteFqdn.", category="InvalidArgument")
        doc.update(RoutingMethod="UseDefaultRouting", DefaultRouteFqdn=params["DefaultRouteFqdn"])
    if doc.get("EnablePartnerDiscovery") and doc.get("RoutingMethod") != "UseDnsSrvRouting":
        raise invalid(name, "EnablePartnerDiscovery requires DNS SRV routing (-UseDnsSrvRouting).",
                      category="InvalidArgument")
    pool_objects.put_cms_config(tx, "AccessEdgeConfiguration", doc)
    if params.get("WhatIf"):
        return [what_if(name, "Global")]
    return []
