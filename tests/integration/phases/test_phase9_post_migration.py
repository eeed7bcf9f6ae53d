"""Phase 9 (playbooks/phase9-post-migration.yml): Response Groups, dial-in numbers, UM contacts; skipped steps
reported; rerun; the gate."""

from __future__ import annotations

import pytest

from late_phases_lab import changing_calls, full_run_marker, make_lab, run, state_differences
from phase_lab import recap, seed_state

PLAYBOOK = "phase9-post-migration.yml"

full_run = full_run_marker()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = make_lab(tmp_path_factory, "phase9", 9)
    yield lab
    lab.stop()


@full_run
def test_check_mode_changes_nothing(lab):
    proc, audit = run(lab, PLAYBOOK, "--check")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert changing_calls(audit) == []


@full_run
def test_run_moves_the_pool_objects_and_matches_stage_10(lab, tmp_path):
    proc, audit = run(lab, PLAYBOOK)
    assert proc.returncode == 0, proc.stdout[-4000:]
    calls = changing_calls(audit)
    # the safety copy right after the move (the guide), then per-object moves
    assert calls.index("Move-CsRgsConfiguration") < calls.index("Export-CsRgsConfiguration")
    assert calls.count("Move-CsApplicationEndpoint") == 2 and calls.count("Move-CsExUmContact") == 2
    report = lab.latest_report("phase9")
    assert report["response_groups"][0]["workflows"] == ["Help Desk"]
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["P9.5 remote call control"]["status"] == "skipped"
    assert "RCC was not deployed" in steps["P9.5 remote call control"]["reason"]
    assert steps["P9.11/P9.12 Exchange UM contacts"]["status"] == "run"
    assert state_differences(lab.dump(), seed_state(10, tmp_path)) == []


@full_run
def test_second_run_changes_nothing(lab):
    proc, audit = run(lab, PLAYBOOK)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc.stdout)["changed"] == 0
    assert changing_calls(audit) == []


def test_before_phase_8_the_gate_refuses_and_changes_nothing(tmp_path_factory):
    early = make_lab(tmp_path_factory, "phase9-gate", 8)
    try:
        proc, audit = run(early, PLAYBOOK)
    finally:
        early.stop()
    assert proc.returncode != 0
    assert "users are still homed on OCS 2007 R2" in proc.stdout and "run Phase 8" in proc.stdout
    assert changing_calls(audit) == []
