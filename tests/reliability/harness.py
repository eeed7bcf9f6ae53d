"""The reliability suite's tools: a lync-lab of its own per test (lync_lab.instance.LabInstance: free ports, an
inventory pointing at it), table-driven case playbooks, ansible-playbook runs that can be killed, and the
witnesses (the lab's audit log, the journals, the reports).

Every helper here is used by tests under tests/reliability/ and tests/reliability/fast/.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import yaml
from lync_lab.instance import LabInstance, read_audit

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LAB_PASSWORD = "Lab-Passw0rd!"
LAB_USER = "CONTOSO\\lyncadmin"
DATA = Path(__file__).resolve().parent / "data"
SCOREBOARD_ENV = "LYNC_RELIABILITY_SCOREBOARD"
# What every test's inventory is copied from (with its lab's ports: LabInstance.write_inventory).
LAB_INVENTORY = REPO / "inventories" / "lab"


def audit_ok(entry: dict) -> bool:
    return str(entry.get("outcome", "")).lower() in ("ok", "success", "succeeded", "completed")


WRITE_VERBS = ("Get-", "Test-")


def write_calls(entries: list[dict]) -> list[dict]:
    """Audit entries of every cmdlet that is not read-only (anything but Get-/Test-), whatever its outcome."""
    return [e for e in entries if not str(e.get("cmdlet", "")).startswith(WRITE_VERBS)]


def successful_moves(entries: list[dict]) -> dict[str, int]:
    """Successful Move-CsLegacyUser/Move-CsUser calls (not -WhatIf) per identity, as the lab recorded them."""
    counts: dict[str, int] = {}
    for e in entries:
        if e.get("cmdlet") in ("Move-CsLegacyUser", "Move-CsUser") and audit_ok(e):
            params = e.get("params") or {}
            if params.get("WhatIf"):
                continue
            key = str(params.get("Identity", "")).lower()
            counts[key] = counts.get(key, 0) + 1
    return counts


# -- scenarios -------------------------------------------------------------------------------------------
def large_scenario(path: Path, users: int, seed: int = 2013) -> Path:
    """contoso-large with ``users`` generated users (same deployment, fewer users: a 2,000-user wave)."""
    from lync_lab.model.scenario import scenario_path

    raw = yaml.safe_load(scenario_path("contoso-large").read_text(encoding="utf-8"))
    raw["name"] = "contoso-large-%d" % users
    raw["generate"] = dict(raw.get("generate") or {}, users=users, seed=seed)
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def generated_sip_addresses(scenario: Path, count: int) -> list[str]:
    from lync_lab.model.scenario import load_scenario

    sc = load_scenario(scenario)
    return ["sip:" + u["sip"] for u in sc.users if u.get("generated")][:count]


def write_wave_csv(path: Path, identities: list[str], encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(["identity", "note"])
        for identity in identities:
            writer.writerow([identity, "wave"])
    return path


def collections_root(tmp: Path) -> Path:
    """An ansible_collections tree in which lync.migration is this working tree."""
    link = tmp / "ansible_collections" / "lync" / "migration"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)
    return tmp


def playbook_env(collections: Path, extra_env: dict | None = None) -> dict:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
               # Absolute, so that runs from another directory (ansible-runner) open the lab vault too.
               ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
               ANSIBLE_VAULT_IDENTITY_LIST="lab@%s" % (REPO / "inventories" / "lab" / ".vault-pass"))
    env.pop("ANSIBLE_DEBUG", None)
    env.update(extra_env or {})
    return env


def playbook_cmd(inventory: Path, playbook: str, extra_vars: dict, *args: str) -> list[str]:
    return [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / playbook),
            "-e", json.dumps(extra_vars), *args]


class PlaybookRun:
    def __init__(self, rc: int, stdout: str, stderr: str, seconds: float) -> None:
        self.rc, self.stdout, self.stderr, self.seconds = rc, stdout, stderr, seconds

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr


def run_playbook(cmd: list[str], env: dict, timeout: float = 900) -> PlaybookRun:
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def run_and_kill(cmd: list[str], env: dict, kill_when, log: Path, timeout: float = 900) -> bool:
    """Start the playbook in its own process group and SIGKILL the whole group as soon as ``kill_when()``
    is true. Returns True if it was killed, False if it finished first."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if kill_when():
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            if time.monotonic() > deadline:
                raise TimeoutError("the playbook ran longer than %d s" % timeout)
            time.sleep(0.02)
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def read_journals(journal_dir: Path) -> list[dict]:
    """Every journal's entries, in file order; a line torn by a killed run is left out (as in the audit log)."""
    entries = []
    for path in sorted(Path(journal_dir).glob("*.jsonl")):
        entries += read_audit(path)
    return entries


