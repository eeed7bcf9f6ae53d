"""The `lync-lab perform` command line: parse the step and its server, run it in one store transaction, print one
JSON line (the package's docstring says what a step is)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import LabConfigError
# Importing a step module registers its steps, in the order `--list` shows them.
from . import servers, users, dns_zone, recorded  # noqa: F401 - imported for their registrations
from .registry import STEPS, PerformError


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
        for name, registered in STEPS.items():
            print(f"{name:28} {registered.help}")
        return 0 if args.list else 2
    if args.step not in STEPS:
        print(f"lync-lab perform: unknown step {args.step!r}; known: {', '.join(STEPS)}", file=sys.stderr)
        return 2
    chosen = STEPS[args.step]
    if chosen.needs_server and not args.server:
        print(f"lync-lab perform {args.step}: --server FQDN is required", file=sys.stderr)
        return 2
    db = Path(args.state_dir) / "state.sqlite"
    if not db.exists():
        print(f"lync-lab perform: no lab state in {args.state_dir} (start one with `make lab`)", file=sys.stderr)
        return 2
    from ..model.store import Store

    store = Store(db)
    try:
        with store.transaction() as tx:
            result = chosen.run(tx, args.server)
    except (PerformError, LabConfigError) as exc:
        print(f"lync-lab perform {args.step}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(json.dumps({"step": args.step, "server": args.server, **result}))
    return 0
