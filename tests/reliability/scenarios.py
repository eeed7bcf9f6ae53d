"""The reliability scenarios, shared by the fast set (tests/reliability/fast, part of `make test`) and the
full set (tests/reliability, `make reliability`): the same code, fewer runs in the fast set."""

from __future__ import annotations

import datetime
import json
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

from harness import (REPO, AuditTail, LabInstance, MoveRun, generated_sip_addresses, large_scenario,
                     playbook_cmd, read_journals, registrar_pools, run_playbook, score, successful_moves,
                     write_wave_csv)

TARGET = "pool02.contoso.net"


def bulk_lab(tmp: Path, users: int, **lab_options) -> tuple[LabInstance, list[str]]:
    """A lab at stage 6 with ``users`` generated OCS users (contoso-large's deployment), and their SIP URIs."""
    scenario = large_scenario(tmp / "scenario.yml", users)
    identities = generated_sip_addresses(scenario, users)
    lab = LabInstance(tmp / "lab", scenario=scenario, stage=6, **lab_options)
    return lab, identities


def assert_kept_promises(verdict: dict, report: dict | None = None) -> None:
    checked = ("lost", "duplicated", "journal_lies", "journal_moved_twice", "sent_after_kill", "journal_vs_audit",
               "report_vs_audit", "not_rolled_back")
    problems = {k: verdict[k][:5] for k in checked if verdict.get(k)}
    if verdict["never_moved"]:
        problems["not moved by the lab (audit)"] = verdict["never_moved"][:5]
    assert not problems, "promises broken (first five of each): %r" % problems
    if report is not None:
        assert report["status"] == "succeeded", report.get("failure")
        assert report["totals"]["failed"] == 0, report["totals"]


# A request written to the socket just before the kill may reach the lab a moment after it: that one was sent
# before the run died. Anything later was sent by a process that outlived the run.
IN_FLIGHT_GRACE = 0.25