def registrar_pools(lab: LabInstance) -> dict[str, str]:
    """Every user's RegistrarPool, read from the lab's store directly (a second witness, not the collection)."""
    import sqlite3

    db = sqlite3.connect("file:%s?mode=ro" % (lab.state_dir / "state.sqlite"), uri=True)
    try:
        pools = {}
        for (body,) in db.execute("SELECT body FROM doc WHERE kind = 'user'"):
            user = json.loads(body)
            sip = str(user.get("SipAddress") or "").lower()
            if sip:
                pools[sip if sip.startswith("sip:") else "sip:" + sip] = user.get("RegistrarPool")
        return pools
    finally:
        db.close()


# -- the scoreboard `make reliability` prints -----------------------------------------------------------
def score(scenario: str, runs: int, users: int, lost: int, duplicated: int, leaked: int,
          unexpected_changes: int, note: str = "") -> None:
    """Append one row to the scoreboard file (if `make reliability` asked for one)."""
    path = os.environ.get(SCOREBOARD_ENV)
    if not path:
        return
    row = dict(scenario=scenario, runs=runs, users=users, lost=lost, duplicated=duplicated,
               leaked_secrets=leaked, unexpected_changes=unexpected_changes, note=note)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


class AuditTail:
    """Counts the lab's successful moves as the audit log grows, reading only what is new (the kill trigger)."""

    def __init__(self, lab: LabInstance) -> None:
        self.path = lab.audit_path
        self.pos = 0
        self.moves = 0
        self.lines = 0
        self._partial = b""

    def poll(self) -> int:
        if not self.path.exists():
            return self.moves
        with open(self.path, "rb") as fh:
            fh.seek(self.pos)
            chunk = fh.read()
        self.pos += len(chunk)
        data = self._partial + chunk
        *complete, self._partial = data.split(b"\n")
        for raw in complete:
            self.lines += 1
            if b'"Move-Cs' in raw and b'"ok"' in raw:
                self.moves += 1
        return self.moves


