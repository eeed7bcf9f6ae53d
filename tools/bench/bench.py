"""`make bench`: how fast users move, against the lab's latency model, compared with the ideal bound.

Runs, each against a freshly seeded lab (contoso-large, stage 6, `--latency realistic --time-scale S`):
  (a) the per-user loop users write today: pywinrm `run_ps` per user, a fresh PowerShell + Import-Module each
      time, one user after the other (measured on a sample; the loop is sequential, so N users take N times
      the sample's mean, and the report says so);
  (b) cs_user_move through ansible-playbook with its defaults (parallelism auto, batch_size 25);
  (c) cs_user_move tuned (parallelism 25, the WinRM ceiling);
  (d) only with --variants: (c) with on_invalid skip, which plans and moves in one pass from 1,000 to 4,999 identities;
for each N, then a check-mode plan of 20,000 users (and of 50,000, for memory) against a zero-latency lab, with
cs_user_move's default result (results: all) and with the lean one big waves and the move_users role use
(results: failed, every user in results_file).
Prints a table and writes it as JSON (--json) for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / ".ansible" / "collections"))

from lync_lab.latency import LatencyModel  # noqa: E402

USER = "CONTOSO\\lyncadmin"
PASSWORD = "Lab-Passw0rd!"   # the lab's published administrator password (lab/README.md)
TARGET = "pool02.contoso.net"
MOVE_CMDLET = "Move-CsLegacyUser"
# The baseline builds PowerShell text as users' loops do; only SIP addresses of this shape get near it.
SAFE_SIP = re.compile(r"^sip:[a-z0-9._-]+@[a-z0-9.-]+$")

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/lync.migration.lync:
      server: 127.0.0.1
      port: "{{ lab_port | int }}"
      scheme: http
      username: "{{ lab_user }}"
      password: "{{ lab_password }}"
  tasks:
    - name: Move the users
      lync.migration.cs_user_move:
        identities: "{{ move_args.identities }}"
        target_pool: "{{ move_args.target_pool }}"
        parallelism: "{{ move_args.parallelism | default(omit) }}"
        batch_size: "{{ move_args.batch_size | default(omit) }}"
        on_invalid: "{{ move_args.on_invalid | default(omit) }}"
        results: "{{ move_args.results | default(omit) }}"
        results_file: "{{ move_args.results_file | default(omit) }}"
      # One task only: its result (summary, performance) is read from the json stdout callback.
"""


class Lab:
    """lync-lab serve on free ports (lync_lab.instance.LabInstance), with its own state directory; stop() ends it."""

    def __init__(self, workdir: Path, latency: str, time_scale: float, scenario: str = "contoso-large") -> None:
        from lync_lab.instance import LabInstance, LabStartError

        self.dir = Path(tempfile.mkdtemp(prefix="lab-", dir=workdir))
        self.instance = LabInstance(self.dir / "state", scenario=scenario, stage=6, latency=latency,
                                    time_scale=time_scale, log=self.dir / "lab.log")
        try:
            self.instance.start(timeout=180)
        except LabStartError as exc:
            raise SystemExit("lync-lab did not start: %s" % exc)
        self.port = self.instance.http_port

    def stop(self) -> None:
        self.instance.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def legacy_sips(self) -> list[str]:
        """SIP addresses of users Move-CsLegacyUser accepts (on OCS, display name without edge spaces)."""
        from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
        from ansible_collections.lync.migration.plugins.module_utils.lync.client import LyncClient
        from ansible_collections.lync.migration.plugins.module_utils.lync.connection import ConnectionOptions

        from ansible_collections.lync.migration.plugins.module_utils.lync.pieces import opath_pieces, out_of_memory

        params, select = {"OnOfficeCommunicationServer": True}, ["SipAddress", "DisplayName"]
        client = LyncClient(ConnectionOptions(server="127.0.0.1", port=self.port, scheme="http", username=USER,
                                              password=PASSWORD))
        try:
            results = client.run_calls([Call("Get-CsUser", params, select=select)])
            if out_of_memory(results[0]):
                # contoso-large's pilot Front End holds a shell to 150 MB (WMF 3.0 without KB2842230): every
                # legacy user in one answer does not fit, so read them by the first character of the address.
                pieces = opath_pieces(None, lambda piece: Call("Get-CsUser", dict(params, Filter=piece),
                                                               select=select))("")
                results = client.run_queue([call for _key, call in pieces], batch_size=4, parallelism=4,
                                           min_batch=1)
        finally:
            client.close()
        failed = [r for r in results if not r.ok]
        if failed:
            raise SystemExit("Get-CsUser failed: %s" % failed[0].error.message)
        return sorted(o["SipAddress"] for r in results for o in r.objects
                      if o["DisplayName"] == o["DisplayName"].strip() and SAFE_SIP.match(o["SipAddress"]))

    def moved_count(self) -> int:
        count = 0
        with open(self.instance.audit_path, encoding="utf-8") as f:
            for line in f:
                if '"%s"' % MOVE_CMDLET in line and '"ok"' in line:
                    count += 1
        return count


