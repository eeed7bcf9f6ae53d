"""Every phase playbook and rollback-users.yml checks its inputs and preconditions before its first changing call
(issue 18): no changing cmdlet may precede the end of the role's preflight in the lab's audit log.

How the test knows where the preflight ends: each role marks it with one task file,
roles/migration_common/tasks/preflight_end.yml ("Preflight passed, nothing changed so far - <phase>"), placed right before the phase's
first changing call; with lync_migration_preflight_only: true the run ends there (meta: end_host), successfully.
The tasks before the marker are the same with or without that option (the option acts only in the marker), so the
calls a preflight-only run makes are exactly the calls that precede the preflight's end in a full run. The test
runs each playbook that way against a lab at the stage its phase starts from and asserts, from the lab's audit
log: the run read the servers (the preflight is real), reached the marker with exit 0, and made no call but
Get-*/Test-* ones (tests/reliability/harness.py's write_calls: anything else, whatever its outcome, counts).

Phase 1 changes nothing at all (it plans), so its whole run is held to no changing call. The rollback needs
journals: the test wave (2 users) is moved first with phase6-move-users.yml, then rollback-users.yml runs
preflight-only against those journals.
"""

from __future__ import annotations

import pytest

import late_phases_lab as late

READ_ONLY = ("Get-", "Test-")


def _changing(entries: list[dict]) -> list[str]:
    return [f"{e.get('cmdlet')} {e.get('params')}" for e in entries if not str(e.get("cmdlet", "")).startswith(READ_ONLY)]


def _preflight_only(lab, playbook: str, extra: dict | None = None, reads_servers: bool = True):
    proc, audit = late.run(lab, playbook, extra=dict({"lync_migration_preflight_only": True}, **(extra or {})))
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:]
    assert "TASK [lync.migration.migration_common : Preflight passed, nothing changed so far - " in out, out[-4000:]
    assert "the run ends here" in out
    # end_host ended the play there: no task of the phase ran after the marker.
    after = out.split("End the run after the preflight (lync_migration_preflight_only)")[-1]
    assert "TASK [" not in after.split("PLAY RECAP")[0], after[:3000]
    if reads_servers:
        assert audit, "the preflight asked the servers nothing"
    assert _changing(audit) == [], _changing(audit)
    return proc


# (playbook, the stage its phase starts from, extra variables)
PHASES = [
    ("phase2-prepare.yml", 2),
    ("phase3-deploy-pilot-pool.yml", 3),
    ("phase4-merge-topologies.yml", 4),
    ("phase5-configure-pilot-pool.yml", 5),
    ("phase7-add-edge.yml", 7),
    ("phase8-pilot-to-production.yml", 8),
    ("phase9-post-migration.yml", 9),
    ("phase10-decommission-legacy.yml", 10),
]


@pytest.mark.parametrize("playbook,stage", PHASES, ids=[p for p, _ in PHASES])
def test_no_changing_call_before_the_preflight_ends(tmp_path_factory, playbook, stage):
    lab = late.make_lab(tmp_path_factory, f"preflight{stage}", stage)
    try:
        _preflight_only(lab, playbook)
    finally:
        lab.stop()


def test_phase1_changes_nothing_at_all(tmp_path_factory):
    lab = late.make_lab(tmp_path_factory, "preflight1", 1)
    try:
        proc, audit = late.run(lab, "phase1-plan.yml")
        assert proc.returncode == 0, proc.stdout[-4000:]
        assert audit and _changing(audit) == []
    finally:
        lab.stop()


def test_phase6_and_the_rollback_preflights_come_before_any_move(tmp_path_factory):
    lab = late.make_lab(tmp_path_factory, "preflight6", 6)
    journal = lab.root / "journal"
    try:
        _preflight_only(lab, "phase6-move-users.yml", {"move_users_journal_dir": str(journal)})
        moved, audit = late.run(lab, "phase6-move-users.yml",
                                extra={"move_users_waves": ["test"], "move_users_journal_dir": str(journal)})
        assert moved.returncode == 0, moved.stdout[-4000:]
        assert any(e.get("cmdlet") == "Move-CsLegacyUser" for e in audit)
        # The rollback's plan is read from the journals (cs_user_move reads where each user is when it runs).
        _preflight_only(lab, "rollback-users.yml", {"move_users_journal_dir": str(journal)}, reads_servers=False)
    finally:
        lab.stop()
