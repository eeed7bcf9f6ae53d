"""Every phase role has a molecule scenario wired to the lab at the role's stage (the stage phases.yml gives), on
ports of its own, and verify reads the lab with plain PowerShell without importing the collection."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MOLECULE = REPO / "extensions" / "molecule"
PHASES = yaml.safe_load((REPO / "extensions/patterns/controller_setup/phases.yml").read_text())["lync_awx_phases"]
PHASE_ROLES = sorted({p["role"] for p in PHASES})


def test_every_phase_role_has_a_scenario():
    scenarios = sorted(p.parent.name for p in MOLECULE.glob("*/molecule.yml"))
    assert scenarios == PHASE_ROLES
    for name in scenarios:
        assert (REPO / "roles" / name / "meta" / "argument_specs.yml").is_file(), name + " is not a role"


def scenario_config(role: str) -> dict:
    """What molecule runs: the base configuration with the scenario's molecule.yml deep-merged over it."""
    from molecule.util import merge_dicts
    base = yaml.safe_load((MOLECULE / "config.yml").read_text())
    return merge_dicts(base, yaml.safe_load((MOLECULE / role / "molecule.yml").read_text()))


def test_molecule_reads_the_collections_base_configuration():
    """Run from the checkout, molecule's --base-config default is extensions/molecule/config.yml."""
    found = subprocess.run([sys.executable, "-c", "from molecule.util import lookup_config_file as f; "
                            "print(f('.config/molecule/config.yml'))"],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(found) == MOLECULE / "config.yml"


def test_each_scenario_states_only_what_differs():
    for role in PHASE_ROLES:
        own = yaml.safe_load((MOLECULE / role / "molecule.yml").read_text())
        assert own == {"provisioner": {"env": {"LYNC_LAB_STAGE": own["provisioner"]["env"]["LYNC_LAB_STAGE"]}}}, role


def test_every_scenario_starts_the_lab_at_its_roles_stage():
    stages = {p["role"]: p["stage"] for p in PHASES if p["phase"]}
    for role in PHASE_ROLES:
        config = scenario_config(role)
        assert config["driver"]["name"] == "default", role  # no containers: the lab is the instance
        assert config["provisioner"]["env"]["LYNC_LAB_STAGE"] == str(stages[role]), role
        assert config["provisioner"]["playbooks"]["create"] == "../shared/create.yml"
        assert config["provisioner"]["playbooks"]["destroy"] == "../shared/destroy.yml"
        assert config["provisioner"]["inventory"]["links"]["hosts"] == "../../../inventories/lab/hosts.yml"
        assert config["verifier"]["name"] == "testinfra"
        sequence = config["scenario"]["test_sequence"]
        assert sequence.index("converge") < sequence.index("idempotence") < sequence.index("verify"), role
        assert config.get("prerun") is False, role  # never a stale copy of the collection in ~/.ansible


def test_converge_runs_the_role_as_its_phase_playbook_does():
    playbooks = {p["role"]: REPO / p["playbook"] for p in PHASES if p["phase"]}
    for role in PHASE_ROLES:
        [play] = yaml.safe_load((MOLECULE / role / "converge.yml").read_text())
        # A phase playbook's first play checks that the inventory has its groups (no silent success); its last
        # play runs the role, as the scenario's converge does.
        *checks, phase_play = yaml.safe_load(playbooks[role].read_text())
        assert [c["hosts"] for c in checks] == ["localhost"], role
        assert [r["role"] for r in play["roles"]] == ["lync.migration." + role] == [r["role"] for r in phase_play["roles"]]
        assert play["hosts"] == phase_play["hosts"], role


def test_verify_uses_plain_powershell_and_not_the_collection():
    helper = (MOLECULE / "shared" / "lab_admin.py").read_text()
    assert "-EncodedCommand" in helper and "ConvertTo-Json" in helper and "testinfra.get_host" in helper
    for role in PHASE_ROLES:
        tests = list((MOLECULE / role / "tests").glob("test_*.py"))
        assert tests, role
        for test in tests:
            text = test.read_text()
            assert "module_utils" not in text and "ansible_collections" not in text, test
            assert "from lab_admin import" in text, test
            assert len(re.findall(r"^def test_", text, re.M)) >= 2, test


def test_create_gives_each_lab_ports_of_its_own():
    create = (MOLECULE / "shared" / "create.yml").read_text()
    for option in ("--http-port", "--https-port", "--port-offset", "--dns-port"):
        assert option in create
    assert "lab_instance.py" in create
