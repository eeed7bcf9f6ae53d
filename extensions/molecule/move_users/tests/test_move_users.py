"""Verify for the move_users scenario: what an administrator would check by hand after Phase 6.

Plain PowerShell over WinRM (testinfra's winrm backend, NTLM), the way an admin types it:
`Get-CsUser ... | ConvertTo-Json`, sent with `powershell -EncodedCommand`. Nothing of the collection is imported.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
import testinfra
import yaml

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[4]))
LAB_INVENTORY = PROJECT / "inventories" / "lab"
LEGACY_POOL = "pool01.contoso.net"
PILOT_POOL = "pool02.contoso.net"


def lab_password() -> str:
    """The lab admin's password, from the inventory's vault, as `ansible-vault view` shows it to a person."""
    ansible_vault = Path(os.environ.get("MOLECULE_ANSIBLE_VAULT", "")) if os.environ.get("MOLECULE_ANSIBLE_VAULT") else None
    exe = str(ansible_vault) if ansible_vault else "ansible-vault"
    text = subprocess.run([exe, "view", "--vault-id", "lab@" + str(LAB_INVENTORY / ".vault-pass"),
                           str(LAB_INVENTORY / "group_vars" / "all" / "vault.yml")],
                          capture_output=True, text=True, check=True).stdout
    return yaml.safe_load(text)["vault_lync_admin_password"]


@pytest.fixture(scope="module")
def lync_admin():
    """The Lync admin host of the lab inventory (lync-fe01 on 127.0.0.1:55985), reached like any Windows host."""
    user = quote("CONTOSO\\lyncadmin", safe="")
    return testinfra.get_host("winrm://%s:%s@127.0.0.1:55985" % (user, quote(lab_password(), safe="")),
                              no_ssl=True)


def powershell_json(host, script: str):
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    result = host.run("powershell.exe -NoLogo -NoProfile -NonInteractive -EncodedCommand %s" % encoded)
    assert result.rc == 0, result.stderr_bytes.decode("cp437", "replace")
    # testinfra opens its WinRM shell with code page 437, so the console output is cp437 (names like José).
    return json.loads(result.stdout_bytes.decode("cp437"))


def wave_users() -> list[str]:
    migration = yaml.safe_load((LAB_INVENTORY / "group_vars" / "all" / "migration.yml").read_text(encoding="utf-8"))
    return [name for wave in migration["lync_migration_waves"] for name in wave.get("identities", [])]


def test_every_wave_user_is_homed_on_the_pilot_pool(lync_admin):
    for name in wave_users():
        literal = "'" + name.replace("'", "''") + "'"
        user = powershell_json(lync_admin, "Get-CsUser -Identity %s | Select-Object DisplayName,RegistrarPool "
                                           "| ConvertTo-Json" % literal)
        assert user["RegistrarPool"] == PILOT_POOL, name


def test_users_outside_the_waves_stay_on_ocs(lync_admin):
    users = powershell_json(lync_admin, "Get-CsUser -OnOfficeCommunicationServer | "
                                        "Select-Object DisplayName,RegistrarPool | ConvertTo-Json")
    users = users if isinstance(users, list) else [users]
    moved = set(wave_users())
    assert users, "the lab has users left on OCS 2007 R2 outside the waves"
    assert all(u["RegistrarPool"] == LEGACY_POOL for u in users)
    assert not moved & {u["DisplayName"] for u in users}
