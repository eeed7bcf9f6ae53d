"""Verify for the merge_topologies scenario (Phase 4): what an administrator checks after the merge, with plain
Lync Server Management Shell commands over WinRM (shared/lab_admin.py; sent with -EncodedCommand, read through
ConvertTo-Json). Nothing of the collection is imported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lab_admin import LEGACY_POOL, PILOT_POOL, newest_report, powershell_json, windows_host  # noqa: E402


@pytest.fixture(scope="module")
def lync_admin():
    return windows_host()


def test_get_cspool_shows_the_legacy_pool_and_edge_in_backcompatsite(lync_admin):
    pools = {p["Identity"]: p for p in powershell_json(lync_admin, "Get-CsPool | Select-Object Identity,Site,Services")}
    assert pools[LEGACY_POOL]["Site"] == "Site:BackCompatSite"
    assert "Registrar:" + LEGACY_POOL in pools[LEGACY_POOL]["Services"]
    assert pools["ocs-edge01.contoso.net"]["Site"] == "Site:BackCompatSite"
    assert pools[PILOT_POOL]["Site"] != "Site:BackCompatSite"


def test_the_legacy_meeting_policies_are_imported(lync_admin):
    policies = {p["Identity"] for p in powershell_json(lync_admin, "Get-CsConferencingPolicy | Select-Object Identity")}
    assert {"Tag:Executive Meeting Policy", "Tag:Standard Meeting Policy"} <= policies


def test_every_replica_is_up_to_date(lync_admin):
    replicas = powershell_json(lync_admin, "Get-CsManagementStoreReplicationStatus | Select-Object ReplicaFqdn,UpToDate")
    assert replicas and all(r["UpToDate"] for r in replicas)


def test_the_rerun_reported_success():
    assert newest_report("phase4")["status"] == "succeeded"


def test_the_edge_input_file_is_microsofts_custom_edge_server_input_file():
    """The report keeps the -UserInputFileName document: Microsoft's format (Lync Server 2010 "Create a Custom
    Edge Server Input File"): TopologyInput in the LegacyUserInput.2008 namespace, EdgeCluster AP/MR/DP/Version,
    LoadBalancer, Machines/Machine, Ports, DirectorOrEdgeNextHop."""
    import xml.etree.ElementTree as ET

    text = newest_report("phase4")["merge"]["user_input"]     # returned on every run, merged or not
    ns = "{urn:schema:Microsoft.Rtc.Management.Deploy.LegacyUserInput.2008}"
    cluster = ET.fromstring(text.encode("utf-8")).find(ns + "EdgeClusters/" + ns + "EdgeCluster")
    assert (cluster.get("AP"), cluster.get("MR"), cluster.get("DP")) == ("true", "true", "true")
    assert cluster.find(ns + "LoadBalancer").get("InternalFqdn") == "ocs-edge01.contoso.net"
    assert cluster.find(ns + "DirectorOrEdgeNextHop").get("Fqdn") == LEGACY_POOL
