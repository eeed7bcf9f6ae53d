"""`lync-lab perform <step>`: what an operator does by hand (a GUI wizard, an installer), done to the lab's state.

The phase roles' guided steps call this on the lab (lync_migration_lab_state_dir), so that rehearsals, tests
and later phases see the step's effect exactly as they would on a real deployment. Each step changes the store
through the same model functions the cmdlets and stage seeding use, and prints one JSON line:
{"step": ..., "changed": bool, "detail": ...}. Running a step twice changes nothing the second time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import LabConfigError
from .model import servers

# The Lync Server 2013 Deployment Wizard's "Install or Update Lync Server System" (P3.4), per server role:
# the product Setup installs and the Windows services it creates. Services start at the wizard's last step.
_LYNC_ROLES = {
    "lync_frontend": (servers.LYNC_FRONTEND, servers.LYNC_FRONTEND_SERVICES),
    "lync_edge": (servers.LYNC_EDGE, servers.LYNC_EDGE_SERVICES),
}


class PerformError(Exception):
    """The step cannot be done in this state (the message says why and what comes first)."""


def _server_doc(tx, fqdn: str) -> dict:
    doc = servers.get(tx, fqdn)
    if doc is None:
        known = ", ".join(sorted(k for k, _d in tx.query("server")))
        raise PerformError(f"no server {fqdn!r} in this lab; its servers are: {known}")
    return doc


def install_core(tx, fqdn: str) -> dict:
    """Deployment Wizard first run / Install Administrative Tools (P3.1-P3.2): Core Components (OCSCore.msi),
    which bring the Lync Server Management Shell the AD preparation cmdlets run in."""
    doc = _server_doc(tx, fqdn)
    if not doc["Role"].startswith("lync_"):
        raise PerformError(f"{fqdn} is a {doc['Role']} server: the Lync Server 2013 tools cannot share a computer "
                           "with OCS 2007 R2 (P1.3); install them on a Lync server")
    if servers.installed(tx, fqdn, servers.LYNC_CORE):
        return {"changed": False, "detail": f"Lync Server 2013 Core Components already installed on {fqdn}"}
    servers.install(tx, fqdn, servers.product(servers.LYNC_CORE, "lync", "OCSCore.msi"))
    return {"changed": True, "detail": f"installed Lync Server 2013 Core Components (OCSCore.msi) on {fqdn}"}


def install_lync(tx, fqdn: str) -> dict:
    """Deployment Wizard "Install or Update Lync Server System" steps 1-2 (P3.4): local configuration store
    (from the published topology) and the server components. Certificates and Start Services follow."""
    from .model import topology as topo_model

    doc = _server_doc(tx, fqdn)
    role = doc["Role"]
    if role not in _LYNC_ROLES:
        raise PerformError(f"{fqdn} is a {role} server, not a Lync Server 2013 Front End or Edge")
    topo = topo_model.current(tx)
    machines = {m.lower() for c in (topo.clusters if topo else []) for m in c.machines}
    if fqdn.lower() not in machines:
        raise PerformError(f"{fqdn} is not in the published topology: Setup installs only what the topology defines "
                           "(publish the pilot pool first, Phase 3 P3.3)")
    product_name, services = _LYNC_ROLES[role]
    changed = False
    if not servers.installed(tx, fqdn, servers.LYNC_CORE):
        servers.install(tx, fqdn, servers.product(servers.LYNC_CORE, "lync", "OCSCore.msi"))
        changed = True
    if not servers.installed(tx, fqdn, product_name):
        servers.install(tx, fqdn, servers.product(product_name, "lync", "Server.msi"), services, status="Stopped")
        changed = True
    detail = f"installed {product_name} on {fqdn}" if changed else f"{product_name} already installed on {fqdn}"
    return {"changed": changed, "detail": detail}


def schedule_lync_meetings(tx, pool: str | None) -> dict:
    """Users at work on the pilot: every user homed on a Lync Server 2013 pool (or on --server, a pool FQDN)
    schedules one meeting there, as Outlook does once the user is on Lync. Rehearse a rollback after it to see
    what moving those users back to OCS 2007 R2 costs (their Lync meetings must be rescheduled)."""
    from .model import users as U

    made = 0
    for _key, doc in tx.query("user"):
        if doc.get("OnOcs") or not doc.get("RegistrarPool"):
            continue
        if pool and doc["RegistrarPool"].lower() != pool.lower():
            continue
        if any(c.get("origin") == "lync" for _k, c in U.conferences_of(tx, doc)):
            continue
        conf = U.new_lync_conference(doc, 0)
        tx.put("conference", f"{doc['SamAccountName']}/{conf['ConferenceId']}", conf)
        made += 1
    where = pool or "every Lync Server 2013 pool"
    return {"changed": bool(made), "detail": f"{made} users of {where} scheduled a meeting on Lync"}


def confirm_only(step: str):
    def run(tx, fqdn: str | None) -> dict:  # noqa: ARG001 - same signature as the others
        return {"changed": False, "detail": f"{step}: nothing in the lab models it; recorded only"}
    return run


STEPS = {
    "install-core": (install_core, True, "P3.1/P3.2: Lync Server 2013 Core Components and admin tools on --server"),
    "install-lync": (install_lync, True, "P3.4: install Lync Server 2013 on --server (local store, components)"),
    "schedule-lync-meetings": (schedule_lync_meetings, False, "rehearsal: users on Lync pools (or --server POOL) "
                               "schedule one meeting each on Lync, which a rollback to OCS 2007 R2 loses"),
    "ocs-updates": (confirm_only("P2.1 OCS 2007 R2 updates"), False, "P2.1: recorded only"),
    "bpa": (confirm_only("P2.3 Best Practices Analyzer"), False, "P2.3: recorded only"),
    "backup": (confirm_only("P2.4 backup"), False, "P2.4: recorded only"),
    "ocs-client-version-filter": (confirm_only("P2.5 client version filtering"), False, "P2.5: recorded only"),
}


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="lync-lab perform")
    parser.add_argument("step", nargs="?", help="the manual step to do on the lab (--list shows them)")
    parser.add_argument("--server", help="the server the step is done on (FQDN)")
    parser.add_argument("--state-dir", default=".lab")
    parser.add_argument("--list", action="store_true", help="list the steps")
    return parser


def main(args: argparse.Namespace | list[str] | None = None) -> int:
    if not isinstance(args, argparse.Namespace):
        args = build_parser().parse_args(args)
    if args.list or not args.step:
        for name, (_fn, _needs, text) in STEPS.items():
            print(f"{name:28} {text}")
        return 0 if args.list else 2
    if args.step not in STEPS:
        print(f"lync-lab perform: unknown step {args.step!r}; known: {', '.join(STEPS)}", file=sys.stderr)
        return 2
    fn, needs_server, _text = STEPS[args.step]
    if needs_server and not args.server:
        print(f"lync-lab perform {args.step}: --server FQDN is required", file=sys.stderr)
        return 2
    db = Path(args.state_dir) / "state.sqlite"
    if not db.exists():
        print(f"lync-lab perform: no lab state in {args.state_dir} (start one with `make lab`)", file=sys.stderr)
        return 2
    from .model.store import Store

    store = Store(db)
    try:
        with store.transaction() as tx:
            result = fn(tx, args.server)
    except (PerformError, LabConfigError) as exc:
        print(f"lync-lab perform {args.step}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(json.dumps({"step": args.step, "server": args.server, **result}))
    return 0


# Phases 8-10 (perform_late.py).
def _register_late_steps() -> None:
    from .perform_late import STEPS as LATE

    STEPS.update(LATE)


_register_late_steps()


# Phases 4-5 (perform_phases45.py).
def _register_phase45_steps() -> None:
    from .perform_phases45 import STEPS as PHASES45

    STEPS.update(PHASES45)


_register_phase45_steps()


# DNS Manager steps, P2.2 and P10.2 (perform_dns.py).
def _register_dns_steps() -> None:
    from .perform_dns import STEPS as DNS_STEPS

    STEPS.update(DNS_STEPS)


_register_dns_steps()
