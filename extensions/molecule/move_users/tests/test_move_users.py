"""Verify for the move_users scenario: what an administrator would check by hand after Phase 6.

Plain PowerShell over WinRM (shared/lab_admin.py: testinfra's winrm backend, NTLM), e.g.
`Get-CsUser -Identity 'Hao Chen' | Select-Object DisplayName,RegistrarPool | ConvertTo-Json` sent with
`powershell -EncodedCommand`. Nothing of the collection is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lab_admin import LAB_INVENTORY, LEGACY_POOL, PILOT_POOL, newest_report, powershell_json, quoted, windows_host  # noqa: E402


@pytest.fixture(scope="module")
def lync_admin():
    return windows_host()


def wave_users() -> list[str]:
    migration = yaml.safe_load((LAB_INVENTORY / "group_vars" / "all" / "migration.yml").read_text(encoding="utf-8"))
    return [name for wave in migration["lync_migration_waves"] for name in wave.get("identities", [])]


def test_every_wave_user_is_homed_on_the_pilot_pool(lync_admin):
    for name in wave_users():
        [user] = powershell_json(lync_admin, "Get-CsUser -Identity %s | Select-Object DisplayName,RegistrarPool"
                                 % quoted(name))
        assert user["RegistrarPool"] == PILOT_POOL, name


def test_users_outside_the_waves_stay_on_ocs(lync_admin):
    users = powershell_json(lync_admin, "Get-CsUser -OnOfficeCommunicationServer | "
                                        "Select-Object DisplayName,RegistrarPool")
    assert users, "the lab has users left on OCS 2007 R2 outside the waves"
    assert all(u["RegistrarPool"] == LEGACY_POOL for u in users)
    assert not set(wave_users()) & {u["DisplayName"] for u in users}


def test_the_second_run_moved_nobody():
    report = newest_report("phase6")
    assert report["status"] == "succeeded"
    assert report["totals"].get("moved", 0) == 0
