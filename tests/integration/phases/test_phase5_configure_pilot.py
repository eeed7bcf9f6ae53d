"""Phase 5 against a lab of its own: check mode only reads and shows the publish it would do, a run reaches the
stage-6 seed with the P5.2 checklist and the P5.4 deferral in the report, a second run changes nothing, and the gate
stops a run on a lab where Phase 4 has not merged the legacy Edge."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phase45_lab import Lab, recap, seeded_state, state_of  # noqa: E402

READ_ONLY = ("Get-", "Test-")
PLAYBOOK = "phase5-configure-pilot-pool.yml"


def writes(lab: Lab) -> list[str]:
    return [e["cmdlet"] for e in lab.audit() if not e["cmdlet"].startswith(READ_ONLY)]


def latest_report(lab: Lab) -> dict:
    runs = sorted((lab.tmp / "reports").glob("*-phase5*/report.json"))
    return json.loads(runs[-1].read_text())


@pytest.fixture
def lab5(tmp_path):
    lab = Lab(tmp_path, 5).start()
    yield lab
    lab.stop()


def test_phase5_check_run_and_rerun(lab5, tmp_path):
    check = lab5.playbook(PLAYBOOK, "--check")
    assert check.returncode == 0, check.stdout[-4000:]
    assert writes(lab5) == []
    plan = latest_report(lab5)
    assert plan["check_mode"] is True
    planned = [r["cmdlet"] for r in next(s for s in plan["sections"] if s["title"].startswith("Cmdlets"))["rows"]]
    assert any(c.startswith("Publish-CsTopology -FileName") for c in planned), planned

    run = lab5.playbook(PLAYBOOK)
    assert run.returncode == 0, run.stdout[-4000:]
    assert recap(run.stdout)["changed"] > 0
    assert writes(lab5) == ["Set-Content", "Publish-CsTopology", "Enable-CsTopology",
                            "Invoke-CsManagementStoreReplication"]
    assert state_of(lab5) == seeded_state(6, tmp_path)

    report = latest_report(lab5)
    assert report["status"] == "succeeded"
    assert report["federation"]["after"]["federation_route"] == "ocs-edge01.contoso.net"
    assert report["federation"]["after"]["media_edges"]["pool02.contoso.net"] == "ocs-edge01.contoso.net"
    step = next(s for s in report["guided_steps"] if s["id"] == "P5.2-authorize-edge")
    assert step["status"] == "confirmed"
    checklist = "\n".join(step["checklist"])
    assert "lync-fe01.contoso.net" in checklist and "pool02.contoso.net" in checklist
    assert all(replica_ok for replica_ok in report["replication"]["replicas"].values())
    assert report["deferred"][0]["step"].startswith("P5.4") and "P8.3" in report["deferred"][0]["where"]

    again = lab5.playbook(PLAYBOOK)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again.stdout)["changed"] == 0
    assert writes(lab5) == ["Set-Content", "Publish-CsTopology", "Enable-CsTopology",
                            "Invoke-CsManagementStoreReplication"]   # nothing more


def test_phase5_gate_names_phase4(tmp_path):
    lab = Lab(tmp_path, 4).start()
    try:
        run = lab.playbook(PLAYBOOK)
        assert run.returncode != 0
        assert "Phase 5 preflight failed" in run.stdout
        assert "Phase 4 (phase4-merge-topologies.yml)" in run.stdout and "ocs-edge01.contoso.net" in run.stdout
        assert writes(lab) == []
        assert latest_report(lab)["status"] == "failed"
    finally:
        lab.stop()
