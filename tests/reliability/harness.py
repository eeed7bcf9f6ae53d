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


# -- playbook cases: one whole ansible-playbook run per case (docs/reliability.md, "Adding a case") ------
# Read-only cmdlets besides Get-/Test-: they change nothing in the deployment (Export-* writes a file on the
# caller's side only when given a path, which the corpus never passes).
READ_ONLY_EXACT = ("Import-Module", "Write-Host", "Write-Output", "ConvertTo-Json", "Select-Object", "Measure-Object",
                   "Where-Object", "ForEach-Object", "Sort-Object", "Out-String", "Format-List")
PLAYBOOK_CASE_KEYS = {"id", "playbook", "stage", "scenario", "dns", "inventory", "inventory_unset",
                      "inventory_edits", "extra_vars", "extra_args", "files", "expect_rc", "expect", "note",
                      "check_mode", "timeout", "_file"}
# Excel's and PowerShell's ways of writing a CSV file (`files: {name: {format: ...}}`); every key can also be
# given on its own (encoding, newline, delimiter, quote_all, preamble).
CSV_FORMATS = {
    # Plain UTF-8 without BOM, LF, comma: what a script or PowerShell 7's Export-Csv writes.
    "utf8": {"encoding": "utf-8", "newline": "\n", "delimiter": ","},
    # Excel "CSV UTF-8 (Comma delimited)": a byte order mark, CRLF line ends.
    "excel-utf8": {"encoding": "utf-8-sig", "newline": "\r\n", "delimiter": ","},
    # The same in a locale whose list separator is `;` (de-DE, fr-FR, ...): Excel writes `;` between fields.
    "excel-semicolon": {"encoding": "utf-8-sig", "newline": "\r\n", "delimiter": ";"},
    # Excel's plain "CSV (Comma delimited)": the ANSI code page (Windows-1252 in Western Europe), CRLF.
    "excel-ansi": {"encoding": "cp1252", "newline": "\r\n", "delimiter": ","},
    # Windows PowerShell 5.1 `Export-Csv` without -NoTypeInformation: a `#TYPE` first line, every field quoted.
    "export-csv-ps5": {"encoding": "utf-8", "newline": "\r\n", "delimiter": ",", "quote_all": True,
                       "preamble": "#TYPE System.Management.Automation.PSCustomObject"},
    # Windows PowerShell 5.1 `Export-Csv -Encoding Unicode` or `... | Out-File` (Unicode is Out-File's default):
    # UTF-16 LE with its byte order mark, CRLF.
    "utf16le": {"encoding": "utf-16", "newline": "\r\n", "delimiter": ",", "quote_all": True},
}


def write_case_file(path: Path, spec: dict | str) -> Path:
    """One file of a case: ``text`` as given, or ``rows`` written as CSV in ``format`` (CSV_FORMATS) and/or
    explicit encoding/newline/delimiter/quote_all/preamble; ``directory: true`` makes a directory instead.
    Python's "utf-16" codec writes the byte order mark first, little-endian on this machine, as Windows does."""
    import io

    spec = {"text": spec} if isinstance(spec, str) else dict(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    if spec.get("directory"):
        path.mkdir(parents=True, exist_ok=True)
        return path
    fmt = dict(CSV_FORMATS[spec.get("format", "utf8")])
    fmt.update({k: spec[k] for k in ("encoding", "newline", "delimiter", "quote_all", "preamble") if k in spec})
    if "text" in spec:
        text = str(spec["text"]).replace("\n", fmt["newline"]) if fmt["newline"] != "\n" else str(spec["text"])
    else:
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=fmt["delimiter"], lineterminator=fmt["newline"],
                            quoting=csv.QUOTE_ALL if fmt.get("quote_all") else csv.QUOTE_MINIMAL)
        for row in spec.get("rows") or []:
            writer.writerow([str(v) for v in row])
        text = (fmt["preamble"] + fmt["newline"] if fmt.get("preamble") else "") + buf.getvalue()
    path.write_bytes(text.encode(fmt["encoding"]))
    return path


def _groups(node: dict):
    """Every group mapping of a parsed hosts.yml, with its name, depth first."""
    for name, body in ((node or {}).get("children") or {}).items():
        body = body if isinstance(body, dict) else {}
        yield name, body, node
        yield from _groups(body)