class TreeSampler:
    """Peaks of the summed RSS and PSS of a process and all its descendants, sampled every 0.1 s from /proc.
    RSS counts the pages a forked worker shares with ansible-playbook once per process; PSS splits them."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open("/proc/%s/stat" % entry) as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = pss = 0
            for pid in self._tree():
                try:
                    with open("/proc/%d/smaps_rollup" % pid) as f:
                        for line in f:
                            if line.startswith("Rss:"):
                                rss += int(line.split()[1]) * 1024
                            elif line.startswith("Pss:"):
                                pss += int(line.split()[1]) * 1024
                except (OSError, IndexError, ValueError):
                    continue
            self.peak = max(self.peak, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(0.1)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_playbook(workdir: Path, lab: Lab, move_args: dict, check: bool = False) -> dict:
    """ansible-playbook with cs_user_move; wall time, CPU of the whole tree (reaped children), peak RSS."""
    playbook = workdir / "bench-move.yml"
    playbook.write_text(PLAYBOOK)
    extra = workdir / "bench-vars.json"
    extra.write_text(json.dumps({"lab_port": lab.port, "lab_user": USER, "lab_password": PASSWORD,
                                 "move_args": move_args,
                                 "ansible_python_interpreter": sys.executable}))
    detail_path = workdir / "bench-result.json"
    if detail_path.exists():
        detail_path.unlink()
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).parent / "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="bench_result", BENCH_RESULT_PATH=str(detail_path))
    cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), "-e", "@" + str(extra)]
    if check:
        cmd.append("--check")
    cpu0 = children_cpu()
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    output, errors = proc.communicate()
    wall = time.monotonic() - started
    sampler.stop()
    cpu = children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit("ansible-playbook failed (%s):\n%s\n%s" % (proc.returncode, errors[-2000:], output[-3000:]))
    detail = json.loads(detail_path.read_text()) if detail_path.exists() else {}
    return {"wall": wall, "cpu": cpu, "peak_rss_mb": sampler.peak / 2**20, "peak_pss_mb": sampler.peak_pss / 2**20,
            "detail": detail}


def baseline(lab: Lab, sips: list[str]) -> dict:
    """(a): one pywinrm run_ps per user, each a fresh PowerShell importing the Lync module."""
    import winrm

    session = winrm.Session("http://127.0.0.1:%d/wsman" % lab.port, auth=(USER, PASSWORD), transport="ntlm")
    cpu0 = time.process_time()
    started = time.monotonic()
    failures = 0
    for sip in sips:
        if not SAFE_SIP.match(sip):
            raise SystemExit("refusing to put %r into a PowerShell line" % sip)
        result = session.run_ps("Import-Module Lync; %s -Identity '%s' -Target %s" % (MOVE_CMDLET, sip, TARGET))
        failures += result.status_code != 0
    wall = time.monotonic() - started
    return {"wall": wall, "cpu": time.process_time() - cpu0, "per_user": wall / len(sips), "failures": failures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", type=float, default=0.2)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--baseline-sample", type=int, default=40, help="users in the (a) sample; 0 skips (a)")
    parser.add_argument("--variants", default="b,c",
                        help="which runs to time: b (defaults), c (parallelism 25), d (parallelism 25 and "
                             "on_invalid skip: plan and move in one pass from 1,000 to 4,999 identities)")
    parser.add_argument("--plan-sizes", default="20000,50000", help="check-mode plans (zero latency); '' skips")
    parser.add_argument("--plan-results", default="all,failed",
                        help="cs_user_move's results option for each plan size: all (the default) and/or failed "
                             "(with results_file, as the move_users role and big waves use it)")
    parser.add_argument("--demo", action="store_true", help="also time `make demo`")
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="lync-bench-"))
    model = LatencyModel.from_option("realistic", args.time_scale)
    t_move = model.service_time(MOVE_CMDLET)
    capacity = model.capacity(TARGET)
    sizes = [int(n) for n in args.sizes.split(",") if n]
    results = {"machine": "%s, %d cores, Python %s, load average at start %.1f" % (
                   platform.platform(), os.cpu_count(), platform.python_version(), os.getloadavg()[0]),
               "time_scale": args.time_scale, "t_move": t_move, "capacity": capacity, "runs": []}
    print("time scale %.3g: t_move %.3f s, capacity %d concurrent moves on %s" % (args.time_scale, t_move,
                                                                                   capacity, TARGET), flush=True)

    base = None
    if args.baseline_sample > 0:
        lab = Lab(workdir, "realistic", args.time_scale)
        try:
            sample = lab.legacy_sips()[:args.baseline_sample]
            base = baseline(lab, sample)
            assert lab.moved_count() == len(sample) - base["failures"]
        finally:
            lab.stop()
        print("(a) per-user loop: %d users in %.1f s = %.3f s/user (%d failed)" % (
            len(sample), base["wall"], base["per_user"], base["failures"]), flush=True)
        results["baseline"] = dict(base, sample=len(sample))

    wanted = set(v.strip() for v in args.variants.split(",") if v.strip())
    variants = [v for v in [("b", "defaults", {}), ("c", "tuned", {"parallelism": "25"}),
                            ("d", "one pass", {"parallelism": "25", "on_invalid": "skip"})] if v[0] in wanted]
    for n in sizes:
        ideal = n * t_move / capacity
        for key, label, extra in variants:
            lab = Lab(workdir, "realistic", args.time_scale)
            try:
                sips = lab.legacy_sips()[:n]
                move_args = dict({"identities": sips, "target_pool": TARGET}, **extra)
                run = run_playbook(workdir, lab, move_args)
                moved = lab.moved_count()
            finally:
                lab.stop()
            a_wall = base["per_user"] * n if base else None
            row = {"run": key, "label": label, "n": n, "moved": moved, "wall": run["wall"], "ideal": ideal,
                   "ratio": run["wall"] / ideal, "speedup_vs_a": a_wall / run["wall"] if base else None,
                   "a_wall_extrapolated": a_wall,
                   "cpu_ms_per_user": run["cpu"] / n * 1000, "peak_rss_mb": run["peak_rss_mb"],
                   "peak_pss_mb": run["peak_pss_mb"], "detail": run["detail"]}
            results["runs"].append(row)
            print("(%s) %-8s N=%-6d moved %-6d wall %7.1f s  ideal %6.1f s  ratio %.3f  speed-up vs (a) %s  "
                  "CPU %.2f ms/user  peak RSS %.0f MB (PSS %.0f MB)" % (
                      key, label, n, moved, run["wall"], ideal, row["ratio"],
                      "%5.1fx" % row["speedup_vs_a"] if base else "n/a",
                      row["cpu_ms_per_user"], row["peak_rss_mb"], row["peak_pss_mb"]), flush=True)
            print("    move phase %s s, peak shells %s, limit changes %s" % (
                run["detail"].get("performance", {}).get("seconds"),
                run["detail"].get("performance", {}).get("peak_shells"),
                run["detail"].get("performance", {}).get("limit_changes")), flush=True)
            if moved != n:
                print("    only %d of %d users moved: %s" % (moved, n, run["detail"]), flush=True)

    results["plans"] = []
    plan_modes = [m.strip() for m in args.plan_results.split(",") if m.strip()]
    for n, mode in [(int(x), m) for x in args.plan_sizes.split(",") if x for m in plan_modes]:
        scenario = "contoso-large"
        if n > 20000:
            source = Path(__import__("lync_lab").__file__).parent / "scenarios" / "contoso-large.yml"
            scenario = str(workdir / ("contoso-%d.yml" % n))
            Path(scenario).write_text(re.sub(r"(generate:\n  seed: \d+\n  users: )\d+", r"\g<1>%d" % n,
                                             source.read_text()))
        lab = Lab(workdir, "none", 1.0, scenario=scenario)
        try:
            sips = lab.legacy_sips()[:n]
            plan_args = {"identities": sips, "target_pool": TARGET, "results": mode}
            if mode != "all":
                plan_args["results_file"] = str(workdir / "plan-results.jsonl")
            run = run_playbook(workdir, lab, plan_args, check=True)
            if mode != "all":
                listed = sum(1 for _ in open(plan_args["results_file"], encoding="utf-8"))
                if listed != len(sips):
                    raise SystemExit("results_file lists %d of %d users" % (listed, len(sips)))
        finally:
            lab.stop()
        row = {"n": len(sips), "results": mode, "wall": run["wall"], "cpu": run["cpu"], "peak_rss_mb": run["peak_rss_mb"],
               "peak_pss_mb": run["peak_pss_mb"], "summary": run["detail"].get("summary")}
        results["plans"].append(row)
        print("check-mode plan of %d users (results: %s): %.1f s, CPU %.1f s, peak RSS %.0f MB (PSS %.0f MB), %s" % (
            len(sips), mode, run["wall"], run["cpu"], run["peak_rss_mb"], run["peak_pss_mb"], row["summary"]), flush=True)

    if args.demo:
        started = time.monotonic()
        proc = subprocess.run(["make", "demo"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        results["demo"] = {"wall": time.monotonic() - started, "rc": proc.returncode}
        print("make demo: %.1f s (exit %d)" % (results["demo"]["wall"], proc.returncode), flush=True)

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
