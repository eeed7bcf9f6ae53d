"""A lab of its own for a phase test: lync-lab serve on free ports (lync_lab.instance.LabInstance), a copy of
inventories/lab pointing at it (ports and lync_migration_lab_state_dir), and ansible-playbook runs against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lync_lab.instance import LabInstance

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
ADMIN = "lync-fe01.contoso.net"


def collections_tree(root: Path) -> Path:
    """``root``/collections: an ansible_collections tree in which lync.migration is this working tree."""
    link = root / "collections" / "ansible_collections" / "lync" / "migration"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO, target_is_directory=True)
    return root / "collections"


class PhaseLab:
    """lync-lab serve at a stage, its inventory, and playbook runs (see the fixture in each test module).

    ``dns`` also serves the lab's DNS zone and points the inventory's resolver at it (Phases 1-2, 10).
    """

    def __init__(self, root: Path, stage: int, collections_path: Path, dns: bool = False,
                 scenario: str = "contoso-small") -> None:
        self.root = root
        self.stage = stage
        self.state_dir = root / "lab"
        self.reports = root / "reports"
        self.collections_path = collections_path
        self.instance = LabInstance(self.state_dir, scenario=scenario, stage=stage, dns=dns, log=root / "lab.log")
        self.dns_port = self.instance.dns_port
        self.inventory = self._inventory()

    # The ports (chosen free by LabInstance; start() may move them if another process took one meanwhile).
    @property
    def http(self) -> int:
        return self.instance.http_port

    @property
    def https(self) -> int:
        return self.instance.https_port

    @property
    def offset(self) -> int:
        return self.instance.port_offset

    def _inventory(self) -> Path:
        extra = {"lync_migration_lab_state_dir": str(self.state_dir), "lync_migration_report_dir": str(self.reports),
                 "lync_migration_lab_command": str(VENV_BIN / "lync-lab")}
        return self.instance.write_inventory(REPO / "inventories" / "lab", self.root / "inventory", extra,
                                             vars_file="zz_test_lab.yml")

    def start(self, prepare=None) -> None:
        """Start the lab; ``prepare(tx)`` first changes the seeded state (the lab then serves it with --keep)."""
        offset = self.offset
        if prepare is None:
            self.instance.start()
        else:
            self.instance.seed(prepare)
            self.instance.start(keep=True)
        if self.offset != offset:   # moved to other free ports: point the inventory there
            self.dns_port = self.instance.dns_port
            self.inventory = self._inventory()

    def stop(self) -> None:
        self.instance.stop()

    def audit(self) -> list[dict]:
        return self.instance.audit()

    def playbook(self, name: str, *args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), f"playbooks/{name}", *args]
        if extra:
            cmd += ["-e", json.dumps(extra)]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(self.collections_path), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0", PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
        return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)

    def dump(self) -> dict:
        return self.instance.dump_state()

    def latest_report(self, label: str) -> dict:
        runs = sorted((p for p in self.reports.glob(f"*-{label}*") if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
        assert runs, f"no {label} report under {self.reports}"
        return json.loads((runs[-1] / "report.json").read_text(encoding="utf-8"))


def recap(output: str, host: str = ADMIN) -> dict:
    for line in output.splitlines():
        if line.startswith(host) and "ok=" in line:
            return {k: int(v) for k, v in (p.split("=") for p in line.split(":", 1)[1].split())}
    raise AssertionError(f"no PLAY RECAP line for {host} in:\n{output}")


def seed_state(stage: int, tmp: Path) -> dict:
    """dump_state of a fresh lab seeded at ``stage``."""
    from lync_lab.model.scenario import load_scenario
    from lync_lab.model.stages import dump_state
    from lync_lab.model.store import Store

    store = Store(tmp / f"seed{stage}.sqlite")
    try:
        store.seed(load_scenario("contoso-small"), stage)
        return dump_state(store)
    finally:
        store.close()
