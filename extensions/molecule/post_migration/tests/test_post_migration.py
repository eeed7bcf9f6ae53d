"""Verify for the post_migration scenario (Phase 9): Response Group, dial-in conferencing and Exchange UM contact
objects are all homed on the Lync pool, read back with Get-CsTrustedApplicationEndpoint,
Get-CsDialInConferencingAccessNumber and Get-CsExUmContact over WinRM (shared/lab_admin.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lab_admin import PILOT_POOL, powershell_json, windows_host  # noqa: E402


@pytest.fixture(scope="module")
def lync_admin():
    return windows_host()


def test_the_response_group_and_dial_in_contacts_are_on_the_lync_pool(lync_admin):
    endpoints = powershell_json(lync_admin, "Get-CsTrustedApplicationEndpoint | Select-Object SipAddress,RegistrarPool")
    assert {"sip:helpdesk@contoso.net", "sip:dialin.redmond@contoso.net"} <= {e["SipAddress"] for e in endpoints}
    assert {e["RegistrarPool"] for e in endpoints} == {PILOT_POOL}


def test_dial_in_access_numbers_are_on_the_lync_pool(lync_admin):
    numbers = powershell_json(lync_admin, "Get-CsDialInConferencingAccessNumber | Select-Object PrimaryUri,Pool")
    assert len(numbers) == 2 and {n["Pool"] for n in numbers} == {PILOT_POOL}


def test_no_exchange_um_contact_is_left_on_the_legacy_pool(lync_admin):
    contacts = powershell_json(lync_admin, "Get-CsExUmContact | Select-Object SipAddress,RegistrarPool")
    assert contacts and {c["RegistrarPool"] for c in contacts} == {PILOT_POOL}
