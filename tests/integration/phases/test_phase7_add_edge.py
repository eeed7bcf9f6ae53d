"""Phase 7 (playbooks/phase7-add-edge.yml) against a lab of its own: plan, run, rerun, and the gate."""

from __future__ import annotations

import late_phases_lab as late
from phase_lab import seed_state

PLAYBOOK = "phase7-add-edge.yml"

full_run = late.full_run_marker()
lab = late.phase_lab("phase7", 7)


@full_run
def test_check_mode_plans_the_edge_and_changes_nothing(lab):
    late.assert_check_mode_changes_nothing(lab, PLAYBOOK)
    report = lab.latest_report("phase7")
    assert report["check_mode"] and report["edge_pool"]["fqdn"] == "edgepool02.contoso.net"
    assert report["edge_servers_installed_now"] == ["lync-edge01.contoso.net"]


@full_run
def test_run_leaves_the_lab_as_stage_8_seeds(lab, tmp_path):
    _proc, calls = late.assert_run_succeeds(lab, PLAYBOOK)
    assert {"Publish-CsTopology", "Export-CsConfiguration", "Start-CsWindowsService"} <= set(calls)
    # P7.1: no federation, no association yet
    report = lab.latest_report("phase7")
    assert report["edge_pool"]["federation"] is False
    assert report["replication"]["lync-edge01.contoso.net"] is True
    assert late.state_differences(lab.dump(), seed_state(8, tmp_path)) == []


@full_run
def test_second_run_changes_nothing(lab):
    late.assert_rerun_changes_nothing(lab, PLAYBOOK)


def test_before_phase_6_the_gate_refuses_and_changes_nothing(tmp_path_factory):
    proc = late.assert_gate_refuses(tmp_path_factory, "phase7-gate", 6, PLAYBOOK)
    assert "run Phase 6 (phase6-move-users.yml) first" in proc.stdout
