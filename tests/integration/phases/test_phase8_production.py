"""Phase 8 (playbooks/phase8-pilot-to-production.yml): the federation cut-over, the remaining users through the
move_users role (with the AD name fix), rerun, and the gate."""

from __future__ import annotations

import late_phases_lab as late
from phase_lab import seed_state

PLAYBOOK = "phase8-pilot-to-production.yml"

full_run = late.full_run_marker()
lab = late.phase_lab("phase8", 8)


@full_run
def test_check_mode_changes_nothing_and_names_the_account_to_fix(lab):
    late.assert_check_mode_changes_nothing(lab, PLAYBOOK)
    report = lab.latest_report("phase8")
    assert [a["display_name"] for a in report["accounts_with_name_problems"]] == ["Ken Myer "]
    assert any(s["id"] == "P8.0-maintenance-window" for s in report["guided_steps"])


@full_run
def test_run_cuts_over_moves_everyone_and_matches_stage_9(lab, tmp_path):
    _proc, calls = late.assert_run_succeeds(lab, PLAYBOOK)
    # the guide's order: route removed (a), merge (b), publishes (e/f), Access Edge (h), legacy Access Edge (i), users
    assert calls.index("Merge-CsLegacyTopology") < calls.index("Set-CsAccessEdgeConfiguration") < calls.index("Stop-Service")
    assert calls.index("Stop-Service") < calls.index("Move-CsLegacyUser")
    report = lab.latest_report("phase8")
    assert report["users_left_on_ocs"] == []
    assert report["legacy_access_edge_services"][0]["status"] == "Stopped"
    assert report["legacy_access_edge_services"][0]["start_type"] == "Disabled"
    assert late.state_differences(lab.dump(), seed_state(9, tmp_path)) == []


@full_run
def test_second_run_changes_nothing(lab):
    late.assert_rerun_changes_nothing(lab, PLAYBOOK)


def test_before_phase_7_the_gate_refuses_and_changes_nothing(tmp_path_factory):
    proc = late.assert_gate_refuses(tmp_path_factory, "phase8-gate", 7, PLAYBOOK)
    assert "edgepool02.contoso.net is not in the topology: run Phase 7 (phase7-add-edge.yml) first" in proc.stdout
