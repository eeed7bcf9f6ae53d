"""Verify for the plan scenario (Phase 1, read-only): the deployment is as it was (OCS 2007 R2 users and services
read back over WMI and Get-Service on the legacy Front End, as an admin would), and the plan report maps the
legacy pools and objects. Plain PowerShell over WinRM (shared/lab_admin.py); nothing of the collection is imported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lab_admin import LEGACY_POOL, OCS_FE, newest_report, powershell_lines, windows_host  # noqa: E402


@pytest.fixture(scope="module")
def ocs_fe():
    return windows_host(OCS_FE)


# The legacy Front End runs PowerShell 2.0 (Windows Server 2008 R2): no ConvertTo-Json there, so plain lines.
def test_every_ocs_user_is_still_homed_on_the_legacy_pool(ocs_fe):
    homes = powershell_lines(ocs_fe, "Get-WmiObject -Class MSFT_SIPESUserSetting | ForEach-Object { $_.HomeServerDN }")
    assert len(homes) > 50
    assert all(home.startswith("CN=") for home in homes)


def test_the_legacy_front_end_service_still_runs(ocs_fe):
    assert powershell_lines(ocs_fe, "Get-Service -Name RTCSRV | ForEach-Object { $_.Status }") == ["Running"]


def test_the_plan_report_lists_the_legacy_pool_and_the_objects_to_move():
    report = newest_report("phase1")
    assert report["status"] == "succeeded"
    assert LEGACY_POOL in [p["pool"] for p in report["inventory"]["pools"]]
    assert report["legacy_objects"], "the plan maps no legacy object to a phase"
