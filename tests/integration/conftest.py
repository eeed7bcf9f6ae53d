"""Integration tests: the playbooks against a running lab, checked through plain pywinrm and the report files.

One lab (contoso-small, stage 6) serves the whole session on the inventory's default ports, so these tests
run serially (no -n). Each test module that changes users declares the state it starts from.
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

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LAB_PASSWORD = "Lab-Passw0rd!"
LAB_USER = "CONTOSO\\lyncadmin"
ADMIN_HTTP = "http://127.0.0.1:55985/wsman"


class RunningLab:
    def __init__(self, state_dir: Path, proc: subprocess.Popen, log: Path) -> None:
        self.state_dir = state_dir
        self.proc = proc
        self.log = log

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


LAB_PORTS = (55985, 55986, 55989, 55990, 55991, 55992, 55993, 55994, 55995, 55996, 55997, 55998)


def _ports_free() -> bool:
    for port in LAB_PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory) -> RunningLab:
    """lync-lab serve on the inventory's ports for one test module, stopped after it.

    contoso-small at the stage the module names in ``LAB_STAGE`` (default 6: just before Phase 6).
    """
    stage = getattr(request.module, "LAB_STAGE", 6)
    # The inventory names fixed ports; another lab (a previous run still closing, `make lab`) must go first.
    deadline = time.monotonic() + 240
    while not _ports_free():
        if time.monotonic() > deadline:
            pytest.fail("the lab's ports (55985-55998) stay in use; stop the other lync-lab (make lab-stop)")
        time.sleep(0.5)
    state_dir = tmp_path_factory.mktemp("lab-state")
    log = state_dir / "lab.log"
    lync_lab = VENV_BIN / "lync-lab"
    cmd = [str(lync_lab) if lync_lab.exists() else "lync-lab", "serve", "--scenario", "contoso-small",
           "--stage", str(stage), "--state-dir", str(state_dir)]
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
    yield RunningLab(state_dir, proc, log)
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
def playbook(collections_path, tmp_path_factory):
    """Run a playbook from the repository root with the lab inventory, as a user does."""
    work = tmp_path_factory.mktemp("runs")
    dirs = {"journal": work / "journal", "reports": work / "reports"}

    def run(name: str, *args: str, extra: dict | None = None) -> PlaybookRun:
        extra_vars = {"move_users_journal_dir": str(dirs["journal"]), "move_users_report_dir": str(dirs["reports"])}
        extra_vars.update(extra or {})
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "inventories/lab", f"playbooks/{name}",
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

    session = winrm.Session(ADMIN_HTTP, auth=(LAB_USER, LAB_PASSWORD), transport="ntlm",
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
