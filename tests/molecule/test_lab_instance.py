"""shared/lab_instance.py: each scenario's lab gets free ports of its own and an inventory overlay pointing the
lab inventory's hosts there (what lets scenarios run side by side)."""

from __future__ import annotations

import importlib.util
import json
import socket
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lab_instance", REPO / "extensions/molecule/shared/lab_instance.py")
lab_instance = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lab_instance)


def run(tmp_path: Path, stage: int, capsys) -> dict:
    assert lab_instance.main(["--stage", str(stage), "--ephemeral", str(tmp_path), "--project", str(REPO)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "lab" / "instance.json").read_text())
    return printed


def test_overlay_points_every_inventory_host_at_the_labs_ports(tmp_path, capsys):
    lab = run(tmp_path, 7, capsys)
    overlay = yaml.safe_load((tmp_path / "inventory" / "zz_lab_instance.yml").read_text())["all"]["hosts"]
    inventory = lab_instance.inventory_ports(REPO / "inventories" / "lab" / "hosts.yml")
    assert set(overlay) == set(inventory)
    assert overlay["lync-fe01.contoso.net"]["ansible_port"] == lab["http"]
    assert overlay["lync-fe01.contoso.net"]["lab_https_port"] == lab["https"]
    assert overlay["ocs-fe01.contoso.net"]["ansible_port"] == inventory["ocs-fe01.contoso.net"]["ansible_port"] + lab["offset"]
    ports = [p for h in overlay.values() for p in (h["ansible_port"], h["lab_https_port"])] + [lab["dns"]]
    assert len(ports) == len(set(ports)) and 30000 + 400 * 7 <= min(ports) and max(ports) < 30000 + 400 * 8
    assert {h["lync_migration_lab_state_dir"] for h in overlay.values()} == {str(tmp_path / "lab")}
    assert {h["lync_migration_dns_resolver_port"] for h in overlay.values()} == {lab["dns"]}


def test_a_port_in_use_moves_the_lab_to_the_next_free_range(tmp_path, capsys):
    first = run(tmp_path / "a", 9, capsys)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", first["hosts"]["dc01.contoso.net"]))   # another process holds one of its ports
        second = run(tmp_path / "b", 9, capsys)
    assert second["http"] != first["http"]
    assert first["hosts"]["dc01.contoso.net"] not in second["hosts"].values()
