"""Verify for the prepare scenario (Phase 2): the pilot pool's DNS A record answers from the lab's DNS server
(nslookup's question, asked with dnspython, since the lab does not model Resolve-DnsName), the legacy Front End
still runs, and every guided step P2.1-P2.5 is recorded as confirmed. Plain PowerShell over WinRM
(shared/lab_admin.py) for the server checks; nothing of the collection is imported."""

from __future__ import annotations

import sys
from pathlib import Path

import dns.resolver
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lab_admin import OCS_FE, PILOT_POOL, instance, newest_report, powershell_json, powershell_lines, windows_host  # noqa: E402


@pytest.fixture(scope="module")
def ocs_fe():
    return windows_host(OCS_FE)


def test_the_pilot_pool_has_its_a_record():
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = instance()["dns"]
    answer = resolver.resolve(PILOT_POOL, "A")
    assert [r.address for r in answer] == ["192.168.10.21"]


def test_the_legacy_front_end_still_runs(ocs_fe):
    # PowerShell 2.0 on the legacy Front End (Windows Server 2008 R2): no ConvertTo-Json there.
    assert powershell_lines(ocs_fe, "Get-Service -Name RTCSRV | ForEach-Object { $_.Status }") == ["Running"]


def test_the_guided_steps_are_confirmed_in_the_report():
    report = newest_report("phase2")
    assert report["status"] == "succeeded"
    steps = {s["id"]: s["status"] for s in report["guided_steps"]}
    assert {"P2.1-ocs-updates", "P2.3-bpa", "P2.4-backup", "P2.5-client-version-filter"} <= set(steps)
    assert set(steps.values()) == {"confirmed"}
