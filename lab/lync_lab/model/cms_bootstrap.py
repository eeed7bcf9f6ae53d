"""The first publish of a Lync Server 2013 topology creates the Central Management store.

Topology Builder's first Publish Topology runs Install-CsDatabase -CentralManagementDatabase and
Set-CsConfigurationStoreLocation before publishing; the new CMS holds Lync's global policies and CMS-wide
settings at their defaults (what stage seeding writes for stage 4 through the same functions).
"""

from __future__ import annotations

from typing import Any

from . import pool_objects, policies


def create_cms(tx: Any) -> None:
    policies.seed_lync_globals(tx)
    pool_objects.put_cms_config(tx, "AccessEdgeConfiguration", dict(pool_objects.ACCESS_EDGE_DEFAULT))
    pool_objects.put_cms_config(tx, "WebServiceConfiguration", dict(pool_objects.WEB_SERVICE_DEFAULT))
    pool_objects.put_cms_config(tx, "StaticRoutingConfiguration", dict(pool_objects.STATIC_ROUTING_DEFAULT))
