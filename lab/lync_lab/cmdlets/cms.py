"""The Central Management store's creation: Install-CsDatabase -CentralManagementDatabase,
Set-/Get-CsConfigurationStoreLocation and Test-CsDatabase -CentralManagementDatabase (model/cms_bootstrap.py says
what each Microsoft page documents). The other forms of Install-CsDatabase and Test-CsDatabase (configured
databases, one database type, the local store) are not modelled and are refused as such."""

from __future__ import annotations

from ..engine import what_if
from ..errors import PSError, not_supported
from ..model import cms_bootstrap
from .cs_support import cmdlet_class
from . import cmdlet


def _sql_unreachable(cmdlet_name: str, sql: str, instance: str | None) -> PSError:
    # wording assumed: the cmdlets connect to the instance first; Microsoft does not document the failure's text
    target = cms_bootstrap.path(sql, instance)
    return PSError(f'Cannot connect to SQL Server "{target}". Check that the computer and the SQL Server instance '
                   "exist, are running and can be reached from this computer.",
                   f"SqlConnectionFailed,{cmdlet_class(cmdlet_name)}", category="ConnectionError", target=target,
                   exception="Microsoft.Rtc.Common.Data.SqlConnectionException")


def _require_instance(ctx, name: str, sql: str, instance: str | None) -> None:
    if cms_bootstrap._key(sql, instance) not in cms_bootstrap.available_instances(ctx.lab.scenario):
        raise _sql_unreachable(name, sql, instance)


@cmdlet("Install-CsDatabase", requires="lync", needs_directory=True)
def install_cs_database(ctx, params, tx):
    name = "Install-CsDatabase"
    if not params.get("CentralManagementDatabase"):
        raise not_supported("Install-CsDatabase without -CentralManagementDatabase (configured, typed or local "
                            "databases)")
    for switch in ("Clean", "Update", "Backup"):
        if params.get(switch):
            raise not_supported(f"Install-CsDatabase -{switch}")
    sql, instance = str(params["SqlServerFqdn"]), params.get("SqlInstanceName")
    _require_instance(ctx, name, sql, instance)
    cms_bootstrap.install_database(tx, sql, instance)    # already there: nothing changes (assumed)
    if params.get("WhatIf"):
        return [what_if(name, cms_bootstrap.path(sql, instance))]
    return []


@cmdlet("Set-CsConfigurationStoreLocation", requires="lync", needs_directory=True)
def set_cs_configuration_store_location(ctx, params, tx):
    name = "Set-CsConfigurationStoreLocation"
    if params.get("MirrorSqlServerFqdn") or params.get("MirrorSqlInstanceName"):
        raise not_supported("Set-CsConfigurationStoreLocation with a mirror")
    sql, instance = str(params["SqlServerFqdn"]), params.get("SqlInstanceName")
    if not params.get("SkipLookup"):      # the reference: without -SkipLookup the computer and instance must exist
        _require_instance(ctx, name, sql, instance)
    cms_bootstrap.set_location(tx, sql, instance)
    if params.get("WhatIf"):
        return [what_if(name, cms_bootstrap.path(sql, instance))]
    return []


@cmdlet("Get-CsConfigurationStoreLocation", requires="lync", needs_directory=True)
def get_cs_configuration_store_location(ctx, params, tx):
    loc = cms_bootstrap.location(tx)
    # no SCP yet: nothing is reported (assumed; the reference documents only the String it returns)
    return [cms_bootstrap.path(loc["SqlServerFqdn"], loc["SqlInstanceName"])] if loc else []


@cmdlet("Test-CsDatabase", requires="lync", needs_directory=True)
def test_cs_database(ctx, params, tx):
    """Test-CsDatabase -CentralManagementDatabase: whether the store can be reached (Test-CsDatabase.md: it
    connects to the database and reports success or failure, with the database's name). Without -SqlServerFqdn
    it tests the store the SCP points at. The property names are assumed (the reference names only the output
    type, Microsoft.Rtc.SyntheticTransactions.TaskOutput)."""
    if not params.get("CentralManagementDatabase"):
        raise not_supported("Test-CsDatabase without -CentralManagementDatabase")
    if params.get("SqlServerFqdn"):
        sql, instance = str(params["SqlServerFqdn"]), params.get("SqlInstanceName")
    else:
        loc = cms_bootstrap.location(tx)
        if loc is None:
            raise PSError("Active Directory does not contain the location of the Central Management store; give "
                          "-SqlServerFqdn or set the location with Set-CsConfigurationStoreLocation.",
                          f"NoCentralManagementStore,{cmdlet_class('Test-CsDatabase')}",
                          category="ResourceUnavailable", exception="Microsoft.Rtc.Management.ManagementException")
        sql, instance = loc["SqlServerFqdn"], loc["SqlInstanceName"]
    found = cms_bootstrap.database(tx, sql, instance) is not None
    return [{"SqlServerFqdn": sql, "SqlInstanceName": instance, "DatabaseName": "xds", "Succeed": found}]
