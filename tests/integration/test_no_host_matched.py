"""No silent success for host patterns: every playbook, given an inventory whose group is misnamed or empty, exits
non-zero naming the group it looked for, the inventory it read and the fix (roles/migration_common/tasks/
inventory_hosts.yml, the first play of each playbook). Without that play, `hosts: lync_admin[0]` matches no host,
Ansible prints "skipping: no hosts matched" and exits 0 having done nothing (issue 18).

No lab is needed: the check runs on localhost before any play reaches a server. The inventories are copies of
inventories/lab (its group_vars included) with one group renamed or emptied, as an admin's typo would leave it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PLAYBOOKS = sorted(p.name for p in (REPO / "playbooks").glob("*.yml"))
# The groups each playbook needs a host in, the first being the one its plays run on.
NEEDED = {
    "phase1-plan.yml": ["lync_admin", "ocs_legacy_pool"],
    "phase2-prepare.yml": ["lync_admin", "ocs_legacy_pool"],
    "phase3-deploy-pilot-pool.yml": ["lync_admin", "lync_pilot_fe"],
    "phase4-merge-topologies.yml": ["lync_admin", "ocs_legacy_pool"],
    "phase5-configure-pilot-pool.yml": ["lync_admin"],
    "phase6-move-users.yml": ["lync_admin", "ocs_legacy_pool"],
    "phase7-add-edge.yml": ["lync_admin"],
    "phase8-pilot-to-production.yml": ["lync_admin", "ocs_legacy_pool"],
    "phase9-post-migration.yml": ["lync_admin"],
    "phase10-decommission-legacy.yml": ["lync_admin"],
    "rollback-users.yml": ["lync_admin"],
    "site.yml": ["lync_admin", "ocs_legacy_pool", "lync_pilot_fe"],
    "migration-report.yml": ["lync_admin"],
    "capture-scenario.yml": ["lync_admin", "ocs_legacy_pool"],
    "rehearsal-estimate.yml": ["lync_admin", "ocs_legacy_pool"],
}


def test_every_playbook_is_covered():
    assert sorted(NEEDED) == PLAYBOOKS


def _inventory(tmp: Path, rename: dict[str, str] | None = None, empty: tuple[str, ...] = ()) -> Path:
    """A copy of inventories/lab with groups renamed ({old: new}) or left without hosts."""
    inv = tmp / "inventory"
    shutil.copytree(REPO / "inventories" / "lab", inv)
    hosts = yaml.safe_load((inv / "hosts.yml").read_text())
    groups = hosts["all"]["children"]["windows"]["children"]
    for old, new in (rename or {}).items():
        groups[new] = groups.pop(old)
    for name in empty:
        groups[name] = {"hosts": {}}
    (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
    return inv


def _run(inventory: Path, playbook: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
               ANSIBLE_VAULT_IDENTITY_LIST="lab@%s" % (REPO / "inventories" / "lab" / ".vault-pass"),
               PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
    return subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / playbook),
                           *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_a_misnamed_admin_group_is_refused_naming_the_group_and_the_fix(tmp_path, playbook):
    inv = _inventory(tmp_path, rename={"lync_admin": "lync_admins"})
    proc = _run(inv, playbook)
    out = " ".join(proc.stdout.split())   # the YAML callback folds long lines
    assert proc.returncode != 0, out[-3000:]
    assert f"playbooks/{playbook} would match no host and do nothing" in out
    assert "group lync_admin is not in the inventory: add a group lync_admin with the Lync admin host" in out
    assert "or rename lync_admins to lync_admin" in out
    assert f"Inventory read: {inv}" in out and "Groups found:" in out and "lync_admins" in out
    # Nothing after the check ran: no play reached a server.
    assert "lync-fe01.contoso.net" not in proc.stdout.split("PLAY RECAP")[-1]


@pytest.mark.parametrize("playbook", sorted(p for p, g in NEEDED.items() if "ocs_legacy_pool" in g))
def test_a_missing_legacy_pool_group_is_refused(tmp_path, playbook):
    inv = _inventory(tmp_path, rename={"ocs_legacy_pool": "ocs_pool"})
    proc = _run(inv, playbook)
    out = " ".join(proc.stdout.split())
    assert proc.returncode != 0, out[-3000:]
    assert "group ocs_legacy_pool is not in the inventory: add a group ocs_legacy_pool with the OCS 2007 R2 pool" in out
    assert "or rename ocs_pool to ocs_legacy_pool" in out


def test_a_group_without_hosts_is_refused_in_check_mode_and_with_tags(tmp_path):
    """An empty group is as silent as a missing one; check mode and --tags do not skip the check."""
    inv = _inventory(tmp_path, empty=("lync_pilot_fe",))
    proc = _run(inv, "site.yml", "--check", "--tags", "phase3")
    out = " ".join(proc.stdout.split())
    assert proc.returncode != 0, out[-3000:]
    assert "group lync_pilot_fe has no host: add a group lync_pilot_fe with the pilot pool's Front End Servers" in out


def test_the_lab_inventory_passes_the_check(tmp_path):
    """inventories/lab as it is: the check passes and the phase's own play starts (it then fails to reach a lab
    that is not there: port 9 refuses at once, and no one's running lab is touched)."""
    proc = _run(REPO / "inventories" / "lab", "phase9-post-migration.yml", "--check", "-e", "ansible_port=9")
    assert "TASK [lync.migration.migration_common : The inventory has a host in each group needed by" in proc.stdout
    assert "ok: [localhost]" in proc.stdout
    assert "PLAY [Phase 9 - complete post-migration tasks]" in proc.stdout
