"""A lab of its own for the Phase 4/5 tests: lync-lab serve on free ports (lync_lab.instance.LabInstance) and a
copy of inventories/lab pointing at it."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from lync_lab.instance import LabInstance
from phase_lab import recap, seed_state  # noqa: F401 - recap is part of this helper's interface

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent


class Lab:
    def __init__(self, tmp: Path, stage: int) -> None:
        self.tmp, self.stage = tmp, stage
        self.state = tmp / "state"
        self.instance = LabInstance(self.state, stage=stage, log=tmp / "lab.log")
        self.inventory: Path | None = None

    def start(self) -> "Lab":
        self.instance.start(timeout=60)
        self.inventory = self._inventory()
        return self

    def stop(self) -> None:
        self.instance.stop(timeout=15)

    def _inventory(self) -> Path:
        # Only what differs for a lab of its own; the legacy Edges and the confirmations of P4.1/P5.2 are the lab
        # inventory's own (an inventory that lacks them must fail the test, not be patched here).
        extra = {"lync_migration_report_dir": str(self.tmp / "reports"),
                 "lync_migration_lab_command": str(VENV_BIN / "lync-lab"),
                 "lync_migration_prompt_for_confirmation": False}
        return self.instance.write_inventory(REPO / "inventories" / "lab", self.tmp / "inventory", extra,
                                             vars_file="phase45_test.yml")

    def playbook(self, name: str, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="default",
                   ANSIBLE_COLLECTIONS_PATH=str(REPO / ".ansible" / "collections"), ANSIBLE_FORCE_COLOR="0")
        return subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory),
                               str(REPO / "playbooks" / name), *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=600)

    def audit(self) -> list[dict]:
        return self.instance.audit()


def seeded_state(stage: int, tmp: Path) -> dict:
    return comparable(seed_state(stage, tmp))


def state_of(lab: Lab) -> dict:
    return comparable(lab.instance.dump_state())


def comparable(state: dict) -> dict:
    # Working files a phase leaves on the admin host (inputs, -Report files) are not organisation state; the
    # stage number itself is what the seed was asked for.
    state.pop("file", None)
    # The topology is compared as a document, whitespace aside: Publish-CsTopology -FileName stores the file's
    # text, which Set-Content ends with CRLF, while the seed serialises the document itself.
    for doc in state.get("topology", {}).values():
        for field in ("xml", "enabled_xml"):
            if doc.get(field):
                doc[field] = ET.canonicalize(xml_data=doc[field], strip_text=True)
    state.get("_meta", {}).pop("stage", None)
    state.get("_meta", {}).pop("legacy_import_last_report", None)   # where the -Report file went
    return state
