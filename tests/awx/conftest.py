"""AWX / Automation Controller content and the execution environment: fixtures.

The lab-using tests (test_runner.py) start their labs (contoso-small) on free ports of their own, and hand the
job an inventory pointing there, the way the controller's inventory sync would give it the site's ports.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
VENV_BIN = Path(sys.executable).parent
PATTERN = REPO / "extensions" / "patterns" / "controller_setup"
LAB_PASSWORD = "Lab-Passw0rd!"

sys.path.insert(0, str(HERE))
import install_awx_collection  # noqa: E402


def _unsafe(loader, node):
    return loader.construct_scalar(node)


class PlaybookLoader(yaml.SafeLoader):
    """Reads playbooks as data; Ansible's !unsafe marks a string Ansible must not template."""


PlaybookLoader.add_constructor("!unsafe", _unsafe)


def load_playbook(path: Path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=PlaybookLoader)


@pytest.fixture(scope="session")
def phases() -> list[dict]:
    return yaml.safe_load((PATTERN / "phases.yml").read_text(encoding="utf-8"))["lync_awx_phases"]


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory) -> str:
    """ANSIBLE_COLLECTIONS_PATH with lync.migration (this working tree) and awx.awx (from PyPI, see
    install_awx_collection.py)."""
    root = tmp_path_factory.mktemp("collections")
    link = root / "ansible_collections" / "lync" / "migration"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO, target_is_directory=True)
    awx_root = REPO / ".ansible" / "awx-collections"
    install_awx_collection.install(awx_root, cache=REPO / ".ansible" / "wheels")
    return "%s:%s" % (root, awx_root)


@pytest.fixture(scope="session")
def ansible_env(collections_path) -> dict:
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR="1",
                ANSIBLE_FORCE_COLOR="0", PATH="%s:%s" % (VENV_BIN, os.environ.get("PATH", "")))


@pytest.fixture(scope="session")
def ansible_doc(ansible_env):
    """The documented options of an awx.awx module, as `ansible-doc -j` gives them."""
    cache: dict[str, dict] = {}
    # One ansible-doc run for every module setup.yml uses (each run costs about a second).
    play = load_playbook(PATTERN / "setup.yml")[0]
    used = sorted({k for t in play["tasks"] for k in t if k.startswith("awx.awx.")})

    def options(module: str) -> dict:
        if module not in cache:
            wanted = [module] + [m for m in used if m not in cache and m != module]
            out = subprocess.run([str(VENV_BIN / "ansible-doc"), "-j", *wanted], cwd=REPO, env=ansible_env,
                                 capture_output=True, text=True, check=True).stdout
            for name, doc in json.loads(out).items():
                cache[name] = doc["doc"]["options"]
        return cache[module]

    return options


@pytest.fixture(scope="session")
def render(ansible_env, tmp_path_factory):
    """Run setup.yml without a controller (--skip-tags controller) and return what it would send."""

    default: list[dict] = []

    def run(extra: dict | None = None) -> dict:
        if extra is None and default:
            return default[0]
        out_dir = tmp_path_factory.mktemp("render")
        variables = {"lync_awx_render_dir": str(out_dir)}
        variables.update(extra or {})
        proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), str(PATTERN / "setup.yml"), "--skip-tags",
                               "controller", "-e", json.dumps(variables)], cwd=REPO, env=ansible_env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        sent = json.loads((out_dir / "controller.json").read_text(encoding="utf-8"))
        if extra is None:
            default.append(sent)
        return sent

    return run


SCENARIO_PORTS = (55989, 55990, 55991, 55992, 55993, 55994, 55995, 55996, 55997, 55998)


def _tcp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_lab_ports(first: int) -> tuple[int, int, int]:
    """(http, https, offset) from ``first`` on: the admin host's pair and an offset under which every other
    server of the scenario has a free port, so this lab never waits for another one (make lab, other suites)."""
    for http in range(first, first + 2000, 15):
        offset = http - 55985
        if all(_tcp_free(p) for p in [http, http + 1] + [p + offset for p in SCENARIO_PORTS]):
            return http, http + 1, offset
    raise RuntimeError("no free port range for a lab from %d" % first)


class Lab:
    def __init__(self, state_dir: Path, proc: subprocess.Popen, http: int, offset: int) -> None:
        self.state_dir = state_dir
        self.proc = proc
        self.http = http          # the Lync admin host (lync-fe01)
        self.offset = offset      # added to every other server's inventory port

    def port_of(self, inventory_port: int) -> int:
        return self.http + (inventory_port - 55985) if inventory_port in (55985, 55986) else inventory_port + self.offset

    def audit(self) -> list[dict]:
        path = self.state_dir / "audit.jsonl"
        entries = []
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue  # a line being written right now
        return entries

    def move_calls(self, since: int = 0) -> list[dict]:
        return [e for e in self.audit()[since:] if str(e.get("cmdlet", "")).startswith("Move-")]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_lab(state_dir: Path, stage: int, first_port: int) -> Lab:
    """lync-lab serve --scenario contoso-small --stage N on ports of its own (see free_lab_ports)."""
    http, https, offset = free_lab_ports(first_port)
    log = state_dir / "lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(VENV_BIN / "lync-lab"), "serve", "--scenario", "contoso-small", "--stage",
                                 str(stage), "--state-dir", str(state_dir), "--http-port", str(http), "--https-port",
                                 str(https), "--port-offset", str(offset)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 60
    while "listening on" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("lync-lab did not start:\n" + log.read_text())
        time.sleep(0.1)
    return Lab(state_dir, proc, http, offset)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """contoso-small at stage 6 (just before Phase 6), stopped with SIGTERM after the module."""
    lab = start_lab(tmp_path_factory.mktemp("lab-state"), 6, 36000 + (os.getpid() % 100) * 30)
    yield lab
    lab.stop()
