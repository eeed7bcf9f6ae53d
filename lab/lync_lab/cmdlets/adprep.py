"""Active Directory preparation for Lync Server 2013: schema, forest and domain, in that order.

Get-CsAdServerSchema / Get-CsAdForest / Get-CsAdDomain return the state strings the Deployment Wizard checks.
"""

from __future__ import annotations

from ..engine import what_if
from ..model import pool_objects
from ..model.cs_support import cmdlet_class
from ..errors import PSError
from . import cmdlet


def _state(tx) -> dict:
    return tx.meta_get("adprep", {"schema": False, "forest": False, "domains": {}})


def _domain(ctx, params) -> str:
    return str(params.get("Domain") or pool_objects.section_domain(ctx.lab.scenario)).lower()


def _order_error(name: str, message: str) -> PSError:
    return PSError(message, f"PrepareStateCheck,{cmdlet_class(name)}", category="InvalidOperation",
                   exception="Microsoft.Rtc.Management.Deployment.DeploymentException")


@cmdlet("Get-CsAdServerSchema", requires="lync", needs_directory=True)
def get_cs_ad_server_schema(ctx, params, tx):
    return ["SCHEMA_VERSION_STATE_CURRENT" if _state(tx)["schema"] else "SCHEMA_VERSION_STATE_NOT_AVAILABLE"]


@cmdlet("Install-CsAdServerSchema", requires="lync", needs_directory=True)
def install_cs_ad_server_schema(ctx, params, tx):
    st = _state(tx)
    st["schema"] = True
    tx.meta_put("adprep", st)
    return [what_if("Install-CsAdServerSchema", "Schema")] if params.get("WhatIf") else []


@cmdlet("Get-CsAdForest", requires="lync", needs_directory=True)
def get_cs_ad_forest(ctx, params, tx):
    return ["FOREST_READY" if _state(tx)["forest"] else "FOREST_NOT_READY"]


@cmdlet("Enable-CsAdForest", requires="lync", needs_directory=True)
def enable_cs_ad_forest(ctx, params, tx):
    name = "Enable-CsAdForest"
    st = _state(tx)
    if not st["schema"] and params.get("SkipPrepareCheck") is not True:
        raise _order_error(name, "Prepare Schema must be completed before Prepare Forest: the Active Directory "
                                 "schema has not been extended for Lync Server (run Install-CsAdServerSchema, then "
                                 "wait for the schema to replicate).")
    st["forest"] = True
    tx.meta_put("adprep", st)
    return [what_if(name, "Forest")] if params.get("WhatIf") else []


@cmdlet("Disable-CsAdForest", requires="lync", needs_directory=True)
def disable_cs_ad_forest(ctx, params, tx):
    name = "Disable-CsAdForest"
    st = _state(tx)
    if any(st["domains"].values()):
        raise _order_error(name, "Domains of this forest are still prepared for Lync Server; run "
                                 "Disable-CsAdDomain in each of them before Disable-CsAdForest.")
    st["forest"] = False
    tx.meta_put("adprep", st)
    return [what_if(name, "Forest")] if params.get("WhatIf") else []


@cmdlet("Get-CsAdDomain", requires="lync", needs_directory=True)
def get_cs_ad_domain(ctx, params, tx):
    ready = _state(tx)["domains"].get(_domain(ctx, params), False)
    return ["LC_DOMAINSETTINGS_STATE_READY" if ready else "LC_DOMAINSETTINGS_STATE_NOT_READY"]


@cmdlet("Enable-CsAdDomain", requires="lync", needs_directory=True)
def enable_cs_ad_domain(ctx, params, tx):
    name = "Enable-CsAdDomain"
    st = _state(tx)
    if not st["forest"] and params.get("SkipPrepareCheck") is not True:
        raise _order_error(name, "Prepare Forest must be completed before Prepare Domain: the forest is not ready "
                                 "for Lync Server (run Enable-CsAdForest first).")
    st["domains"][_domain(ctx, params)] = True
    tx.meta_put("adprep", st)
    return [what_if(name, _domain(ctx, params))] if params.get("WhatIf") else []


@cmdlet("Disable-CsAdDomain", requires="lync", needs_directory=True)
def disable_cs_ad_domain(ctx, params, tx):
    st = _state(tx)
    st["domains"][_domain(ctx, params)] = False
    tx.meta_put("adprep", st)
    return [what_if("Disable-CsAdDomain", _domain(ctx, params))] if params.get("WhatIf") else []
