"""Verify for the pilot_pool scenario (Phase 3): Active Directory is prepared and the pilot pool is published with
its services, read back with the Lync Server Management Shell over WinRM (shared/lab_admin.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lab_admin import PILOT_POOL, powershell, powershell_json, windows_host  # noqa: E402


@pytest.fixture(scope="module")
def lync_admin():
    return windows_host()


def test_the_domain_is_ready_for_lync(lync_admin):
    result = powershell(lync_admin, "Get-CsAdDomain")
    assert result.rc == 0 and "LC_DOMAINSETTINGS_STATE_READY" in result.stdout


def test_get_cspool_shows_the_pilot_pool_with_its_registrar(lync_admin):
    pools = {p["Identity"]: p for p in powershell_json(lync_admin, "Get-CsPool | Select-Object Identity,Site,Services")}
    assert "Registrar:" + PILOT_POOL in pools[PILOT_POOL]["Services"]
    assert pools[PILOT_POOL]["Site"] == "Site:Redmond"


def test_the_central_management_store_replicates(lync_admin):
    replicas = powershell_json(lync_admin, "Get-CsManagementStoreReplicationStatus | Select-Object ReplicaFqdn,UpToDate")
    assert [r["ReplicaFqdn"] for r in replicas] == ["lync-fe01.contoso.net"] and replicas[0]["UpToDate"]


def test_the_central_management_store_is_installed_and_located(lync_admin):
    """Install-CsDatabase -CentralManagementDatabase and Set-CsConfigurationStoreLocation ran before the first
    publish (office-docs-powershell Install-CsDatabase.md, Set-/Get-CsConfigurationStoreLocation.md)."""
    result = powershell(lync_admin, "Get-CsConfigurationStoreLocation")
    assert result.rc == 0 and "lync-sql01.contoso.net/rtc" in result.stdout