class MoveRun:
    """A 2,000-user (or any size) Phase 6 wave against one lab: the command users type, and its witnesses."""

    def __init__(self, tmp: Path, lab: LabInstance, identities: list[str], batch_size: int = 100,
                 parallelism: int = 4, extra_vars: dict | None = None, inventory_vars: dict | None = None) -> None:
        self.tmp = Path(tmp)
        self.lab = lab
        self.identities = identities
        self.journal_dir = self.tmp / "journal"
        self.report_dir = self.tmp / "reports"
        wave_csv = write_wave_csv(self.tmp / "wave.csv", identities)
        group_vars = {"lync_migration_waves": [{"name": "bulk", "csv": str(wave_csv)}],
                      "lync_migration_legacy_pools": ["pool01.contoso.net", "pool03.contoso.net",
                                                      "pool04.contoso.net"]}
        group_vars.update(inventory_vars or {})
        self.inventory = lab.write_inventory(LAB_INVENTORY, self.tmp / "inventory", group_vars,
                                             vars_file="zz_test.yml")
        self.env = playbook_env(collections_root(self.tmp / "collections"))
        extra = {"move_users_journal_dir": str(self.journal_dir), "move_users_report_dir": str(self.report_dir),
                 "move_users_batch_size": batch_size, "move_users_parallelism": parallelism}
        extra.update(extra_vars or {})
        self.cmd = playbook_cmd(self.inventory, "phase6-move-users.yml", extra)
        self.runs = 0

    def run(self, timeout: float = 900) -> PlaybookRun:
        self.runs += 1
        return run_playbook(self.cmd, self.env, timeout=timeout)

    def run_until_complete(self, runs: list[PlaybookRun] | None = None, max_runs: int = 4) -> list[PlaybookRun]:
        """Run again (after ``runs``, those already made) until a run completes (rc 0) or ``max_runs`` runs were
        made, as a user reruns the same command; returns every run."""
        runs = list(runs or [])
        while (not runs or runs[-1].rc != 0) and len(runs) < max_runs:
            runs.append(self.run())
        return runs

    def run_killed_after(self, moves: int, log_name: str, timeout: float = 900) -> bool:
        """Run and SIGKILL the playbook's process tree once the lab has done ``moves`` more successful moves."""
        tail = AuditTail(self.lab)
        start = tail.poll()
        self.runs += 1
        return run_and_kill(self.cmd, self.env, lambda: tail.poll() - start >= moves, self.tmp / log_name,
                            timeout=timeout)

    def verdict(self, target: str = "pool02.contoso.net") -> dict:
        """lost: users not on the target pool; duplicated: users moved more than once (audit); journal_lies:
        users the journal says moved that the lab did not move, or moved users the journal never mentions;
        runs: how many runs this MoveRun made; report: the newest run report."""
        pools = registrar_pools(self.lab)
        moves = successful_moves(self.lab.audit())
        journal = read_journals(self.journal_dir)
        journal_moved: dict[str, int] = {}
        journal_seen: set[str] = set()
        for e in journal:
            key = str(e.get("sip_address") or e.get("identity") or "").lower()
            journal_seen.add(key)
            if e.get("outcome") == "moved":
                journal_moved[key] = journal_moved.get(key, 0) + 1
        lost = [s for s in self.identities if pools.get(s.lower()) != target]
        duplicated = [s for s in self.identities if moves.get(s.lower(), 0) > 1]
        never_moved = [s for s in self.identities if moves.get(s.lower(), 0) == 0]
        journal_lies = sorted(
            [s for s in self.identities if journal_moved.get(s.lower(), 0) > moves.get(s.lower(), 0)]
            + [s for s in self.identities if moves.get(s.lower(), 0) and s.lower() not in journal_seen])
        return dict(lost=lost, duplicated=duplicated, never_moved=never_moved, journal_lies=journal_lies,
                    journal_moved_twice=[k for k, n in journal_moved.items() if n > 1], runs=self.runs,
                    report=last_report(self.report_dir))


def last_report(report_dir: Path) -> dict:
    runs = [p for p in Path(report_dir).glob("*") if (p / "report.json").exists()]
    if not runs:
        raise AssertionError("no report under %s" % report_dir)
    newest = max(runs, key=lambda p: p.stat().st_mtime_ns)
    return json.loads((newest / "report.json").read_text(encoding="utf-8"))


# -- table-driven playbooks ----------------------------------------------------------------------------
class Unsafe(str):
    """A string written as `!unsafe` in a generated playbook: Ansible never templates it (test data stays data)."""


def _represent_unsafe(dumper, data):
    return dumper.represent_scalar("!unsafe", str(data), style='"')


class PlaybookDumper(yaml.SafeDumper):
    pass


PlaybookDumper.add_representer(Unsafe, _represent_unsafe)


def unsafe(value):
    """``value`` with every string (not the keys) marked Unsafe."""
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, list):
        return [unsafe(v) for v in value]
    if isinstance(value, dict):
        return {k: unsafe(v) for k, v in value.items()}
    return value


