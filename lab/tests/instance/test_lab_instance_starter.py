"""lync_lab.instance: a lab of one's own on free ports, and inventories pointing at it.

What callers (tests, molecule, the demo, a user rehearsing two labs side by side) rely on: no port of the lab is
one another process holds, the lab answers on every port when start() returns, the copied inventory reaches it
(as ansible-inventory resolves it), restart keeps the state, and stop frees the ports.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lync_lab.instance import (DNS_PORT, LabInstance, LabStartError, PortsTaken, choose_port_offset,
                               scenario_ports, write_inventory_overlay)

REPO = Path(__file__).resolve().parents[3]
LAB_INVENTORY = REPO / "inventories" / "lab"
VENV_BIN = Path(sys.executable).parent
SMALL_PORTS = [55985, 55986, 55989, 55990, 55991, 55992, 55993, 55994, 55995, 55996, 55997, 55998]


def answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def inventory_hostvars(*sources: Path) -> dict:
    """What Ansible makes of the inventory sources (hostvars per host)."""
    args = [str(VENV_BIN / "ansible-inventory"), "--list"]
    for src in sources:
        args += ["-i", str(src)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=REPO,
                         env={"PATH": f"{VENV_BIN}:/usr/bin:/bin",
                              "HOME": str(Path.home())}).stdout
    return json.loads(out)["_meta"]["hostvars"]


def test_scenario_ports_are_every_servers_winrm_ports():
    assert scenario_ports("contoso-small") == SMALL_PORTS
    large = scenario_ports("contoso-large")
    assert set(SMALL_PORTS) < set(large) and {56003, 56004, 56005, 56006} <= set(large)


# The ranges below are under Linux's ephemeral ports (32768-60999) and the ranges labs use, so only these tests
# hold them.
def test_a_held_port_moves_the_lab_to_the_next_block_inside_the_range():
    port_range = (12000, 12200)
    first = choose_port_offset(SMALL_PORTS, [DNS_PORT], port_range=port_range, randomize=False)
    placed = [p + first for p in SMALL_PORTS + [DNS_PORT]]
    assert 12000 <= min(placed) and max(placed) < 12200
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 55995 + first))          # another process holds dc01's port of that block
        second = choose_port_offset(SMALL_PORTS, [DNS_PORT], port_range=port_range, randomize=False)
    moved = [p + second for p in SMALL_PORTS + [DNS_PORT]]
    assert not set(moved) & set(placed) and 12000 <= min(moved) and max(moved) < 12200


def test_the_dns_port_must_be_free_for_udp_too():
    port_range = (12400, 12600)
    first = choose_port_offset(SMALL_PORTS, [DNS_PORT], port_range=port_range, randomize=False)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", DNS_PORT + first))
        assert choose_port_offset(SMALL_PORTS, [DNS_PORT], port_range=port_range, randomize=False) != first


def test_no_room_is_an_error_not_a_shared_port():
    with pytest.raises(LabStartError, match="smaller than the lab's"):
        choose_port_offset(SMALL_PORTS, port_range=(12800, 12805))
    first = choose_port_offset(SMALL_PORTS, port_range=(12800, 12814), randomize=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 55985 + first))
        with pytest.raises(LabStartError, match="no free block"):
            choose_port_offset(SMALL_PORTS, port_range=(12800, 12814))


def test_written_inventory_reaches_every_server_of_the_lab(tmp_path):
    lab = LabInstance(tmp_path / "lab", stage=6, dns=True)
    inventory = lab.write_inventory(LAB_INVENTORY, tmp_path / "inventory", {"lync_migration_report_dir": "/r"})
    hostvars = inventory_hostvars(inventory)
    original = inventory_hostvars(LAB_INVENTORY)
    ported = {h for h, v in original.items() if "ansible_port" in v}
    assert ported == {"lync-fe01.contoso.net", "ocs-fe01.contoso.net", "ocs-edge01.contoso.net",
                      "ocs-med01.contoso.net", "lync-edge01.contoso.net", "dc01.contoso.net"}
    for host in ported:
        assert hostvars[host]["ansible_port"] == lab.port_of(original[host]["ansible_port"]), host
        assert hostvars[host]["lab_https_port"] == lab.port_of(original[host]["lab_https_port"]), host
    admin = hostvars["lync-fe01.contoso.net"]
    assert (admin["ansible_port"], admin["lab_https_port"]) == (lab.http_port, lab.https_port)
    # the variables file wins over the inventory's own group_vars/all (dns.yml names make lab's 55953)
    assert admin["lync_migration_dns_resolver_port"] == lab.dns_port
    assert admin["lync_migration_lab_state_dir"] == str(tmp_path / "lab")
    assert admin["lync_migration_report_dir"] == "/r"
    # the source inventory is untouched, and writing again replaces the copy
    assert yaml.safe_load((LAB_INVENTORY / "hosts.yml").read_text())["all"]["children"]["windows"]["children"][
        "lync_admin"]["hosts"]["lync-fe01.contoso.net"]["ansible_port"] == 55985
    lab.write_inventory(LAB_INVENTORY, inventory)
    assert "lync_migration_report_dir" not in yaml.safe_load(
        (inventory / "group_vars" / "all" / "zz_lab_instance.yml").read_text())


def test_overlay_moves_the_inventorys_hosts_when_read_after_it(tmp_path):
    overlay = write_inventory_overlay(LAB_INVENTORY / "hosts.yml", tmp_path / "zz_overlay.yml", 1000,
                                      {"lync_migration_lab_state_dir": "/s"})
    hostvars = inventory_hostvars(LAB_INVENTORY, overlay)
    assert hostvars["lync-fe01.contoso.net"]["ansible_port"] == 56985
    assert hostvars["ocs-med01.contoso.net"]["lab_https_port"] == 56998
    assert hostvars["dc01.contoso.net"]["lync_migration_lab_state_dir"] == "/s"


def test_start_answers_on_every_port_restart_keeps_state_stop_frees_them(tmp_path):
    import dns.resolver
    import winrm

    lab = LabInstance(tmp_path / "lab", stage=6, dns=True)
    with lab:
        ports = [lab.port_of(p) for p in SMALL_PORTS]
        assert all(answers(p) for p in ports)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port = ["127.0.0.1"], lab.dns_port
        assert [r.address for r in resolver.resolve("pool02.contoso.net", "A")] == ["192.168.10.21"]

        session = winrm.Session(lab.admin_url, auth=("CONTOSO\\lyncadmin", "Lab-Passw0rd!"), transport="ntlm",
                                message_encryption="always")
        r = session.run_ps("Set-CsUser -Identity 'sip:hao.chen@contoso.net' -Enabled $false")
        assert r.status_code == 0, r.std_err
        assert [e["cmdlet"] for e in lab.audit()] == ["Set-CsUser"]
        before = lab.dump_state()
        assert before["user"]["haochen"]["Enabled"] is False

        first_pid = lab.process.pid
        lab.restart()
        assert lab.process.pid != first_pid and all(answers(p) for p in ports)
        assert lab.dump_state() == before                      # --keep: the change survived the restart
        assert [e["cmdlet"] for e in lab.audit()] == ["Set-CsUser"]
        # SIGTERM: a clean shutdown (well under a second when idle; the margin is for a loaded machine)
        lab.stop(timeout=60)
    assert lab.process.returncode == 0
    assert not any(answers(p) for p in ports)


def test_ports_taken_after_the_choice_move_a_fresh_lab_but_not_a_fixed_one(tmp_path):
    lab = LabInstance(tmp_path / "lab", stage=1)
    chosen = lab.port_offset
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", lab.port_of(55993)))             # taken between the choice and the start
        busy.listen()
        with lab:
            assert lab.port_offset != chosen and answers(lab.http_port)
        fixed = LabInstance(tmp_path / "fixed", stage=1, port_offset=chosen)
        with pytest.raises(PortsTaken, match="Address already in use"):
            fixed.start()
        assert not fixed.running


def test_a_lab_that_cannot_start_says_why(tmp_path):
    raw = yaml.safe_load((REPO / "lab" / "lync_lab" / "scenarios" / "contoso-small.yml").read_text())
    raw["users"][0]["sip"] = "not-an-address"
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(raw))
    lab = LabInstance(tmp_path / "lab", scenario=broken, stage=1)
    with pytest.raises(LabStartError, match=r"users\[0\]\.sip"):
        lab.start()
    assert not lab.running


def test_a_changed_seed_is_what_a_kept_start_serves(tmp_path):
    def hao_chen_disabled(tx):
        user = tx.get("user", "haochen")
        tx.put("user", "haochen", dict(user, Enabled=False))

    lab = LabInstance(tmp_path / "lab", stage=6)
    lab.seed(hao_chen_disabled)
    with lab.start(keep=True):
        assert lab.dump_state()["user"]["haochen"]["Enabled"] is False
    fresh = LabInstance(tmp_path / "fresh", stage=6)
    with fresh:
        assert fresh.dump_state()["user"]["haochen"]["Enabled"] is True


def test_a_killed_lab_starts_again_with_keep_on_its_ports_with_what_it_had_committed(tmp_path):
    # The reliability suite's power cut: SIGKILL mid-work, then `start(keep=True)` while clients keep the ports.
    import winrm

    lab = LabInstance(tmp_path / "lab", stage=6)
    with lab:
        session = winrm.Session(lab.admin_url, auth=("CONTOSO\\lyncadmin", "Lab-Passw0rd!"), transport="ntlm",
                                message_encryption="always")
        r = session.run_ps("Set-CsUser -Identity 'sip:hao.chen@contoso.net' -Enabled $false")
        assert r.status_code == 0, r.std_err
        offset, ports = lab.port_offset, [lab.port_of(p) for p in SMALL_PORTS]
        lab.kill()
        assert lab.process.returncode == -9 and not lab.running
        assert not any(answers(p) for p in ports)
        lab.start(keep=True)
        assert lab.port_offset == offset and all(answers(p) for p in ports)
        assert lab.dump_state()["user"]["haochen"]["Enabled"] is False
        r = session.run_ps("Get-CsUser -Identity 'sip:hao.chen@contoso.net'")
        assert r.status_code == 0 and "hao.chen@contoso.net" in r.std_out.decode(), r.std_err
