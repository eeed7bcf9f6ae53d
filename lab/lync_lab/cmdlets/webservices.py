"""Web Services configuration: Get-/Set-CsWebServiceConfiguration (global scope)."""

from __future__ import annotations

from ..engine import what_if
from ..model import pool_objects
from .cs_support import not_found, require_topology
from . import cmdlet


def _config(tx, cmdlet_name: str, identity) -> dict:
    require_topology(tx, cmdlet_name)
    if identity not in (None, "", "Global", "global"):
        raise not_found(cmdlet_name, "Web Services configuration", str(identity))
    return pool_objects.cms_config(tx, "WebServiceConfiguration") or dict(pool_objects.WEB_SERVICE_DEFAULT)


@cmdlet("Get-CsWebServiceConfiguration", requires="lync")
def get_cs_web_service_configuration(ctx, params, tx):
    return [_config(tx, "Get-CsWebServiceConfiguration", params.get("Identity"))]


@cmdlet("Set-CsWebServiceConfiguration", requires="lync")
def set_cs_web_service_configuration(ctx, params, tx):
    name = "Set-CsWebServiceConfiguration"
    doc = _config(tx, name, params.get("Identity"))
    for k, v in params.items():
        if k in pool_objects.WEB_SERVICE_DEFAULT and k != "Identity":
            doc[k] = v
    pool_objects.put_cms_config(tx, "WebServiceConfiguration", doc)
    if params.get("WhatIf"):
        return [what_if(name, "Global")]
    return []
