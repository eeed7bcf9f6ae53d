"""Each molecule scenario is a role's, wired wired to the lab at the role's stage (the stage phases.yml gives)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MOLECULE = REPO / "extensions" / "molecule"
PHASES = yaml.safe_load((REPO / "extensions/patterns/controller_setup/phases.yml").read_text())["lync_awx_phases"]


def roles() -> list[str]:
    """The roles that have a scenario so far (docs/molecule.md lists the ones still to write)."""
    scenarios = sorted(p.parent.name for p in MOLECULE.glob("*/molecule.yml"))
    assert "move_users" in scenarios
    for name in scenarios:
        assert (REPO / "roles" / name / "meta" / "argument_specs.yml").is_file(), name + " is not a role"
    return scenarios


def test_every_role_has_a_scenario_at_its_stage():
    stages = {p["role"]: p["stage"] for p in PHASES}
    for role in roles():
        config = yaml.safe_load((MOLECULE / role / "molecule.yml").read_text())
        assert config["driver"]["name"] == "default", role  # no containers: the lab is the instance
        assert config["provisioner"]["env"]["LYNC_LAB_STAGE"] == str(stages[role]), role
        assert config["provisioner"]["playbooks"]["create"] == "../shared/create.yml"
        assert config["provisioner"]["playbooks"]["destroy"] == "../shared/destroy.yml"
        assert config["verifier"]["name"] == "testinfra"
        sequence = config["scenario"]["test_sequence"]
        assert sequence.index("converge") < sequence.index("idempotence") < sequence.index("verify"), role
        assert config.get("prerun") is False, role  # never a stale copy of the collection in ~/.ansible


def test_converge_runs_the_role_and_verify_does_not_import_the_collection():
    for role in roles():
        converge = yaml.safe_load((MOLECULE / role / "converge.yml").read_text())
        assert any(r["role"] == "lync.migration." + role for r in converge[0]["roles"]), role
        tests = list((MOLECULE / role / "tests").glob("test_*.py"))
        assert tests, role
        for test in tests:
            text = test.read_text()
            assert "module_utils" not in text and "ansible_collections" not in text, test
            assert "-EncodedCommand" in text and "ConvertTo-Json" in text, test
