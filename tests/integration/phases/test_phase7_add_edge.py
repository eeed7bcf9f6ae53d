"""Phase 7 (playbooks/phase7-add-edge.yml) against a lab of its own: plan, run, rerun, and the gate."""

from __future__ import annotations

import pytest

from late_phases_lab import changing_calls, full_run_marker, make_lab, run, state_differences
from phase_lab import recap, seed_state

PLAYBOOK = "phase7-add-edge.yml"

full_run = full_run_marker()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = make_lab(tmp_path_factory, "phase7", 7)
    yield lab
    lab.stop()


@full_run
def test_check_mode_plans_the_edge_and_changes_nothing(lab):
    proc, audit = run(lab, PLAYBOOK, "--check")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert changing_calls(audit) == []
    report = lab.latest_report("phase7")
    assert report["check_mode"] and report["edge_pool"]["fqdn"] == "edgepool02.contoso.net"
    assert report["edge_servers_installed_now"] == ["lync-edge01.contoso.net"]


@full_run
def test_run_leaves_the_lab_as_stage_8_seeds(lab, tmp_path):
    proc, audit = run(lab, PLAYBOOK)
    assert proc.returncode == 0, proc.stdout[-4000:]
    calls = changing_calls(audit)
    assert {"Publish-CsTopology", "Export-CsConfiguration", "Start-CsWindowsService"} <= set(calls)
    # P7.1: no federation, no association yet
    report = lab.latest_report("phase7")
    assert report["edge_pool"]["federation"] is False
    assert report["replication"]["lync-edge01.contoso.net"] is True
    assert state_differences(lab.dump(), seed_state(8, tmp_path)) == []


@full_run
def test_second_run_changes_nothing(lab):
    proc, audit = run(lab, PLAYBOOK)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc.stdout)["changed"] == 0
    assert changing_calls(audit) == []


def test_before_phase_6_the_gate_refuses_and_changes_nothing(tmp_path_factory):
    early = make_lab(tmp_path_factory, "phase7-gate", 6)
    try:
        proc, audit = run(early, PLAYBOOK)
    finally:
        early.stop()
    assert proc.returncode != 0
    assert "run Phase 6 (phase6-move-users.yml) first" in proc.stdout
    assert changing_calls(audit) == []
