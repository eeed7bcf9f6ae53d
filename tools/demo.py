"""`make demo`: the whole migration (playbooks/site.yml, ten phases) against the rehearsal lab, then a report of
every legacy object of the spec's section 3: where it started and where it ended.

    make demo                           # contoso-small (about 60 users)
    make demo SCENARIO=contoso-large    # 20,000 users; the report records how long the run took

The lab starts at stage 1 (OCS 2007 R2 only) on the lab inventory's ports, with its DNS server, and stops at the end
whatever happened. The guided steps are confirmed by the lab-only variable file tools/demo-lab-vars.yml (a lab
confirms everything; a real inventory confirms nothing by default). The report is printed and written to
reports/<UTC stamp>-demo/ (summary.json, summary.txt) next to each phase's own report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml
from lync_lab.instance import LabInstance, LabStartError

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
LAB_DIR = ROOT / ".lab"


def say(text: str) -> None:
    print(text, flush=True)


def start_lab(scenario: str) -> LabInstance:
    """The lab at stage 1 on the lab inventory's own ports (offset 0), with its DNS server."""
    lab = LabInstance(LAB_DIR, scenario=scenario, stage=1, dns=True, port_offset=0)
    say("+ " + " ".join(lab.command_line()))
    try:
        # contoso-large seeds 20,000 users before it listens
        return lab.start(timeout=300)
    except LabStartError as exc:
        raise SystemExit(str(exc)) from None


def extra_vars(scenario: str) -> dict:
    """The lab-only variables, the inventory's confirmations added, and the scenario's own waves."""
    data = yaml.safe_load((ROOT / "tools" / "demo-lab-vars.yml").read_text())
    inv = ROOT / "inventories" / "lab" / "group_vars" / "all" / "confirmations.yml"
    listed = (yaml.safe_load(inv.read_text()) or {}).get("lync_migration_confirmed_steps", []) if inv.exists() else []
    data["lync_migration_confirmed_steps"] = list(dict.fromkeys(listed + data["lync_migration_confirmed_steps"]))
    from lync_lab.model.scenario import load_scenario

    loaded = load_scenario(scenario)
    data["lync_migration_waves"] = [{"name": name, "identities": list(ids)} for name, ids in loaded.waves.items()]
    # The inventory describes contoso-small's one legacy pool; a larger scenario has more.
    data["lync_migration_legacy_pools"] = [p["fqdn"] for p in (loaded.raw.get("legacy") or {}).get("pools", [])]
    # ... and more OCS servers to decommission (P10.3) than the inventory's groups name.
    data["decommission_legacy_servers"] = [s.fqdn for s in loaded.servers if s.role.startswith("ocs_")]
    data["lync_migration_report_dir"] = str(ROOT / "reports")
    return data


# -- the report: spec section 3's objects, where they started and where they ended ---------------------------


def _pools(docs, field="RegistrarPool") -> str:
    counts: dict[str, int] = {}
    for d in docs:
        key = str(d.get(field) or "(none)")
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} on {p}" for p, n in sorted(counts.items())) or "none"


def _legacy_pools(state: dict, scenario_legacy: set[str]) -> set[str]:
    return scenario_legacy | {k for k, p in state.get("pool", {}).items() if p.get("legacy")}


