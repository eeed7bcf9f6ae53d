"""`make rehearse SCENARIO=PATH`: the whole migration (playbooks/site.yml) rehearsed on a lab of that scenario with
the realistic latency model, a move-time estimate per wave first (playbooks/rehearsal-estimate.yml), and at the
end the estimate beside the moves' measured time (docs/rehearsal.md).

    make rehearse SCENARIO=mine.yml                  # a captured scenario (playbooks/capture-scenario.yml)
    make rehearse SCENARIO=contoso-large TIME_SCALE=0.5

The lab starts at stage 1 on the default ports (as make demo's: inventories/lab's; a lab already on them, such as
`make lab`'s, must be stopped first: make lab-stop), with its DNS server, the
latency model `realistic` and TIME_SCALE; the inventory is inventories/lab with each server on the port the
scenario gives it, and the scenario's servers inventories/lab lacks added to the group for their role. It stops
at the end whatever happened. Written next to the phases' reports: reports/<stamp>-rehearsal-estimate/
(estimate.json, estimate.md) and reports/<stamp>-rehearsal/ (summary.json, summary.md: per wave the estimate, the
measured time and the difference; the measured window is the one the estimate covers, first move's start to last
move's end, read from the lab's audit log).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from demo import describe, extra_vars  # noqa: E402  (make demo's lab-only variables and its object report)

from lync_lab.instance import LabInstance, LabStartError  # noqa: E402
from lync_lab.latency import LatencyModel  # noqa: E402
from lync_lab.model.scenario import load_scenario, scenario_path  # noqa: E402

BIN = ROOT / ".venv" / "bin"
WORK = ROOT / ".rehearse"
# Scenario role -> inventories/lab's group for such a host (plugins/module_utils/lync/capture.py GROUP_ROLES).
ROLE_GROUPS = {"ocs_frontend": "ocs_legacy_pool", "ocs_edge": "ocs_legacy_edge", "ocs_mediation": "ocs_legacy_mediation",
               "lync_edge": "lync_edge", "dc": "domain_controllers"}
MOVE = "Move-CsLegacyUser"


def say(text: str) -> None:
    print(text, flush=True)


def scenario_inventory(scenario_file: Path, dest: Path) -> Path:
    """inventories/lab with each host on the ports the scenario gives it; servers it lacks added by role."""
    servers = yaml.safe_load(scenario_file.read_text(encoding="utf-8"))["servers"]
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT / "inventories" / "lab", dest)
    hosts = yaml.safe_load((dest / "hosts.yml").read_text(encoding="utf-8"))
    groups = hosts["all"]["children"]["windows"]["children"]
    known: dict[str, list] = {}

    def walk(group: dict) -> None:
        for name, hv in (group.get("hosts") or {}).items():
            known.setdefault(name, []).append(hv)
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk(hosts["all"])
    for s in servers:
        ports = {"ansible_port": s["http_port"], "lab_https_port": s["https_port"]}
        if s["fqdn"] in known:
            for hv in known[s["fqdn"]]:
                if hv and "ansible_port" in hv:
                    hv.update(ports)
        elif s["role"] in ROLE_GROUPS:
            group = groups.setdefault(ROLE_GROUPS[s["role"]], {})
            group["hosts"] = dict(group.get("hosts") or {}, **{s["fqdn"]: ports})
    (dest / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False), encoding="utf-8")
    return dest


def latest(label: str, since: float) -> dict | None:
    """The newest reports/<stamp>-<label>/report.json written after ``since`` (a time.time())."""
    runs = sorted((p for p in (ROOT / "reports").glob(f"*-{label}") if p.is_dir() and p.stat().st_mtime >= since),
                  key=lambda p: p.stat().st_mtime_ns)
    for run in reversed(runs):
        for name in ("report.json", "estimate.json"):
            if (run / name).exists():
                return json.loads((run / name).read_text(encoding="utf-8"))
    return None


def _when(entry: dict) -> float:
    return dt.datetime.fromisoformat(entry["time"]).timestamp()


def measured_waves(audit: list[dict], reports: list[dict], move_seconds: float) -> dict[str, dict]:
    """Per wave: users moved and the seconds from the first move's start to the last move's end. The waves'
    members come from the move reports (users[].wave, sip_address); the times from the audit log, whose line is
    written when a move ends, so the window is (last end - first end) + one move's service time."""
    wave_of = {}
    for report in reports:
        for u in report.get("users") or []:
            if u.get("outcome") == "moved" and u.get("sip_address"):
                wave_of[u["sip_address"].lower()] = u.get("wave")
    ends: dict[str, list[float]] = {}
    for entry in audit:
        if entry.get("cmdlet") != MOVE or entry.get("outcome") != "ok":
            continue
        ident = str((entry.get("params") or {}).get("Identity") or "").lower()
        sip = ident if ident.startswith("sip:") else "sip:" + ident
        wave = wave_of.get(sip)
        if wave:
            ends.setdefault(wave, []).append(_when(entry))
    return {w: {"users": len(t), "seconds": round(max(t) - min(t) + move_seconds, 1)} for w, t in ends.items()}


