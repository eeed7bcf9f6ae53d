"""Verify for the edge scenario (Phase 7): the Lync Server 2013 Edge pool is in the topology with its external
FQDNs and next hop, read back with Get-CsPool and Get-CsService over WinRM (shared/lab_admin.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lab_admin import PILOT_POOL, powershell_json, windows_host  # noqa: E402


@pytest.fixture(scope="module")
def lync_admin():
    return windows_host()


def test_get_csservice_shows_the_lync_edge_pool(lync_admin):
    edges = {e["PoolFqdn"]: e for e in powershell_json(
        lync_admin, "Get-CsService -EdgeServer | Select-Object PoolFqdn,AccessEdgeExternalFqdn,NextHopFqdn,SiteId")}
    edge = edges["edgepool02.contoso.net"]
    assert edge["AccessEdgeExternalFqdn"] == "sip2.contoso.net"
    assert edge["NextHopFqdn"] == PILOT_POOL and edge["SiteId"] == "Site:Redmond"


def test_federation_still_goes_through_the_legacy_edge(lync_admin):
    # Phase 8 moves federation to the Lync Edge; Phase 7 only adds it.
    [site] = powershell_json(lync_admin, "Get-CsSite -Identity Redmond | Select-Object FederationRoute")
    assert "ocs-edge01.contoso.net" in str(site["FederationRoute"])
