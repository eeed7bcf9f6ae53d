"""The migration overview (plugins/filter/report.py): counts per object kind from the phase reports, what needs a
person, and HTML that shows names as text."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lync.migration.plugins.filter.report import migration_overview, migration_overview_html


def _write(report_dir, name, report):
    (report_dir / name).mkdir(parents=True)
    (report_dir / name / "report.json").write_text(json.dumps(report))


def _phase1(users=5, check=False):
    return {"label": "phase1", "run_id": "20260101T000000Z-phase1", "status": "succeeded", "check_mode": check,
            "started": "2026-01-01T00:00:00Z", "finished": "2026-01-01T00:00:30Z",
            "decisions": {"legacy_pools": ["pool01.contoso.net"]},
            "inventory": {"counts": {"users": users, "response_groups": 1}, "servers": [{"host": "ocs-fe01"}]}}


def _moves(run_id, outcomes, rollback=False, check=False):
    users = [{"wave": "w1", "sip_address": "sip:u%d@contoso.net" % i, "outcome": o, "error": None}
             for i, o in enumerate(outcomes)]
    totals = {o: outcomes.count(o) for o in set(outcomes)}
    return {"label": "phase6", "run_id": run_id, "status": "succeeded", "check_mode": check, "rollback": rollback,
            "started": "2026-01-01T01:00:00Z", "finished": "2026-01-01T01:01:05Z", "users": users,
            "totals": dict(totals, total=len(users)), "waves": [{"name": "w1", "users": len(users), "totals": totals}]}


def _users(overview):
    return next((s["on_ocs"], s["on_lync"]) for s in overview["standing"] if s["key"] == "users")


def test_moves_count_from_the_phase1_inventory(tmp_path):
    _write(tmp_path, "20260101T000000Z-phase1", _phase1())
    _write(tmp_path, "20260101T010000Z-phase6", _moves("20260101T010000Z-phase6", ["moved", "moved", "failed"]))
    overview = migration_overview(None, str(tmp_path))
    assert _users(overview) == (3, 2)
    assert overview["waves"][0]["moved"] == 2 and overview["waves"][0]["failed"] == 1
    assert [t["seconds"] for t in overview["timeline"]] == [30, 65]
    assert overview["seconds"] == 95
    assert [a["step"] for a in overview["attention"]] == ["P6.3 wave w1"]


def test_check_runs_and_rollbacks(tmp_path):
    _write(tmp_path, "20260101T000000Z-phase1", _phase1())
    _write(tmp_path, "20260101T010000Z-phase6", _moves("20260101T010000Z-phase6", ["moved"] * 4))
    _write(tmp_path, "20260101T020000Z-phase6", _moves("20260101T020000Z-phase6", ["would_move"], check=True))
    rollback = dict(_moves("20260101T030000Z-phase6-rollback", ["moved"], rollback=True), label="phase6-rollback")
    _write(tmp_path, "20260101T030000Z-phase6-rollback", rollback)
    # a check run moves nothing; the rollback moves one user back to OCS
    overview = migration_overview(None, str(tmp_path))
    assert _users(overview) == (2, 3)
    # the three move runs share 01:00:00-01:01:05 in these fixtures: counted once, with Phase 1's 30 s
    assert overview["seconds"] == 30 + 65


def test_runs_before_the_latest_plan_are_another_migration(tmp_path):
    _write(tmp_path, "20250101T010000Z-phase6", _moves("20250101T010000Z-phase6", ["moved"] * 5))
    _write(tmp_path, "20260101T000000Z-phase1", _phase1(users=7))
    current = {"label": "phase2", "run_id": "20260101T000500Z-phase2", "status": "failed", "check_mode": False,
               "failure": "the gate held", "preflight_failures": ["<script>alert(1)</script> is missing", "Patrick O'Brien is not in AD"]}
    overview = migration_overview(current, str(tmp_path))
    assert _users(overview) == (7, 0)
    assert [t["run_id"] for t in overview["timeline"]] == ["20260101T000000Z-phase1", "20260101T000500Z-phase2"]
    page = migration_overview_html(overview)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "O&#39;Brien" in page  # as Jinja's |e writes it in the rest of the page
    assert "http" not in page


def test_kinds_nobody_counted_yet_are_unknown(tmp_path):
    _write(tmp_path, "20260101T000000Z-phase1", _phase1())
    kinds = {s["key"]: s for s in migration_overview(None, str(tmp_path))["standing"]}
    assert kinds["dial_in_access_numbers"]["on_ocs"] is None
    assert kinds["dial_in_access_numbers"]["counted_by"] == "Phase 9 (P9.2)"
    assert 'data-kind="dial_in_access_numbers" data-side="ocs">?' in migration_overview_html(
        migration_overview(None, str(tmp_path)))


def test_bad_input():
    with pytest.raises(AnsibleFilterError):
        migration_overview("not a report", "/nonexistent")
    with pytest.raises(AnsibleFilterError):
        migration_overview_html([])


def test_a_failed_phase10_does_not_empty_the_legacy_pools(tmp_path):
    _write(tmp_path, "20260101T000000Z-phase1", _phase1())
    # Its gate held: the lists of what is left default to empty, but nothing was read.
    _write(tmp_path, "20260101T050000Z-phase10", {
        "label": "phase10", "run_id": "20260101T050000Z-phase10", "status": "failed", "check_mode": False,
        "failure": "Phase 10 preflight failed", "preflight_failures": ["users are still on OCS: run Phase 8"],
        "on_legacy_pools_at_entry": [], "on_legacy_pools_before_decommissioning": [], "decommissioned_servers": []})
    overview = migration_overview(None, str(tmp_path))
    assert _users(overview) == (5, 0)
    assert [a["step"] for a in overview["attention"]] == ["Phase 10", "Phase 10 gate"]
