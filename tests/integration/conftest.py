"""Integration tests: the playbooks against a running lab, checked through plain pywinrm and the report files.

Each test module gets a lab of its own (contoso-small at the module's LAB_STAGE, default 6) on free ports
(lync_lab.instance.LabInstance), with an inventory overlay that moves inventories/lab's hosts there, so modules run
side by side (pytest -n 2 --dist loadfile).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lync_lab.instance import LabInstance

# The modules' in-process tests (modules/) share the unit tests' helpers and import path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "support"))
import collection_root  # noqa: E402  (makes ansible_collections.lync.migration importable)

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LAB_PASSWORD = "Lab-Passw0rd!"
LAB_USER = "CONTOSO\\lyncadmin"


class RunningLab(LabInstance):
    overlay: Path   # inventory file moving inventories/lab's hosts to this lab's ports (-i after inventories/lab)

    def move_calls(self, since: int = 0) -> list[dict]:
        return [e for e in self.audit()[since:] if str(e.get("cmdlet", "")).startswith("Move-")]


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory) -> RunningLab:
    """lync-lab serve on ports of its own for one test module, stopped after it.

    contoso-small at the stage the module names in ``LAB_STAGE`` (default 6: just before Phase 6), with its DNS
    server; the guided steps' lab actions and the reports use the module's own directories.
    """
    ephemeral = tmp_path_factory.mktemp("lab-instance")
    running = RunningLab(ephemeral / "lab", stage=getattr(request.module, "LAB_STAGE", 6), dns=True)
    running.start(timeout=60)
    running.overlay = running.write_inventory_overlay(
        REPO / "inventories" / "lab" / "hosts.yml", ephemeral / "inventory" / "zz_lab_instance.yml",
        {"lync_migration_report_dir": str(ephemeral / "reports")})
    yield running
    running.stop(timeout=15)


@pytest.fixture(scope="session")
def collections_path() -> Path:
    """An ansible_collections tree in which lync.migration is this working tree (tests/unit/support/collection_root.py)."""
    return Path(collection_root.COLLECTIONS_ROOT)


class PlaybookRun:
    def __init__(self, proc: subprocess.CompletedProcess, args: list[str]) -> None:
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.args = args

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr

    def recap(self, host: str = "lync-fe01.contoso.net") -> dict:
        """The PLAY RECAP counters of ``host`` (ok, changed, failed, ...)."""
        for line in self.stdout.splitlines():
            if line.startswith(host) and "ok=" in line:
                return {k: int(v) for k, v in (p.split("=") for p in line.split(":", 1)[1].split())}
        raise AssertionError("no PLAY RECAP line for %s in:\n%s" % (host, self.output))


ALL_OUTPUT: list[str] = []


@pytest.fixture(scope="module")
def playbook(collections_path, tmp_path_factory, lab):
    """Run a playbook from the repository root with the lab inventory, as a user does."""
    work = tmp_path_factory.mktemp("runs")
    dirs = {"journal": work / "journal", "reports": work / "reports"}

    def run(name: str, *args: str, extra: dict | None = None) -> PlaybookRun:
        extra_vars = {"move_users_journal_dir": str(dirs["journal"]), "move_users_report_dir": str(dirs["reports"])}
        extra_vars.update(extra or {})
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "inventories/lab", "-i", str(lab.overlay), f"playbooks/{name}",
               "-e", json.dumps(extra_vars), *args]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        result = PlaybookRun(proc, cmd)
        ALL_OUTPUT.append(result.output)
        return result

    run.dirs = dirs
    return run


@pytest.fixture(scope="module")
def lab_shell(lab):
    """A plain pywinrm session to the Lync admin host: checks the lab without going through the collection."""
    import winrm

    session = winrm.Session(lab.admin_url, auth=(LAB_USER, LAB_PASSWORD), transport="ntlm",
                            message_encryption="always")

    def registrar_pool(identity: str) -> str | None:
        # The identity is a test constant; quoted as a PowerShell single-quoted literal all the same.
        literal = "'" + identity.replace("'", "''") + "'"
        r = session.run_ps("Get-CsUser -Identity %s | Select-Object RegistrarPool | ConvertTo-Json" % literal)
        assert r.status_code == 0, r.std_err.decode("utf-8", "replace")
        return json.loads(r.std_out.decode("utf-8"))["RegistrarPool"]

    return registrar_pool


def latest_report(reports_dir: Path, label: str = "phase6") -> Path:
    """The newest report directory of that kind (by modification time: names only have whole seconds)."""
    runs = [p for p in reports_dir.glob("*-" + label + "*") if p.is_dir()]
    assert runs, "no %s report under %s" % (label, reports_dir)
    return max(runs, key=lambda p: p.stat().st_mtime_ns)
