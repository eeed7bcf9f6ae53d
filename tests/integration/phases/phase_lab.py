"""A lab of its own for a phase test: lync-lab serve on free ports with a distinct --port-offset, a copy of
inventories/lab pointing at it (ports and lync_migration_lab_state_dir), and ansible-playbook runs against it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
ADMIN = "lync-fe01.contoso.net"


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(scenario_ports: list[int]) -> tuple[int, int, int]:
    """(http, https, offset): an admin port pair and an offset under which every scenario port is free."""
    base = 20000 + (os.getpid() % 500) * 60
    for attempt in range(200):
        offset = base + attempt * 37 - 55985
        http, https = 55985 + offset, 55986 + offset
        if all(_free(p) for p in [http, https] + [p + offset for p in scenario_ports]):
            return http, https, offset
    raise RuntimeError("no free port range for a lab")


class PhaseLab:
    """lync-lab serve at a stage, its inventory, and playbook runs (see the fixture in each test module)."""

    SCENARIO_PORTS = [55989, 55990, 55991, 55992, 55993, 55994, 55995, 55996, 55997, 55998]

    def __init__(self, root: Path, stage: int, collections_path: Path) -> None:
        self.root = root
        self.stage = stage
        self.state_dir = root / "lab"
        self.reports = root / "reports"
        self.collections_path = collections_path
        self.http, self.https, self.offset = free_ports(self.SCENARIO_PORTS)
        self.proc: subprocess.Popen | None = None
        self.inventory = self._inventory()

    def _inventory(self) -> Path:
        inv = self.root / "inventory"
        shutil.copytree(REPO / "inventories" / "lab", inv)
        hosts = yaml.safe_load((inv / "hosts.yml").read_text())

        def shift(node):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "ansible_port":
                        node[key] = self.http if value == 55985 else value + self.offset
                    elif key == "lab_https_port":
                        node[key] = self.https if value == 55986 else value + self.offset
                    else:
                        shift(value)

        shift(hosts)
        (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
        extra = {"lync_migration_lab_state_dir": str(self.state_dir), "lync_migration_report_dir": str(self.reports),
                 "lync_migration_lab_command": str(VENV_BIN / "lync-lab")}
        (inv / "group_vars" / "all" / "zz_test_lab.yml").write_text(yaml.safe_dump(extra))
        return inv

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.root / "lab.log"
        cmd = [str(VENV_BIN / "lync-lab"), "serve", "--scenario", "contoso-small", "--stage", str(self.stage),
               "--state-dir", str(self.state_dir), "--http-port", str(self.http), "--https-port", str(self.https),
               "--port-offset", str(self.offset)]
        with open(log, "w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while "listening on" not in log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("lync-lab did not start:\n" + log.read_text())
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def audit(self) -> list[dict]:
        path = self.state_dir / "audit.jsonl"
        out = []
        for line in (path.read_text(encoding="utf-8").splitlines() if path.exists() else []):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def playbook(self, name: str, *args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), f"playbooks/{name}", *args]
        if extra:
            cmd += ["-e", json.dumps(extra)]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(self.collections_path), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0", PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
        return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)

    def dump(self) -> dict:
        from lync_lab.model.stages import dump_state
        from lync_lab.model.store import Store

        store = Store(self.state_dir / "state.sqlite")
        try:
            return dump_state(store)
        finally:
            store.close()

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