def edit_inventory(inventory: Path, edits: Sequence[dict], unset: Sequence[str] = ()) -> None:
    """Apply a case's ``inventory_edits`` to hosts.yml, each one of:
    {rename_group: {from: lync_admin, to: lync_admins}}, {drop_group: name}, {drop_host: fqdn} (from every
    group), {empty_group: name} (no hosts), {host_vars: {host: {var: value}}};
    and remove each variable named in ``unset`` from every group_vars/all file (as if the admin left it out)."""
    hosts_path = inventory / "hosts.yml"
    hosts = yaml.safe_load(hosts_path.read_text(encoding="utf-8"))
    root = hosts["all"]
    for edit in edits:
        (kind, arg), = edit.items()
        if kind == "rename_group":
            for name, body, parent in list(_groups(root)):
                if name == arg["from"]:
                    parent["children"] = {(arg["to"] if k == name else k): v for k, v in parent["children"].items()}
                    break
            else:
                raise AssertionError("inventory_edits: no group %r" % arg["from"])
        elif kind == "drop_group":
            for name, body, parent in list(_groups(root)):
                if name == arg:
                    del parent["children"][name]
                    break
            else:
                raise AssertionError("inventory_edits: no group %r" % arg)
        elif kind == "empty_group":
            for name, body, parent in list(_groups(root)):
                if name == arg:
                    parent["children"][name] = {"hosts": {}}
                    break
            else:
                raise AssertionError("inventory_edits: no group %r" % arg)
        elif kind == "drop_host":
            found = False
            for name, body, parent in list(_groups(root)):
                if arg in (body.get("hosts") or {}):
                    del body["hosts"][arg]
                    found = True
            assert found, "inventory_edits: no host %r" % arg
        elif kind == "host_vars":
            for host, values in arg.items():
                found = False
                for name, body, parent in list(_groups(root)):
                    if host in (body.get("hosts") or {}):
                        body["hosts"][host] = dict(body["hosts"][host] or {}, **values)
                        found = True
                assert found, "inventory_edits: no host %r" % host
        else:
            raise AssertionError("inventory_edits: unknown edit %r" % kind)
    hosts_path.write_text(yaml.safe_dump(hosts, sort_keys=False), encoding="utf-8")
    for var in unset:
        found = False
        for path in sorted((inventory / "group_vars" / "all").glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and var in data:
                del data[var]
                path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
                found = True
        assert found, "inventory_unset: %r is in no group_vars/all file" % var


def failure_messages(output: str) -> str:
    """What the run said when it failed, as the user reads it: the `msg` (and argument_errors) of every failed
    task result (`fatal:`/`failed:` lines, JSON result format), and every ERROR line with what follows it."""
    found: list[str] = []
    lines = output.splitlines()
    for n, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(("fatal:", "failed:")) and "=>" in stripped:
            body = stripped.split("=>", 1)[1].strip()
            try:
                result = json.loads(body)
            except ValueError:
                found.append(body)
                continue
            for key in ("msg", "argument_errors", "stderr", "module_stderr"):
                value = result.get(key)
                if isinstance(value, list):
                    found.append("\n".join(v if isinstance(v, str) else json.dumps(v) for v in value))
                elif value:
                    found.append(value if isinstance(value, str) else json.dumps(value))
        elif "ERROR!" in stripped or stripped.startswith("[ERROR]"):
            found.append("\n".join(lines[n:n + 12]))
    return "\n".join(found)


# What each corpus case counts as in the table (scoreboard.py): ok, or the one thing that went wrong.
UNSAFE, SILENT, UNCLEAR, WRONG_RC, OK = "unsafe", "silent-accept", "unclear", "wrong-rc", "ok"


def judge_case(case: dict, rc: int, message: str, writes: list[dict]) -> tuple[str, str]:
    """(kind, why) for one case: unsafe (a changing call reached the lab), silent-accept (exit 0 where a failure
    was expected), wrong-rc (another non-zero exit than the case names), unclear (failed, but the message does not
    match every `expect` pattern: the field or the fix is not named), else ok."""
    import re

    if writes:
        return UNSAFE, "changing calls reached the lab: %s" % ", ".join(
            sorted({str(w.get("cmdlet")) for w in writes}))
    expected = case.get("expect_rc", "nonzero")
    if expected == "nonzero":
        if rc == 0:
            return SILENT, "exit 0 where a failure was expected"
    elif rc != int(expected):
        return (SILENT if rc == 0 else WRONG_RC), "exit %d, expected %s" % (rc, expected)
    missing = [p for p in case.get("expect") or [] if not re.search(p, message, re.IGNORECASE | re.DOTALL)]
    if missing:
        return UNCLEAR, "the failure message lacks %r:\n%s" % (missing, message[:1500] or "(no failure message)")
    return OK, ""


def score_case(table: str, case_id: str, kind: str) -> None:
    """One corpus row per case for the scoreboard's corpus table (if `make reliability` asked for one)."""
    path = os.environ.get(SCOREBOARD_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"corpus": table, "case": case_id, "kind": kind}) + "\n")


