"""Verify for the configure_pilot scenario (Phase 5): the pilot site's federation route goes through the legacy
Edge (P5.1), read back with Get-CsSite over WinRM (shared/lab_admin.py), and P5.2 is confirmed in the report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lab_admin import newest_report, powershell_json, windows_host  # noqa: E402


@pytest.fixture(scope="module")
def lync_admin():
    return windows_host()


def test_get_cssite_routes_federation_through_the_legacy_edge(lync_admin):
    [site] = powershell_json(lync_admin, "Get-CsSite -Identity Redmond | Select-Object Identity,FederationRoute")
    assert "ocs-edge01.contoso.net" in str(site["FederationRoute"])


def test_the_report_records_the_route_and_the_edge_authorization():
    report = newest_report("phase5")
    assert report["status"] == "succeeded"
    assert report["federation"]["after"]["federation_route"] == "ocs-edge01.contoso.net"
    assert {s["id"]: s["status"] for s in report["guided_steps"]}["P5.2-authorize-edge"] == "confirmed"
