"""Verify for the decommission scenario (Phase 10): no BackCompatSite and no legacy pool in the topology, the
conference directories on the Lync pool (Get-CsSite, Get-CsPool, Get-CsConferenceDirectory over WinRM,
shared/lab_admin.py), and _sipinternaltls._tcp answering with the Lync pool (nslookup's question, asked with
dnspython of the lab's DNS server)."""

from __future__ import annotations

import sys
from pathlib import Path

import dns.resolver
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lab_admin import LEGACY_POOL, PILOT_POOL, instance, powershell_json, windows_host  # noqa: E402


@pytest.fixture(scope="module")
def lync_admin():
    return windows_host()


def test_get_cssite_shows_no_backcompatsite(lync_admin):
    sites = [s["Identity"] for s in powershell_json(lync_admin, "Get-CsSite | Select-Object Identity")]
    assert sites == ["Site:Redmond"]
    pools = [p["Identity"] for p in powershell_json(lync_admin, "Get-CsPool | Select-Object Identity")]
    assert LEGACY_POOL not in pools and "ocs-edge01.contoso.net" not in pools


def test_conference_directories_are_on_the_lync_pool(lync_admin):
    directories = powershell_json(lync_admin, "Get-CsConferenceDirectory | Select-Object Identity,ServiceId")
    assert directories and {d["ServiceId"] for d in directories} == {"UserServer:" + PILOT_POOL}


def test_sipinternaltls_points_at_the_lync_pool():
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = instance()["dns"]
    answer = resolver.resolve("_sipinternaltls._tcp.contoso.net", "SRV")
    assert [str(r.target).rstrip(".") for r in answer] == [PILOT_POOL]
