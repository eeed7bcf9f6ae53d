"""playbooks/site.yml: the migration's last four phases in one run (from stage 7), resumed and checked.

The whole run from stage 1 is `make demo` (and `make phases-site-full` for contoso-large, mk/phases.mk); here the
run starts where Phase 7 starts, to keep `make test` short, and still crosses every gate and guided step of
Phases 7-10 through site.yml's imports.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "phases"))

from late_phases_lab import changing_calls, full_run_marker, make_lab, run, state_differences  # noqa: E402
from phase_lab import recap, seed_state  # noqa: E402

pytestmark = full_run_marker()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = make_lab(tmp_path_factory, "site", 7)
    yield lab
    lab.stop()


def test_check_mode_plans_only_the_start_phase(lab):
    proc, audit = run(lab, "site.yml", "--check", extra={"lync_migration_start_phase": 7})
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert changing_calls(audit) == []
    assert "PLAY [Phase 7 - add a Lync Server 2013 Edge Server to the pilot pool]" in proc.stdout
    assert lab.latest_report("phase7")["check_mode"] is True
    assert not list(lab.reports.glob("*-phase8"))


def test_an_unconfirmed_guided_step_stops_the_run_there(lab):
    extra = {"lync_migration_start_phase": 7, "lync_migration_confirmed_steps": ["P7.0-external-access-plan"]}
    proc, _audit = run(lab, "site.yml", extra=extra)
    assert proc.returncode != 0
    assert "Guided step P7.2-install-edge" in proc.stdout and "is not confirmed, so the run stops here" in proc.stdout
    assert "PLAY [Phase 8" not in proc.stdout


def test_resumed_run_completes_phases_7_to_10_and_reaches_stage_11(lab, tmp_path):
    proc, audit = run(lab, "site.yml", extra={"lync_migration_start_phase": 7})
    assert proc.returncode == 0, proc.stdout[-4000:]
    for n in (7, 8, 9, 10):
        assert lab.latest_report(f"phase{n}")["status"] == "succeeded"
    assert state_differences(lab.dump(), seed_state(11, tmp_path)) == []


def test_a_second_run_changes_nothing(lab):
    proc, audit = run(lab, "site.yml", extra={"lync_migration_start_phase": 7})
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc.stdout)["changed"] == 0
    assert changing_calls(audit) == []
