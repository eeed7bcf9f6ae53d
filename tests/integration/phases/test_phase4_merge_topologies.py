"""Phase 4 against a lab of its own: check mode changes nothing, a run reaches the stage-5 seed, a second run
changes nothing, and the gate stops a run before Phase 3's pilot pool exists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phase45_lab import Lab, recap, seeded_state, state_of  # noqa: E402

READ_ONLY = ("Get-", "Test-")


@pytest.fixture
def lab4(tmp_path):
    lab = Lab(tmp_path, 4).start()
    yield lab
    lab.stop()


def test_phase4_check_run_and_rerun(lab4, tmp_path):
    check = lab4.playbook("phase4-merge-topologies.yml", "--check")
    assert check.returncode == 0, check.stdout[-4000:]
    writes = [e["cmdlet"] for e in lab4.audit() if not e["cmdlet"].startswith(READ_ONLY)]
    assert writes == [], writes

    run = lab4.playbook("phase4-merge-topologies.yml")
    assert run.returncode == 0, run.stdout[-4000:]
    assert recap(run.stdout)["changed"] > 0
    # The Edge input file on the merge host is Microsoft's custom Edge Server input file (Lync Server 2010
    # deployment documentation, "Create a Custom Edge Server Input File"), which the lab validates like the cmdlet.
    files = lab4.instance.dump_state()["file"]
    edge_input = next(d for k, d in files.items() if k.lower().endswith("\\legacyedges.xml"))
    text = edge_input["Content"]
    assert "urn:schema:Microsoft.Rtc.Management.Deploy.LegacyUserInput.2008" in text
    assert '<EdgeCluster AP="true" MR="true" DP="true" Version="OCS2007R2"' in text
    assert '<DirectorOrEdgeNextHop Fqdn="pool01.contoso.net" />' in text
    assert state_of(lab4) == seeded_state(5, tmp_path)

    again = lab4.playbook("phase4-merge-topologies.yml")
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again.stdout)["changed"] == 0


def test_phase4_gate_names_phase3(tmp_path):
    lab = Lab(tmp_path, 3).start()
    try:
        run = lab.playbook("phase4-merge-topologies.yml")
        assert run.returncode != 0
        assert "Phase 4 preflight failed" in run.stdout and "Phase 3" in run.stdout
        assert [e for e in lab.audit() if not e["cmdlet"].startswith(READ_ONLY)] == []
    finally:
        lab.stop()