def case_playbook(path: Path, module_cases: list[dict], role_cases: list[dict], results_path: Path,
                  report_dir: Path, journal_dir: Path) -> Path:
    """One playbook that runs every case once and writes {case id: result} to ``results_path``.

    Module cases are tasks (ignore_errors). Role cases are include_role inside block/rescue, each after
    `meta: clear_facts` so that no fact of an earlier case leaks into it (a user runs the role once per play);
    each writes its own result file, merged by ``read_case_results``."""
    tasks: list[dict] = []
    names = []
    for n, case in enumerate(module_cases):
        var = "case_%d" % n
        task = {"name": "case %s" % case["id"], "lync.migration.%s" % case["module"]: unsafe(case.get("args") or {}),
                "register": var, "ignore_errors": True}
        if case.get("host"):
            task["delegate_to"] = case["host"]
        tasks.append(task)
        names.append((case["id"], var))
    collect = "{{ {%s} | to_json }}" % ", ".join("%s: %s" % (json.dumps(i), v) for i, v in names)
    tasks.append({"name": "write the module results", "ansible.builtin.copy": {"content": collect,
                                                                               "dest": str(results_path)},
                  "delegate_to": "localhost"})
    case_dir = Path(str(results_path) + ".d")
    case_dir.mkdir(parents=True, exist_ok=True)
    for n, case in enumerate(role_cases):
        role_vars = dict(case.get("inventory") or {})
        role_vars.update(case.get("role_vars") or {})
        role_vars.update(move_users_report_dir=str(report_dir), move_users_journal_dir=str(journal_dir))
        dest = str(case_dir / ("%03d.json" % n))
        tasks.append({"ansible.builtin.meta": "clear_facts"})
        tasks.append({"name": "case %s" % case["id"], "block": [
            {"ansible.builtin.include_role": {"name": "lync.migration.move_users"}, "vars": unsafe(role_vars)},
            {"ansible.builtin.copy": {"content": json.dumps({case["id"]: {"failed": False,
                                                                           "msg": "the role completed"}}),
                                      "dest": dest}, "delegate_to": "localhost"},
        ], "rescue": [
            {"ansible.builtin.copy": {
                "content": "{{ {%s: {'failed': true, 'msg': ansible_failed_result.msg | default('')}} | to_json }}"
                           % json.dumps(case["id"]),
                "dest": dest}, "delegate_to": "localhost"},
        ]})
    play = [{"name": "cases", "hosts": "lync-fe01.contoso.net", "gather_facts": False, "tasks": tasks}]
    path.write_text(yaml.dump(play, Dumper=PlaybookDumper, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def read_case_results(results_path: Path) -> dict:
    """The results case_playbook wrote: the module cases' file plus one file per role case."""
    results = json.loads(Path(results_path).read_text(encoding="utf-8")) if Path(results_path).exists() else {}
    for part in sorted(Path(str(results_path) + ".d").glob("*.json")):
        results.update(json.loads(part.read_text(encoding="utf-8")))
    return results


class CaseRun(NamedTuple):
    """What one case playbook left: {case id: result}, the lab's audit entries written meanwhile, the run."""
    results: dict
    audit: list[dict]
    run: PlaybookRun


def run_cases(tmp: Path, lab: LabInstance, inventory: Path, module_cases: Sequence[dict],
              role_cases: Sequence[dict] = (), args: Sequence[str] = (), extra_env: dict | None = None) -> CaseRun:
    """Run every case once (case_playbook, in ``tmp``) against ``lab`` through ``inventory``; fails the test if
    the playbook did not finish or a case has no result."""
    results_path = tmp / "results.json"
    book = case_playbook(tmp / "cases.yml", module_cases, list(role_cases), results_path, tmp / "reports",
                         tmp / "journal")
    before = len(lab.audit())
    run = run_playbook([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(book), *args],
                       playbook_env(collections_root(tmp / "collections"), extra_env))
    assert results_path.exists(), "the case playbook did not finish:\n" + run.output[-5000:]
    results = read_case_results(results_path)
    missing = [c["id"] for c in [*module_cases, *role_cases] if c["id"] not in results]
    assert not missing, "cases without a result: %s\n%s" % (missing, run.output[-5000:])
    return CaseRun(results, lab.audit()[before:], run)


def add_bare_host(inventory: Path, name: str = "bare.contoso.net") -> None:
    """A host with no WinRM variables at all (not in the windows group)."""
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text(encoding="utf-8"))
    hosts["all"]["children"]["unmanaged"] = {"hosts": {name: {"ansible_connection": "local"}}}
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False), encoding="utf-8")
