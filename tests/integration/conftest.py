"""Integration tests: the playbooks against a running lab, checked through plain pywinrm and the report files.

Each test module gets a lab of its own (contoso-small at the module's LAB_STAGE, default 6) on free ports:
extensions/molecule/shared/lab_instance.py picks them and writes an inventory overlay that moves
inventories/lab's hosts there, so modules run side by side (pytest -n 2 --dist loadfile).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LAB_PASSWORD = "Lab-Passw0rd!"
LAB_USER = "CONTOSO\\lyncadmin"
LAB_INSTANCE = REPO / "extensions" / "molecule" / "shared" / "lab_instance.py"


class RunningLab:
    def __init__(self, state_dir: Path, proc: subprocess.Popen, log: Path, instance: dict, overlay: Path) -> None:
        self.state_dir = state_dir
        self.proc = proc
        self.log = log
        self.instance = instance
        self.overlay = overlay  # inventory file moving inventories/lab's hosts to this lab's ports

    @property
    def admin_url(self) -> str:
        return "http://127.0.0.1:%d/wsman" % self.instance["http"]

    @property
    def audit_path(self) -> Path:
        return self.state_dir / "audit.jsonl"

    def audit(self) -> list[dict]:
        if not self.audit_path.exists():
            return []
        entries = []
        for line in self.audit_path.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue  # a line being written right now
        return entries

    def move_calls(self, since: int = 0) -> list[dict]:
        return [e for e in self.audit()[since:] if str(e.get("cmdlet", "")).startswith("Move-")]


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory) -> RunningLab:
    """lync-lab serve on the inventory's ports for one test module, stopped after it.

    contoso-small at the stage the module names in ``LAB_STAGE`` (default 6: just before Phase 6).
    """
    stage = getattr(request.module, "LAB_STAGE", 6)
    ephemeral = tmp_path_factory.mktemp("lab-instance")
    instance = json.loads(subprocess.run(
        [sys.executable, str(LAB_INSTANCE), "--stage", str(stage), "--ephemeral", str(ephemeral), "--project", str(REPO)],
        check=True, capture_output=True, text=True).stdout)
    state_dir = Path(instance["state_dir"])
    log = state_dir / "lab.log"
    lync_lab = VENV_BIN / "lync-lab"
    cmd = [str(lync_lab) if lync_lab.exists() else "lync-lab", "serve", "--scenario", "contoso-small",
           "--stage", str(stage), "--state-dir", str(state_dir), "--http-port", str(instance["http"]),
           "--https-port", str(instance["https"]), "--port-offset", str(instance["offset"]),
           "--dns-port", str(instance["dns"])]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while "listening on" not in log.read_text():
        if proc.poll() is not None:
            pytest.fail("lync-lab did not start:\n" + log.read_text())
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("lync-lab did not listen within 60 s:\n" + log.read_text())
        time.sleep(0.1)
    yield RunningLab(state_dir, proc, log, instance, ephemeral / "inventory" / "zz_lab_instance.yml")
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory) -> Path:
    """An ansible_collections tree in which lync.migration is this working tree."""
    root = tmp_path_factory.mktemp("collections")
    link = root / "ansible_collections" / "lync" / "migration"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO, target_is_directory=True)
    return root


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
