"""`lync-lab`: serve the rehearsal lab, snapshot and restore its state, open a PS> prompt against it."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from .config import LabConfig
from .errors import LabConfigError


def _stage(value: str) -> int:
    try:
        stage = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--stage must be a number from 1 to 11, not {value!r}") from None
    if not 1 <= stage <= 11:
        raise argparse.ArgumentTypeError(
            f"--stage must be from 1 (before Phase 1) to 11 (migration complete), not {stage}")
    return stage


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port must be a number, not {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port must be from 1 to 65535, not {port}")
    return port


def _time_scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--time-scale must be a number such as 0.05, not {value!r}") from None
    if scale < 0:
        raise argparse.ArgumentTypeError("--time-scale must not be negative")
    return scale


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lync-lab",
        description="Rehearsal lab: an OCS 2007 R2 + Lync Server 2013 coexistence deployment behind real WinRM.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the lab (WinRM on 127.0.0.1, one port pair per modelled server)")
    serve.add_argument("--scenario", default="contoso-small",
                       help="a shipped scenario name (contoso-small, contoso-large) or a path to a scenario YAML file")
    serve.add_argument("--stage", type=_stage, default=1,
                       help="seed the state as it is just before phase N (1-10); 11 = migration complete")
    serve.add_argument("--state-dir", default=".lab", help="where the state, audit log and certificates live")
    serve.add_argument("--listen", default="127.0.0.1", help=argparse.SUPPRESS)
    serve.add_argument("--http-port", type=_port, default=55985, help="the Lync admin host's WinRM HTTP port")
    serve.add_argument("--https-port", type=_port, default=55986, help="the Lync admin host's WinRM HTTPS port")
    serve.add_argument("--port-offset", type=int, default=0,
                       help="added to every other server's scenario ports, so several labs can run on one machine")
    serve.add_argument("--dns-port", type=_port, default=None,
                       help="also serve the lab's DNS zone (A and SRV records, UDP and TCP) on this port")
    serve.add_argument("--latency", default="none", help="none | realistic | path to a latency YAML file")
    serve.add_argument("--time-scale", type=_time_scale, default=1.0, help="multiplies every modelled delay")
    serve.add_argument("--faults", default=None,
                       help="fault rates and seed, e.g. http500=0.05,reset=0.05,slow=0.05,quota=0.05,cmdlet=0.05,seed=7")
    serve.add_argument("--double-hop", action="store_true",
                       help="NTLM/Basic sessions cannot reach AD or the CMS without -Credential (as without delegation)")
    serve.add_argument("--keep", action="store_true", help="keep the state directory's existing state instead of seeding")
    serve.add_argument("--pid-file", default=None, help="write the server's process id here")

    snap = sub.add_parser("snapshot", help="save the lab's state under a name (the lab may be running)")
    snap.add_argument("name")
    snap.add_argument("--state-dir", default=".lab")

    restore = sub.add_parser("restore", help="put a saved state back (stop the lab first)")
    restore.add_argument("name")
    restore.add_argument("--state-dir", default=".lab")

    shell = sub.add_parser("shell", help="a PS> prompt against a running lab")
    shell.add_argument("rest", nargs=argparse.REMAINDER)

    from .perform.command import build_parser as perform_parser

    perform_parser(sub.add_parser("perform", help="do a manual migration step (wizard, installer) on the lab's state"))

    return parser


def _serve(args: argparse.Namespace) -> int:
    from .lab import Lab

    config = LabConfig(
        scenario=args.scenario, stage=args.stage, state_dir=Path(args.state_dir), listen=args.listen,
        http_port=args.http_port, https_port=args.https_port, port_offset=args.port_offset, latency=args.latency, time_scale=args.time_scale,
        faults=args.faults, double_hop=args.double_hop, keep_state=args.keep,
        dns_port=args.dns_port)
    lab = Lab(config)
    stop = threading.Event()

    def _on_signal(signum, frame):  # noqa: ARG001 - signal handler signature
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    lab.start()
    if args.pid_file:
        Path(args.pid_file).write_text(f"{os.getpid()}\n")
    ports = ", ".join(f"{s.fqdn} {s.http_port}/{s.https_port}" for s in lab.servers if s.http_port)
    dns_note = f"; DNS on {config.listen}:{config.dns_port} (UDP, TCP)" if config.dns_port else ""
    print(f"lync-lab: {lab.scenario.name} at stage {config.stage}, state in {config.state_dir}; "
          f"listening on {config.listen}: {ports}{dns_note}", flush=True)
    try:
        stop.wait()
    finally:
        lab.stop()
        if args.pid_file:
            Path(args.pid_file).unlink(missing_ok=True)
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    from .model.store import Store

    state_dir = Path(args.state_dir)
    db = state_dir / "state.sqlite"
    if not db.exists():
        print(f"lync-lab snapshot: no lab state in {state_dir} (start one with `make lab`)", file=sys.stderr)
        return 2
    dest = state_dir / "snapshots" / f"{args.name}.sqlite"
    dest.parent.mkdir(parents=True, exist_ok=True)
    store = Store(db)
    try:
        store.snapshot(dest)
    finally:
        store.close()
    print(f"lync-lab: state saved as {args.name!r} ({dest})")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from .model.store import Store

    state_dir = Path(args.state_dir)
    src = state_dir / "snapshots" / f"{args.name}.sqlite"
    if not src.exists():
        names = sorted(p.stem for p in (state_dir / "snapshots").glob("*.sqlite"))
        print(f"lync-lab restore: no snapshot named {args.name!r} in {state_dir}; known: {', '.join(names) or 'none'}",
              file=sys.stderr)
        return 2
    pid_file = state_dir / "lab.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), 0)
        except (OSError, ValueError):
            pass
        else:
            print("lync-lab restore: the lab is running on this state; stop it first (make lab-stop), "
                  "then restore and start it again with KEEP=1", file=sys.stderr)
            return 2
    Store.restore(src, state_dir / "state.sqlite")
    print(f"lync-lab: state {args.name!r} restored into {state_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "snapshot":
            return _snapshot(args)
        if args.command == "restore":
            return _restore(args)
        if args.command == "shell":
            from .shell import main as shell_main

            return shell_main(args.rest)
        if args.command == "perform":
            from .perform.command import main as perform_main

            return perform_main(args)
    except LabConfigError as exc:
        print(f"lync-lab: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
