"""Phase 1 against a lab of its own at stage 1: read-only in and out of check mode, the plan report maps every
legacy object to its phase from what the live servers show, and the decisions gate."""

from __future__ import annotations

import pytest

from phase12_lab import changing_calls, comparable, make_lab
from phase_lab import recap, seed_state

PLAYBOOK = "phase1-plan.yml"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = make_lab(tmp_path_factory, "phase1", 1)
    yield lab
    lab.stop()


@pytest.mark.parametrize("mode", [["--check"], []], ids=["check", "run"])
def test_plan_is_read_only_and_reports_the_legacy_deployment(lab, tmp_path, mode):
    before = len(lab.audit())
    run = lab.playbook(PLAYBOOK, *mode)
    assert run.returncode == 0, run.stdout + run.stderr
    assert recap(run.stdout)["changed"] == 0
    calls = lab.audit()[before:]
    assert calls and changing_calls(calls) == []
    # Phase 1 changes nothing: the lab is in the state stage 2 seeds.
    assert comparable(lab.dump()) == comparable(seed_state(2, tmp_path))
    report = lab.latest_report("phase1")
    assert report["status"] == "succeeded" and report["check_mode"] is bool(mode)
    inv = report["inventory"]
    assert inv["pools"] == [{"pool": "pool01.contoso.net", "type": "Enterprise", "front_ends": ["ocs-fe01.contoso.net"],
                             "back_end": "ocs-sql01.contoso.net\\rtc", "users": inv["counts"]["users"]}]
    assert inv["counts"]["users"] > 50
    assert inv["roles"]["Edge"] == ["ocs-edge01.contoso.net"] and inv["roles"]["Mediation"] == ["ocs-med01.contoso.net"]
    assert inv["counts"]["response_groups"] == 1 and inv["counts"]["application_contacts"] == 3
    assert inv["lync_topology"] is None          # stage 1: no Lync Server 2013 yet
    objects = {o["n"]: o for o in report["legacy_objects"]}
    assert sorted(objects) == list(range(1, 35))
    assert objects[4]["found"] == inv["counts"]["users"] and objects[4]["phases"] == "P6.2-P6.3, P8.2"
    assert objects[8]["phases"] == "P9.1" and objects[26]["phases"] == "P2.2"
    assert report["decisions"]["archiving_monitoring"] == "after_migration"
    runs = sorted(lab.reports.glob("*-phase1*"), key=lambda p: p.stat().st_mtime_ns)
    html = (runs[-1] / "report.html").read_text(encoding="utf-8")
    assert "Legacy objects and the phase that moves or retires each" in html and "BackCompatSite" in html


def test_decisions_gate_names_each_problem(lab):
    before = len(lab.audit())
    waves = [{"name": "pilot", "identities": ["Katie Jordan", "Hao Chen"]}, {"name": "test", "identities": ["hao chen"]}]
    run = lab.playbook(PLAYBOOK, extra={"lync_migration_waves": waves, "lync_migration_archiving_monitoring": "later"})
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert "Phase 1 preflight failed; nothing was changed" in out
    assert "The first wave is pilot, not test" in out
    assert "user hao chen is in more than one wave" in out.lower()
    assert "set lync_migration_archiving_monitoring to before_users" in out
    assert lab.audit()[before:] == []          # the gate stops before any server is read
    report = lab.latest_report("phase1")
    assert report["status"] == "failed" and len(report["preflight_failures"]) == 3
