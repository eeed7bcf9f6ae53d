"""Phase 2 against a lab of its own at stage 2 (with its DNS server): the gate, check mode, the run reaching the
stage-3 seed, and a second run that changes nothing."""

from __future__ import annotations

import csv
import io

import pytest

from phase12_lab import changing_calls, comparable, make_lab
from phase_lab import recap, seed_state

PLAYBOOK = "phase2-prepare.yml"
LAB_STEPS = ["P2.1-ocs-updates", "P2.3-bpa", "P2.4-backup", "P2.5-client-version-filter"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = make_lab(tmp_path_factory, "phase2", 2)
    yield lab
    lab.stop()


def _ocs_session(lab):
    import winrm

    return winrm.Session(f"http://127.0.0.1:{55989 + lab.offset}/wsman", auth=("CONTOSO\\lyncadmin", "Lab-Passw0rd!"),
                         transport="ntlm", message_encryption="always")


def test_gate_names_a_stopped_legacy_service_and_the_missing_a_record(lab, tmp_path):
    ocs = _ocs_session(lab)
    assert ocs.run_ps("Stop-Service -Name RTCSRV").status_code == 0
    try:
        before = len(lab.audit())
        # Without the P2.2 confirmation the missing A record is a precondition, not a step to do.
        run = lab.playbook(PLAYBOOK, extra={"lync_migration_confirmed_steps": LAB_STEPS})
        assert run.returncode != 0
        out = run.stdout + run.stderr
        assert "Phase 2 preflight failed; nothing was changed" in out
        assert "Office Communications Server Front-End (RTCSRV) is Stopped on ocs-fe01.contoso.net" in out
        assert "pool02.contoso.net has no DNS A record" in out and "P2.2-dns-a-record" in out
        assert changing_calls(lab.audit()[before:]) == []
        report = lab.latest_report("phase2")
        assert report["status"] == "failed" and len(report["preflight_failures"]) == 2
        assert report["guided_steps"] == []
    finally:
        assert ocs.run_ps("Start-Service -Name RTCSRV").status_code == 0
    assert comparable(lab.dump()) == comparable(seed_state(2, tmp_path))


def test_check_mode_reads_only_and_lists_the_plan(lab, tmp_path):
    before = len(lab.audit())
    run = lab.playbook(PLAYBOOK, "--check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert recap(run.stdout)["changed"] == 0
    assert changing_calls(lab.audit()[before:]) == []
    assert comparable(lab.dump()) == comparable(seed_state(2, tmp_path))
    report = lab.latest_report("phase2")
    assert report["check_mode"] is True
    assert [s["id"] for s in report["guided_steps"]] == [
        "P2.1-ocs-updates", "P2.2-dns-a-record", "P2.3-bpa", "P2.4-backup", "P2.5-client-version-filter"]
    a_record = next(c for c in report["checks"] if c["step"] == "P2.2")
    assert a_record["status"] == "would be created"


def test_prepare_reaches_the_stage_3_state_and_a_second_run_changes_nothing(lab, tmp_path):
    run = lab.playbook(PLAYBOOK)
    assert run.returncode == 0, run.stdout + run.stderr
    assert recap(run.stdout)["changed"] == 1          # the A record, created by the lab's P2.2 step
    assert comparable(lab.dump()) == comparable(seed_state(3, tmp_path))
    report = lab.latest_report("phase2")
    steps = {s["id"]: s for s in report["guided_steps"]}
    assert all(s["status"] == "confirmed" for s in steps.values())
    assert steps["P2.2-dns-a-record"]["evidence"][0]["ok"] is True
    assert report["pilot_pool_a_record"]["addresses"] == ["192.168.10.21"]
    assert "OC | 15.*.*.* | Block" in " ".join(steps["P2.5-client-version-filter"]["checklist"])
    assert all(c["status"] in ("ok", "not used") for c in report["checks"])
    # P2.4: every legacy user in the per-pool inventory, with the names exactly as OCS holds them.
    runs = sorted(lab.reports.glob("*-phase2*"), key=lambda p: p.stat().st_mtime_ns)
    rows = list(csv.DictReader(io.StringIO((runs[-1] / "users-per-pool.csv").read_text(encoding="utf-8"))))
    assert {r["pool"] for r in rows} == {"pool01.contoso.net"}
    assert len(rows) == report["users_per_pool"][0]["users"] > 50
    assert any(r["display_name"] == "Patrick O'Brien" and r["sip_address"] == "sip:patrick.obrien@contoso.net" for r in rows)
    html = (runs[-1] / "report.html").read_text(encoding="utf-8")
    assert "Client Version Filtering rules on OCS 2007 R2 (P2.5)" in html and "15.*.*.*" in html
    assert "Patrick" not in html or "O&#39;Brien" in html       # values from the servers are escaped

    # A second run finds the A record, so P2.2 is not offered again, and nothing changes.
    before = len(lab.audit())
    again = lab.playbook(PLAYBOOK)
    assert again.returncode == 0, again.stdout + again.stderr
    assert recap(again.stdout)["changed"] == 0
    assert changing_calls(lab.audit()[before:]) == []
    assert "P2.2-dns-a-record" not in [s["id"] for s in lab.latest_report("phase2")["guided_steps"]]
    assert comparable(lab.dump()) == comparable(seed_state(3, tmp_path))
