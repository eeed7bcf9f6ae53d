"""The Central Management store before the first topology: its database and its location in Active Directory.

Lync Server 2013 keeps the topology in the Central Management store, a SQL Server database that must exist, and
whose location (a service control point in AD) must be set, before the first topology can be published:
- Install-CsDatabase -CentralManagementDatabase -SqlServerFqdn -SqlInstanceName installs the store on a SQL Server
  instance (office-docs-powershell skype/skype-ps/SkypeForBusiness/Install-CsDatabase.md: the parameter "is
  typically used only by Topology Builder, and is generally called just once, during initial setup"; Example 2);
- Set-CsConfigurationStoreLocation -SqlServerFqdn -SqlInstanceName sets the SCP (Set-CsConfigurationStoreLocation.md;
  without -SkipLookup the computer and the instance must be available);
- Get-CsConfigurationStoreLocation reports the SQL Server path of the store (Get-CsConfigurationStoreLocation.md,
  output: String);
- Topology Builder's Publish Topology then finds the store ("Topology Builder found a CMS store", OfficeDocs-
  SkypeForBusiness Lync/LyncServer/lync-server-2013-publish-your-topology.md) and publishes into it.

Store: kind "cms_database" (key "<sql fqdn>/<instance>", the computer alone for its default instance) and meta "cms_store_location"
(the SCP: {"SqlServerFqdn", "SqlInstanceName"}). A newly installed store holds Lync's global policies and
CMS-wide settings at their defaults (assumed: Microsoft does not list what a new store contains; the lab puts the
defaults there when the database is created).
"""

from __future__ import annotations

from typing import Any

from . import pool_objects, policies

LOCATION_META = "cms_store_location"
SCENARIO_INSTANCE = "rtc"    # the pilot SQL Server's instance when the scenario names none (the guide's, Microsoft's examples')


def _key(sql_fqdn: str, instance: str | None) -> str:
    # no instance = the SQL Server's default instance (Install-CsDatabase.md -SqlInstanceName: omitted, the default
    # instance is used)
    return f"{sql_fqdn}/{instance}".lower() if instance else sql_fqdn.lower()


def path(sql_fqdn: str, instance: str | None) -> str:
    """The SQL Server path as Get-CsConfigurationStoreLocation reports it: Get-CsConfigurationStoreLocation.md
    (and its Lync Server 2013 version, technet Gg412814(v=OCS.15)) gives the example atl-sql-001.litwareinc.com/rtc;
    a default instance is the computer alone."""
    return f"{sql_fqdn}/{instance}" if instance else sql_fqdn


def available_instances(scenario: Any) -> set[str]:
    """The SQL Server instances that exist in the organisation: the pilot pool's store (topology.pilot_pool.sql,
    instance sql_instance or rtc), which the migration guide has the DBA create before P3.3."""
    section = ((getattr(scenario, "raw", None) or {}).get("topology") or {}).get("pilot_pool") or {}
    if not section.get("sql"):
        return set()
    return {_key(section["sql"], section.get("sql_instance", SCENARIO_INSTANCE))}


def database(tx: Any, sql_fqdn: str, instance: str | None) -> dict | None:
    return tx.get("cms_database", _key(sql_fqdn, instance))


def install_database(tx: Any, sql_fqdn: str, instance: str | None) -> bool:
    """Install the Central Management store on the instance; False when it is already there (nothing changes)."""
    if database(tx, sql_fqdn, instance):
        return False
    tx.put("cms_database", _key(sql_fqdn, instance),
           {"SqlServerFqdn": sql_fqdn.lower(), "SqlInstanceName": instance.lower() if instance else None})
    create_cms(tx)
    return True


def set_location(tx: Any, sql_fqdn: str, instance: str | None) -> bool:
    """Point the SCP at the instance; False when it already points there."""
    wanted = {"SqlServerFqdn": sql_fqdn.lower(), "SqlInstanceName": instance.lower() if instance else None}
    if tx.meta_get(LOCATION_META) == wanted:
        return False
    tx.meta_put(LOCATION_META, wanted)
    return True


def location(tx: Any) -> dict | None:
    return tx.meta_get(LOCATION_META)


def located_database(tx: Any) -> dict | None:
    """The store the SCP points at, if it is installed there."""
    loc = location(tx)
    return database(tx, loc["SqlServerFqdn"], loc["SqlInstanceName"]) if loc else None


def create_cms(tx: Any) -> None:
    policies.seed_lync_globals(tx)
    pool_objects.put_cms_config(tx, "AccessEdgeConfiguration", dict(pool_objects.ACCESS_EDGE_DEFAULT))
    pool_objects.put_cms_config(tx, "WebServiceConfiguration", dict(pool_objects.WEB_SERVICE_DEFAULT))
    pool_objects.put_cms_config(tx, "StaticRoutingConfiguration", dict(pool_objects.STATIC_ROUTING_DEFAULT))


def seed(tx: Any, scenario: Any) -> None:
    """Phase 3 (P3.3) created the store on the pilot pool's SQL Server and set its location: what the stages from
    4 on start with, through the same functions the cmdlets use."""
    pilot = ((getattr(scenario, "raw", None) or {}).get("topology") or {}).get("pilot_pool") or {}
    if not pilot.get("sql"):
        policies.seed_lync_globals(tx)
        return
    install_database(tx, pilot["sql"], pilot.get("sql_instance", SCENARIO_INSTANCE))
    set_location(tx, pilot["sql"], pilot.get("sql_instance", SCENARIO_INSTANCE))
