"""AWX / Automation Controller content and the execution environment: fixtures.

The lab-using tests (test_runner.py) start their labs (contoso-small) on free ports of their own, and hand the
job an inventory pointing there, the way the controller's inventory sync would give it the site's ports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
from lync_lab.instance import LabInstance  # noqa: E402


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


class Lab(LabInstance):
    """A lab of a test module's own; ``http`` is the Lync admin host (lync-fe01), ``port_of`` maps an inventory
    port to this lab's."""

    @property
    def http(self) -> int:
        return self.http_port

    def move_calls(self, since: int = 0) -> list[dict]:
        return [e for e in self.audit()[since:] if str(e.get("cmdlet", "")).startswith("Move-")]


def start_lab(state_dir: Path, stage: int, first_port: int) -> Lab:
    """lync-lab serve --scenario contoso-small --stage N on free ports, the first free block from ``first_port``
    on, so this lab never waits for another one (make lab, other suites)."""
    return Lab(state_dir, stage=stage, port_range=(first_port, first_port + 2000), randomize_ports=False).start(
        timeout=60)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """contoso-small at stage 6 (just before Phase 6), stopped with SIGTERM after the module."""
    lab = start_lab(tmp_path_factory.mktemp("lab-state"), 6, 36000 + (os.getpid() % 100) * 30)
    yield lab
    lab.stop(timeout=15)