def compare(estimate: dict, measured: dict[str, dict]) -> list[dict]:
    rows = []
    for w in estimate.get("waves") or []:
        m = measured.get(w["name"]) or {}
        seconds = m.get("seconds")
        off = None if not seconds or not w["estimated_seconds"] else round(
            100.0 * (w["estimated_seconds"] - seconds) / seconds, 1)
        rows.append({"wave": w["name"], "phase": w.get("phase"), "users_estimated": w["users"],
                     "users_moved": m.get("users", 0), "estimated_seconds": w["estimated_seconds"],
                     "measured_seconds": seconds, "estimate_off_by_percent": off})
    return rows


def markdown(summary: dict) -> str:
    lines = [f"# Rehearsal of {summary['scenario']}", "",
             f"site.yml exit {summary['exit_code']}, {summary['seconds']:.0f} s; latency realistic, time scale "
             f"{summary['time_scale']}.", "",
             "| wave | phase | users (estimated / moved) | estimated | measured | estimate off by |",
             "|---|---|---|---|---|---|"]
    for r in summary["waves"]:
        off = "" if r["estimate_off_by_percent"] is None else f"{r['estimate_off_by_percent']:+.1f} %"
        measured = "" if r["measured_seconds"] is None else f"{r['measured_seconds']:.1f} s"
        lines.append(f"| {r['wave']} | {r['phase']} | {r['users_estimated']} / {r['users_moved']} | "
                     f"{r['estimated_seconds']:.1f} s | {measured} | {off} |")
    lines += ["", "Estimated: the latency model's per-move time at the target pool's capacity (estimate.md lists the "
              "assumptions). Measured: the lab's audit log, first move's start to last move's end.", "",
              "| object (spec section 3) | started | ended |", "|---|---|---|"]
    lines += [f"| {o['object']} | {o['started']} | {o['ended']} |" for o in summary["objects"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", required=True, help="a shipped scenario name or a scenario file")
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    scenario_file = scenario_path(args.scenario).resolve()
    loaded = load_scenario(scenario_file)
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", ANSIBLE_FORCE_COLOR="0")
    WORK.mkdir(exist_ok=True)
    lab = LabInstance(WORK / "lab", scenario=str(scenario_file), stage=1, dns=True, port_offset=0,
                      latency="realistic", time_scale=args.time_scale)
    say("+ " + " ".join(lab.command_line()))
    inventory = scenario_inventory(scenario_file, WORK / "inventory-source")
    started_at = dt.datetime.now().timestamp()
    try:
        lab.start(timeout=300)
    except LabStartError as exc:
        raise SystemExit(str(exc)) from None
    rc, elapsed = 1, 0.0
    try:
        before = lab.dump_state()
        variables = extra_vars(str(scenario_file))
        variables.update(rehearsal_time_scale=args.time_scale)
        inventory = lab.write_inventory(inventory, WORK / "inventory", variables, vars_file="zz_rehearse.yml")
        for playbook in ("rehearsal-estimate.yml", "site.yml"):
            cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory), f"playbooks/{playbook}"]
            say("+ " + " ".join(cmd))
            began = dt.datetime.now().timestamp()
            rc = subprocess.call(cmd, cwd=ROOT, env=env)
            elapsed = dt.datetime.now().timestamp() - began
            if rc:
                break
        after = lab.dump_state()
        audit = lab.audit()
    finally:
        lab.stop(timeout=30)
    estimate = latest("rehearsal-estimate", started_at) or {"waves": []}
    moves = [r for r in (latest("phase6", started_at), latest("phase8-users", started_at)) if r]
    model = LatencyModel.from_option("realistic", args.time_scale)
    legacy = {p["fqdn"].lower() for p in (loaded.raw.get("topology") or {}).get("legacy_pools", [])}
    start_view, end_view = describe(before, legacy), describe(after, legacy)
    summary = {"scenario": str(args.scenario), "exit_code": rc, "seconds": round(elapsed, 1),
               "time_scale": args.time_scale,
               "waves": compare(estimate, measured_waves(audit, moves, model.service_time(MOVE))),
               "objects": [{"object": k, "started": start_view[k], "ended": end_view[k]} for k in start_view]}
    out = ROOT / "reports" / (dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-rehearsal")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "summary.md").write_text(markdown(summary), encoding="utf-8")
    say(markdown(summary))
    say(f"rehearse: {out}; each phase's report is under {ROOT / 'reports'}; the lab's audit log: "
        f"{WORK / 'lab' / 'audit.jsonl'}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
