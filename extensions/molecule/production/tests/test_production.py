"""Verify for the production scenario (Phase 8): nobody is left on OCS 2007 R2, federation goes through the Lync
Edge, and the legacy Access Edge is stopped and disabled; read back with Get-CsUser, Get-CsSite,
Get-CsAccessEdgeConfiguration and Get-Service over WinRM (shared/lab_admin.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lab_admin import PILOT_POOL, powershell_json, powershell_lines, quoted, windows_host  # noqa: E402


@pytest.fixture(scope="module")
def lync_admin():
    return windows_host()


def test_no_user_is_left_on_ocs(lync_admin):
    [left] = powershell_json(lync_admin, "Get-CsUser -OnOfficeCommunicationServer | Measure-Object | Select-Object Count")
    assert left["Count"] == 0
    # The account whose AD name had a trailing space (fixed before P8.2) moved too.
    [ken] = powershell_json(lync_admin, "Get-CsUser -Identity %s | Select-Object RegistrarPool" % quoted("Ken Myer"))
    assert ken["RegistrarPool"] == PILOT_POOL


def test_federation_goes_through_the_lync_edge(lync_admin):
    [site] = powershell_json(lync_admin, "Get-CsSite -Identity Redmond | Select-Object FederationRoute")
    assert site["FederationRoute"] == "EdgeServer:edgepool02.contoso.net"
    [edge] = powershell_json(lync_admin, "Get-CsAccessEdgeConfiguration | Select-Object AllowFederatedUsers,AllowOutsideUsers")
    assert edge["AllowFederatedUsers"] is True and edge["AllowOutsideUsers"] is True


def test_the_legacy_access_edge_is_stopped_and_disabled():
    # The legacy Edge runs PowerShell 2.0 and .NET 3.5: no ConvertTo-Json, and Get-Service has no StartType
    # (.NET 4.6.1), so the status from Get-Service and the start mode from WMI, as plain lines.
    ocs_edge = windows_host("ocs-edge01.contoso.net")
    assert powershell_lines(ocs_edge, "Get-Service -Name RTCSRV | ForEach-Object { $_.Status }") == ["Stopped"]
    assert powershell_lines(ocs_edge, "Get-WmiObject -Class Win32_Service -Filter \"Name='RTCSRV'\" | "
                                      "ForEach-Object { $_.StartMode }") == ["Disabled"]
