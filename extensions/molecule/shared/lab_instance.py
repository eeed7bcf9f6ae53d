"""Ports and inventory of one scenario's rehearsal lab (called by create.yml; verify reads what it writes).

Each scenario's lab listens on ports of its own, so several scenarios (and the integration tests, which do the
same) run side by side without waiting for one another: the Lync admin host on --http-port/--https-port, every
other server on its scenario port + --port-offset, the lab's DNS server on --dns-port.

    lab_instance.py --stage N --ephemeral DIR --project DIR

writes
  DIR/lab/instance.json              {"http", "https", "offset", "dns", "hosts": {name: port}, "state_dir", ...}
  DIR/inventory/zz_lab_instance.yml  host variables that override inventories/lab's ports and lab paths (the
                                     inventory directory's files are read in name order; later host vars win)
and prints the instance as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path

import yaml

ADMIN_HTTP = 55985   # inventories/lab's Lync admin host (lync-fe01); --http-port/--https-port move it
ADMIN_HTTPS = 55986


def _tcp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def inventory_ports(hosts_yml: Path) -> dict[str, dict]:
    """{host: {ansible_port, lab_https_port}} for every host of inventories/lab that names its ports."""
    found: dict[str, dict] = {}

    def walk(group: dict) -> None:
        for name, body in (group.get("hosts") or {}).items():
            if body and "ansible_port" in body:
                found[name] = {"ansible_port": body["ansible_port"], "lab_https_port": body["lab_https_port"]}
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk(yaml.safe_load(hosts_yml.read_text(encoding="utf-8"))["all"])
    return found


def choose_ports(stage: int, other_ports: list[int]) -> tuple[int, int, int, int]:
    """(http, https, offset, dns) all free. Each stage starts in its own range (30000 + 400 * stage), so
    scenarios created at the same moment do not pick the same ports before either has bound them."""
    span = max(other_ports) - ADMIN_HTTP + 2
    for attempt in range(400 // span):
        http = 30000 + 400 * stage + attempt * span
        offset = http - ADMIN_HTTP
        dns = http + span - 1
        tcp = [http, http + 1] + [p + offset for p in other_ports] + [dns]
        if all(_tcp_free(p) for p in tcp) and _udp_free(dns):
            return http, http + 1, offset, dns
    raise SystemExit("no free port range for the stage %d lab between %d and %d" % (stage, 30000 + 400 * stage,
                                                                                     30400 + 400 * stage))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", type=int, required=True)
    parser.add_argument("--ephemeral", type=Path, required=True)
    parser.add_argument("--project", type=Path, required=True)
    args = parser.parse_args(argv)

    hosts = inventory_ports(args.project / "inventories" / "lab" / "hosts.yml")
    others = sorted({p for h in hosts.values() for p in h.values()} - {ADMIN_HTTP, ADMIN_HTTPS})
    http, https, offset, dns = choose_ports(args.stage, others)
    lab_dir = args.ephemeral / "lab"
    shifted = {}
    for name, ports in hosts.items():
        if ports["ansible_port"] == ADMIN_HTTP:
            shifted[name] = {"ansible_port": http, "lab_https_port": https}
        else:
            shifted[name] = {k: v + offset for k, v in ports.items()}
    lab_vars = {
        # guided steps' lab actions (lync-lab perform) act on this lab's state
        "lync_migration_lab_state_dir": str(lab_dir),
        "lync_migration_report_dir": str(args.ephemeral / "reports"),
        "lync_migration_dns_resolver": "127.0.0.1",
        "lync_migration_dns_resolver_port": dns,
    }
    overlay = {"all": {"hosts": {name: dict(ports, **lab_vars) for name, ports in shifted.items()}}}
    inventory_dir = args.ephemeral / "inventory"
    inventory_dir.mkdir(parents=True, exist_ok=True)
    (inventory_dir / "zz_lab_instance.yml").write_text(
        "# Written by extensions/molecule/shared/lab_instance.py for this scenario's lab.\n"
        + yaml.safe_dump(overlay, sort_keys=True), encoding="utf-8")
    instance = {"stage": args.stage, "http": http, "https": https, "offset": offset, "dns": dns,
                "hosts": {name: p["ansible_port"] for name, p in shifted.items()}, "state_dir": str(lab_dir),
                "reports": lab_vars["lync_migration_report_dir"]}
    lab_dir.mkdir(parents=True, exist_ok=True)
    (lab_dir / "instance.json").write_text(json.dumps(instance, indent=1), encoding="utf-8")
    json.dump(instance, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
