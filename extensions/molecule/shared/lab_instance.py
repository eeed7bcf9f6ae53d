"""Ports and inventory of one scenario's rehearsal lab (called by create.yml; verify reads what it writes).

Each scenario's lab listens on ports of its own, so several scenarios (and the integration tests) run side by side
without waiting for one another: every port of the lab (the Lync admin host's --http-port/--https-port, every
other server's scenario port, the DNS server's --dns-port) is its default plus one offset, chosen by
lync_lab.instance so that all of them are free.

    lab_instance.py --stage N --ephemeral DIR --project DIR [--scenario NAME]

writes
  DIR/lab/instance.json              {"http", "https", "offset", "dns", "hosts": {name: port}, "state_dir", ...}
  DIR/inventory/zz_lab_instance.yml  host variables that override inventories/lab's ports and lab paths (the
                                     inventory directory's files are read in name order; later host vars win)
and prints the instance as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml
from lync_lab.instance import LabInstance, inventory_host_ports


def inventory_ports(hosts_yml: Path) -> dict[str, dict]:
    """{host: {ansible_port, lab_https_port}} for every host of inventories/lab that names its ports."""
    return inventory_host_ports(yaml.safe_load(hosts_yml.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", type=int, required=True)
    parser.add_argument("--ephemeral", type=Path, required=True)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--scenario", default="contoso-small")
    args = parser.parse_args(argv)

    hosts_yml = args.project / "inventories" / "lab" / "hosts.yml"
    # Each stage has a range of its own (30000 + 400 * stage), taken from its start: scenarios created at the same
    # moment then never try the same ports before either lab has bound them.
    low = 30000 + 400 * args.stage
    lab = LabInstance(args.ephemeral / "lab", scenario=args.scenario, stage=args.stage, dns=True,
                      port_range=(low, low + 400), randomize_ports=False)
    reports = args.ephemeral / "reports"
    overlay = lab.write_inventory_overlay(hosts_yml, args.ephemeral / "inventory" / "zz_lab_instance.yml",
                                          {"lync_migration_report_dir": str(reports)})
    instance = {"stage": args.stage, "http": lab.http_port, "https": lab.https_port, "offset": lab.port_offset,
                "dns": lab.dns_port, "state_dir": str(lab.state_dir), "reports": str(reports),
                "hosts": {name: ports["ansible_port"] for name, ports in inventory_ports(overlay).items()}}
    lab.state_dir.mkdir(parents=True, exist_ok=True)
    (lab.state_dir / "instance.json").write_text(json.dumps(instance, indent=1), encoding="utf-8")
    json.dump(instance, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