def kill_process_group_after(run: MoveRun, moves: int, log: Path, timeout: float = 900) -> datetime.datetime | None:
    """Run the wave and SIGKILL ansible-playbook's process group (what AWX's cancel and a crash of the job do:
    Ansible's workers, which call setsid, are not in it) once the lab has done ``moves`` more successful moves.
    Returns when the run's main process was dead (UTC), or None if the run ended first."""
    tail = AuditTail(run.lab)
    start = tail.poll()
    run.runs += 1
    with open(log, "w") as out:
        proc = subprocess.Popen(run.cmd, cwd=REPO, env=run.env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if tail.poll() - start >= moves:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return datetime.datetime.now(datetime.timezone.utc)
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise TimeoutError("the playbook ran longer than %d s" % timeout)
        time.sleep(0.02)
    return None


def sent_after(audit: list[dict], killed_at: datetime.datetime) -> list[dict]:
    """Calls whose WinRS request reached the lab after the run was killed (beyond IN_FLIGHT_GRACE)."""
    limit = killed_at + datetime.timedelta(seconds=IN_FLIGHT_GRACE)
    late = []
    for entry in audit:
        received = (entry.get("request") or {}).get("input_received")
        if received and datetime.datetime.fromisoformat(received) > limit:
            late.append(entry)
    return late


def moved_per_journals(journal_dir: Path) -> set[str]:
    return {str(e.get("sip_address") or e.get("identity")).lower() for e in read_journals(journal_dir)
            if e.get("outcome") == "moved"}


def moved_per_report(report: dict) -> set[str]:
    """Who the final report says the migration moved: this run's moves and those an earlier run made."""
    return {str(u.get("sip_address") or u.get("identity")).lower() for u in report.get("users", [])
            if u.get("outcome") == "moved" or u.get("earlier_move")}


def crash_and_resume(tmp: Path, seed: int, users: int, time_scale: float, max_kills: int = 2,
                     rollback: bool = True) -> dict:
    """Kill ansible-playbook's process group (SIGKILL) at random points of a move, 1..max_kills times, then run
    the same command again until it completes; then roll every moved user back. Returns the verdict (see
    MoveRun.verdict) with: ``sent_after_kill`` (calls whose request reached the lab after a kill),
    ``journal_vs_audit`` and ``report_vs_audit`` (users moved per the lab's audit log but not per the journals
    or the final report, or the other way round), and ``not_rolled_back`` (moved users not on their original
    pool after rollback-users.yml)."""
    rng = random.Random(seed)
    lab, identities = bulk_lab(tmp, users, latency="realistic", time_scale=time_scale)
    lab.start()
    try:
        original = registrar_pools(lab)
        run = MoveRun(tmp, lab, identities, batch_size=rng.choice([25, 100, 250]), parallelism=rng.choice([2, 4]))
        kills = rng.randint(1, max_kills)
        moved_before = 0
        late = []
        for n in range(kills):
            remaining = users - moved_before
            if remaining <= 1:
                break
            # 0 kills before the first move (during the preflight gate or the first batch's start).
            after = rng.choice([0, rng.randint(1, remaining - 1), rng.randint(1, remaining - 1)])
            killed_at = kill_process_group_after(run, after, tmp / ("killed-%d.log" % n))
            if killed_at is not None:
                time.sleep(1.0)   # what a survivor would send meanwhile
                late += sent_after(lab.audit(), killed_at)
            moved_before = len(successful_moves(lab.audit()))
        final = run.run()
        assert final.rc == 0, "the rerun after the kill failed:\n" + final.output[-4000:]
        verdict = run.verdict(TARGET)
        audit_moved = set(successful_moves(lab.audit()))
        journal_moved = moved_per_journals(run.journal_dir)
        report_moved = moved_per_report(verdict["report"])
        verdict["sent_after_kill"] = [(e["cmdlet"], e["request"]["input_received"]) for e in late]
        verdict["journal_vs_audit"] = sorted(journal_moved ^ audit_moved)
        verdict["report_vs_audit"] = sorted(report_moved ^ audit_moved)
        verdict["not_rolled_back"] = []
        if rollback:
            back = run_playbook(playbook_cmd(run.inventory, "rollback-users.yml", {
                "move_users_journal_dir": str(run.journal_dir), "move_users_report_dir": str(run.report_dir),
                "move_users_batch_size": 100, "move_users_parallelism": 4}), run.env)
            assert back.rc == 0, "rollback-users.yml failed:\n" + back.output[-4000:]
            now = registrar_pools(lab)
            verdict["not_rolled_back"] = sorted(s for s in audit_moved if now.get(s) != original.get(s))
        return verdict
    finally:
        lab.stop()


def lab_killed_mid_batch(tmp: Path, seed: int, users: int, time_scale: float) -> dict:
    """SIGKILL the lab itself mid-batch, restart it with --keep on the same ports, rerun the playbook until it
    completes."""
    rng = random.Random(seed)
    lab, identities = bulk_lab(tmp, users, latency="realistic", time_scale=time_scale)
    lab.start()
    try:
        run = MoveRun(tmp, lab, identities, batch_size=100, parallelism=4)
        kill_after = rng.randint(users // 10, users // 2)
        tail = AuditTail(lab)
        killed = threading.Event()

        def killer():
            while tail.poll() < kill_after:
                time.sleep(0.02)
            lab.kill()
            killed.set()
            time.sleep(rng.uniform(0.2, 2.0))   # the lab is down for a moment, as during a reboot
            lab.start(keep=True)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        first = run.run()
        thread.join(timeout=120)
        assert killed.is_set(), "the lab was not killed: the move finished before %d moves" % kill_after
        attempts = run.run_until_complete([first])
        assert attempts[-1].rc == 0, "the playbook did not complete after the lab restarted:\n" + \
            attempts[-1].output[-4000:]
        return run.verdict(TARGET)
    finally:
        lab.stop()


def record(name: str, runs: int, users: int, verdict: dict, unexpected_changes: int = 0) -> None:
    score(name, runs, users, lost=len(verdict["lost"]), duplicated=len(verdict["duplicated"]), leaked=0,
          unexpected_changes=unexpected_changes)


FAULT_KINDS = ("http500", "reset", "slow", "quota", "cmdlet")


def transient_faults(tmp: Path, seed: int, users: int, rate: float, time_scale: float) -> dict:
    """A move of ``users`` users with ``rate`` of each fault kind injected, plus two permanent errors (a user
    who does not exist, an OCS user named with a trailing space); reruns until the playbook completes."""
    faults = ",".join("%s=%s" % (kind, rate) for kind in FAULT_KINDS) + ",seed=%d" % seed
    lab, identities = bulk_lab(tmp, users, latency="realistic", time_scale=time_scale, faults=faults)
    permanent = ["sip:nobody.at.all@contoso.net", "Ken Myer "]
    lab.start()
    try:
        # The slow fault answers a Receive only when the client's OperationTimeout has passed (the WinRM long
        # poll), so each one costs that timeout: 5 s instead of the default 20 s keeps the run short while every
        # slow answer still arrives late and empty, as a slow server's does.
        run = MoveRun(tmp, lab, identities, batch_size=100, parallelism=4,
                      extra_vars={"move_users_on_invalid": "skip"},
                      inventory_vars={"ansible_winrm_operation_timeout_sec": 5, "ansible_winrm_read_timeout_sec": 15})
        # The wave holds the permanent errors too: rewrite its CSV with them at the end.
        write_wave_csv(tmp / "wave.csv", identities + permanent)
        outputs = run.run_until_complete()
        verdict = run.verdict(TARGET)
        verdict["outputs"] = outputs
        verdict["reports"] = [json.loads(p.read_text()) for p in sorted(run.report_dir.glob("*/report.json"))]
        verdict["permanent"] = permanent
        verdict["audit"] = lab.audit()
        return verdict
    finally:
        lab.stop()
