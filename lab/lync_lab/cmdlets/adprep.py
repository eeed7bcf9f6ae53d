"""Active Directory preparation for Lync Server 2013: schema, forest and domain, in that order.

Get-CsAdServerSchema / Get-CsAdForest / Get-CsAdDomain return the enumeration values the Deployment Wizard checks
(office-docs-powershell Get-CsAdServerSchema.md, Get-CsAdForest.md, Get-CsAdDomain.md, OUTPUTS): typed values, so
`[string]` gives the name and the envelope returns the name, never the enum's members.
"""

from __future__ import annotations

from ..engine import what_if
from ..model import pool_objects
from ..errors import PSError
from ..powershell.values import EnumValue
from .cs_support import cmdlet_class
from . import cmdlet

_DEPLOYMENT = "Microsoft.Rtc.Management.Deployment."
# The names are Microsoft's (the pages above); the pages name only the ready value of SchemaVersionState ("any
# other value" means not extended) and neither page gives the underlying integers: those, and the name of the
# schema's not-ready value, are assumed.
SCHEMA_CURRENT = EnumValue(_DEPLOYMENT + "SchemaVersionState", "SCHEMA_VERSION_STATE_CURRENT", 1)
SCHEMA_NOT_AVAILABLE = EnumValue(_DEPLOYMENT + "SchemaVersionState", "SCHEMA_VERSION_STATE_NOT_AVAILABLE", 0)
FOREST_READY = EnumValue(_DEPLOYMENT + "LcForestSettingsState", "LC_FORESTSETTINGS_STATE_READY", 1)
FOREST_NOT_READY = EnumValue(_DEPLOYMENT + "LcForestSettingsState", "LC_FORESTSETTINGS_STATE_NOT_READY", 0)
DOMAIN_READY = EnumValue(_DEPLOYMENT + "LcDomainSettingsState", "LC_DOMAINSETTINGS_STATE_READY", 1)
DOMAIN_NOT_READY = EnumValue(_DEPLOYMENT + "LcDomainSettingsState", "LC_DOMAINSETTINGS_STATE_NOT_READY", 0)


def _state(tx) -> dict:
    return tx.meta_get("adprep", {"schema": False, "forest": False, "domains": {}})


def _domain(ctx, params, cmdlet_name: str) -> str:
    """-Domain, or the local domain (Enable-CsAdDomain.md: "If this parameter is not included, domain preparation
    will take place on the local domain"). The lab's forest has the scenario's one AD domain; another name is
    refused as a real domain controller lookup would (wording assumed: Microsoft documents no message)."""
    local = str(getattr(ctx.lab.scenario, "domain", "") or pool_objects.section_domain(ctx.lab.scenario)).lower()
    asked = str(params.get("Domain") or local).lower()
    if asked != local:
        raise PSError(f'Domain "{asked}" was not found in the forest. Check the domain name and that a domain '
                      "controller of that domain can be reached.", f"DomainNotFound,{cmdlet_class(cmdlet_name)}",
                      category="ObjectNotFound", target=asked,
                      exception="Microsoft.Rtc.Management.Deployment.DeploymentException")
    return asked


def _order_error(name: str, message: str) -> PSError:
    return PSError(message, f"PrepareStateCheck,{cmdlet_class(name)}", category="InvalidOperation",
                   exception="Microsoft.Rtc.Management.Deployment.DeploymentException")


@cmdlet("Get-CsAdServerSchema", requires="lync", needs_directory=True)
def get_cs_ad_server_schema(ctx, params, tx):
    return [SCHEMA_CURRENT if _state(tx)["schema"] else SCHEMA_NOT_AVAILABLE]


@cmdlet("Install-CsAdServerSchema", requires="lync", needs_directory=True)
def install_cs_ad_server_schema(ctx, params, tx):
    st = _state(tx)
    st["schema"] = True
    tx.meta_put("adprep", st)
    return [what_if("Install-CsAdServerSchema", "Schema")] if params.get("WhatIf") else []


@cmdlet("Get-CsAdForest", requires="lync", needs_directory=True)
def get_cs_ad_forest(ctx, params, tx):
    return [FOREST_READY if _state(tx)["forest"] else FOREST_NOT_READY]


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
    ready = _state(tx)["domains"].get(_domain(ctx, params, "Get-CsAdDomain"), False)
    return [DOMAIN_READY if ready else DOMAIN_NOT_READY]


@cmdlet("Enable-CsAdDomain", requires="lync", needs_directory=True)
def enable_cs_ad_domain(ctx, params, tx):
    name = "Enable-CsAdDomain"
    st = _state(tx)
    if not st["forest"] and params.get("SkipPrepareCheck") is not True:
        raise _order_error(name, "Prepare Forest must be completed before Prepare Domain: the forest is not ready "
                                 "for Lync Server (run Enable-CsAdForest first).")
    domain = _domain(ctx, params, name)
    st["domains"][domain] = True
    tx.meta_put("adprep", st)
    return [what_if(name, domain)] if params.get("WhatIf") else []


@cmdlet("Disable-CsAdDomain", requires="lync", needs_directory=True)
def disable_cs_ad_domain(ctx, params, tx):
    domain = _domain(ctx, params, "Disable-CsAdDomain")
    st = _state(tx)
    st["domains"][domain] = False
    tx.meta_put("adprep", st)
    return [what_if("Disable-CsAdDomain", domain)] if params.get("WhatIf") else []