def describe(state: dict, legacy: set[str]) -> dict[str, str]:
    users = list(state.get("user", {}).values())
    endpoints = list(state.get("endpoint", {}).values())
    topology = next(iter(state.get("topology", {}).values()), None)
    sites = state.get("site", {})
    central = [s for s in sites.values() if s.get("SiteType") != "BackCompatSite"]
    servers = state.get("server", {})
    ocs_servers = {f: [p["Name"] for p in s["Products"] if p["Name"].startswith("Microsoft Office Communications")]
                   for f, s in servers.items() if s.get("Role", "").startswith("ocs_")}
    legacy_edge = [s for f, srv in servers.items() if srv.get("Role") == "ocs_edge" for s in srv["Services"]
                   if s["DisplayName"] == "Office Communications Server Access Edge"]
    access = state.get("cmsconfig", {}).get("accessedgeconfiguration:global") or {}
    srv = [r for r in state.get("dns_record", {}).values()
           if str(r.get("Name", "")).startswith("_sipinternaltls")]
    tags = sum(1 for kind in ("conferencing_policy", "dial_plan", "voice_policy", "external_access_policy",
                              "presence_policy", "archiving_policy")
               for k in state.get(kind, {}) if k.startswith("tag:"))
    return {
        "1 legacy topology (BackCompatSite)": ("BackCompatSite with " + ", ".join(sites["backcompatsite"]["Pools"])
                                               if "backcompatsite" in sites else
                                               ("no BackCompatSite" if topology else "no Lync topology yet")),
        "2 legacy Edge (OCS Access Edge service)": ", ".join(f"{s['Status']}/{s['StartType']}" for s in legacy_edge)
        or "uninstalled",
        "3 legacy policies imported (Tag: policies)": str(tags),
        "4 users": _pools(users),
        "5 meetings": _pools(state.get("conference", {}).values(), "Pool"),
        "7 conference directories": ", ".join(f"directory {k} on {d['pool']}" for k, d in sorted(state.get("confdir", {}).items()))
        or "none",
        "8 Response Group contacts": _pools([e for e in endpoints if e.get("OwnerUrn") == "urn:application:Rgs"]),
        # The OCS copy stays on the legacy pool until it is decommissioned (P9.1: never remove it before).
        "8 Response Group workflows (the OCS copy stays, P9.1)": _pools(state.get("rgs_workflow", {}).values(),
                                                                       "OwnerPool"),
        "10 dial-in access numbers": _pools([e for e in endpoints if e.get("OwnerUrn") == "urn:application:Caa"]),
        "11 Exchange UM contacts": _pools(state.get("exum_contact", {}).values()),
        "12 site federation route": ", ".join(str(s.get("FederationRoute")) for s in central) or "no Lync site",
        "18 Access Edge configuration": (f"federated users {access.get('AllowFederatedUsers')}, outside users "
                                         f"{access.get('AllowOutsideUsers')}") if access else "no CMS yet",
        "25 _sipinternaltls._tcp SRV": ", ".join(f"{r.get('Target')}:{r.get('Port')}" for r in srv) or "none",
        "33 OCS 2007 R2 servers": ", ".join(f"{f} ({'installed' if p else 'decommissioned'})"
                                            for f, p in sorted(ocs_servers.items())),
        "left on a legacy pool": str(sum(1 for d in users if str(d.get("RegistrarPool", "")).lower() in legacy)
                                     + sum(1 for d in endpoints if str(d.get("RegistrarPool", "")).lower() in legacy)
                                     + sum(1 for d in state.get("exum_contact", {}).values()
                                           if str(d.get("RegistrarPool", "")).lower() in legacy)
                                     + sum(1 for d in state.get("confdir", {}).values()
                                           if str(d.get("pool", "")).lower() in legacy)),
    }


def name_fixes() -> list[dict]:
    runs = sorted((p for p in (ROOT / "reports").glob("*-phase8") if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
    if not runs:
        return []
    return json.loads((runs[-1] / "report.json").read_text()).get("accounts_with_name_problems", [])


def main() -> int:
    scenario = os.environ.get("SCENARIO") or "contoso-small"
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", ANSIBLE_FORCE_COLOR="0")
    subprocess.call(["make", "--no-print-directory", "lab-stop"], cwd=ROOT, env=env)
    lab = start_lab(scenario)
    from lync_lab.model.scenario import load_scenario

    legacy = {p["fqdn"].lower() for p in (load_scenario(scenario).raw.get("topology") or {}).get("legacy_pools", [])}
    before = lab.dump_state()
    started = time.monotonic()
    extra = LAB_DIR / "demo-extra-vars.json"
    extra.write_text(json.dumps(extra_vars(scenario)))
    cmd = [str(BIN / "ansible-playbook"), "-i", "inventories/lab", "playbooks/site.yml", "-e", f"@{extra}"]
    try:
        say("+ " + " ".join(cmd))
        rc = subprocess.call(cmd, cwd=ROOT, env=env)
        elapsed = time.monotonic() - started
        after = lab.dump_state()
    finally:
        lab.stop(timeout=30)
    start_view, end_view = describe(before, legacy), describe(after, _legacy_pools(after, legacy))
    summary = {"scenario": scenario, "playbook": "playbooks/site.yml", "exit_code": rc,
               "seconds": round(elapsed, 1), "users": len(after.get("user", {})),
               "objects": [{"object": k, "started": start_view[k], "ended": end_view[k]} for k in start_view],
               "accounts_whose_names_were_corrected_in_ad": name_fixes()}
    width = max(len(k) for k in start_view)
    lines = [f"Migration rehearsal: {scenario}, {summary['users']} users, site.yml exit {rc}, "
             f"{elapsed:.0f} s ({elapsed / 60:.1f} min)", "",
             f"{'object (spec section 3)':{width}}  started -> ended"]
    lines += [f"{k:{width}}  {start_view[k]}\n{'':{width}}  -> {end_view[k]}" for k in start_view]
    fixed = summary["accounts_whose_names_were_corrected_in_ad"]
    if fixed:
        lines += ["", "Accounts Move-CsLegacyUser could not move until their names were corrected in AD (P8.2):"]
        lines += [f"  {a['sip_address']} {a['display_name']!r}" for a in fixed]
    out_dir = ROOT / "reports" / (dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-demo")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out_dir / "summary.txt").write_text("\n".join(lines) + "\n")
    say("\n".join(lines))
    say(f"\ndemo: report in {out_dir}; each phase's report is under {ROOT / 'reports'}")
    if rc:
        say(f"demo: site.yml failed (exit {rc}); the lab's audit log is {LAB_DIR / 'audit.jsonl'}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