class CaseResult(NamedTuple):
    kind: str
    why: str
    run: PlaybookRun
    message: str
    writes: list


def _substitute(value, marks: dict):
    if isinstance(value, str):
        for mark, text in marks.items():
            value = value.replace(mark, text)
        return value
    if isinstance(value, list):
        return [_substitute(v, marks) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, marks) for k, v in value.items()}
    return value


class CorpusLab:
    """One lab per (scenario, stage) that the playbook cases of that stage share, run one after another.

    The lab is reset (stopped and seeded again: `LabInstance.start()` without keep) only after a case that made
    a changing call, so a broken case cannot change what the next one sees, and a good corpus costs one start."""

    def __init__(self, root: Path, scenario: str = "contoso-small", stage: int = 6, dns: bool = True) -> None:
        self.root = Path(root)
        self.scenario, self.stage = scenario, stage
        self.lab = LabInstance(self.root / "lab", scenario=scenario, stage=stage, dns=dns, log=self.root / "lab.log")
        self.collections = collections_root(self.root / "collections")
        self.resets = 0
        self.cases = 0

    def __enter__(self) -> "CorpusLab":
        self.lab.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.lab.stop()

    def reset(self) -> None:
        self.lab.stop()
        self.lab.start()
        self.resets += 1

    def run_case(self, case: dict) -> CaseResult:
        unknown = set(case) - PLAYBOOK_CASE_KEYS
        assert not unknown, "case %s: unknown keys %s" % (case["id"], sorted(unknown))
        self.cases += 1
        case_dir = self.root / "cases" / case["id"]
        if case_dir.exists():
            import shutil

            shutil.rmtree(case_dir)
        case_dir.mkdir(parents=True)
        marks = {"@CASE@": str(case_dir), "@DATA@": str(DATA)}
        case = _substitute(case, marks)
        for name, spec in (case.get("files") or {}).items():
            write_case_file(case_dir / name, spec)
        group_vars = {"lync_migration_lab_state_dir": str(self.lab.state_dir),
                      "lync_migration_lab_command": str(VENV_BIN / "lync-lab"),
                      "lync_migration_report_dir": str(case_dir / "reports"),
                      "lync_migration_journal_dir": str(case_dir / "journal")}
        group_vars.update(case.get("inventory") or {})
        inventory = self.lab.write_inventory(LAB_INVENTORY, case_dir / "inventory", group_vars,
                                             vars_file="zz_case.yml")
        edit_inventory(inventory, case.get("inventory_edits") or [], case.get("inventory_unset") or [])
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / case["playbook"])]
        if case.get("extra_vars"):
            cmd += ["-e", json.dumps(case["extra_vars"])]
        cmd += [str(a) for a in case.get("extra_args") or []]
        if case.get("check_mode"):
            cmd.append("--check")
        env = playbook_env(self.collections, {"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
        before = len(self.lab.audit())
        run = run_playbook(cmd, env, timeout=case.get("timeout", 600))
        (case_dir / "output.txt").write_text(run.output, encoding="utf-8")
        writes = [w for w in write_calls(self.lab.audit()[before:])
                  if str(w.get("cmdlet", "")) not in READ_ONLY_EXACT]
        message = failure_messages(run.output)
        kind, why = judge_case(case, run.rc, message, writes)
        if writes:
            self.reset()
        return CaseResult(kind, why, run, message, writes)


def load_playbook_cases() -> list[dict]:
    """Every `playbook_cases` entry of every data/bad_inputs*.yml, in file order (ids unique across files)."""
    cases = []
    for path in sorted(DATA.glob("bad_inputs*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for case in data.get("playbook_cases") or []:
            cases.append(dict(case, _file=path.name))
    return cases
