"""Persistent workers against the lab (issue #15): a move of many users in many batches starts powershell.exe once
per worker, not once per batch, and every move is right when read again.

The lab runs in this process (as record_transcripts.py runs it) so that its WinRS service can be counted where the
processes start: ShellManager.create (a shell) and ShellManager.command (a WinRS command: one powershell.exe). The
lab serves a worker command's stdin line by line as it arrives (lab/lync_lab/winrm/shells.py StdinReader) and its
worker envelope answers request after request in the one process (lab/lync_lab/powershell/envelope.py)."""

from __future__ import annotations

import json
import threading

import pytest

from module_runner import run_module

from ansible_collections.lync.migration.plugins.module_utils.lync.client import LyncClient
from ansible_collections.lync.migration.plugins.module_utils.lync.connection import ConnectionOptions
from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.modules import cs_user_info, cs_user_move

ShellManager = pytest.importorskip("lync_lab.winrm.shells").ShellManager

LAB_PASSWORD = "Lab-Passw0rd!"
TARGET = "pool02.contoso.net"


@pytest.fixture()
def lab(tmp_path, monkeypatch):
    from lync_lab.config import LabConfig
    from lync_lab.instance import choose_port_offset, scenario_ports
    from lync_lab.lab import Lab

    counts = {"shells": 0, "commands": 0, "deleted": 0}
    lock = threading.Lock()
    create, command, delete = ShellManager.create, ShellManager.command, ShellManager.delete

    def counting_create(self, *args, **kwargs):
        answer = create(self, *args, **kwargs)
        with lock:
            counts["shells"] += 1
        return answer

    def counting_command(self, *args, **kwargs):
        answer = command(self, *args, **kwargs)
        with lock:
            counts["commands"] += 1
        return answer

    def counting_delete(self, *args, **kwargs):
        answer = delete(self, *args, **kwargs)
        with lock:
            counts["deleted"] += 1
        return answer

    monkeypatch.setattr(ShellManager, "create", counting_create)
    monkeypatch.setattr(ShellManager, "delete", counting_delete)
    monkeypatch.setattr(ShellManager, "command", counting_command)
    offset = choose_port_offset(scenario_ports("contoso-small"), udp_ports=[55953])
    instance = Lab(LabConfig(stage=6, state_dir=tmp_path / "lab", http_port=55985 + offset, https_port=55986 + offset,
                             port_offset=offset, dns_port=55953 + offset))
    instance.start()
    instance.counts = counts
    instance.connection = {"server": "127.0.0.1", "port": 55985 + offset, "scheme": "http",
                           "username": "CONTOSO\\lyncadmin", "password": LAB_PASSWORD}
    yield instance
    instance.stop()


def audit(lab):
    path = lab.state_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_a_move_in_many_batches_starts_powershell_once_per_worker_and_every_move_reads_back_right(lab, monkeypatch):
    legacy = run_module(cs_user_info, {"legacy_only": True}, None, monkeypatch=monkeypatch, connection=lab.connection)
    sips = sorted(u["sip_address"] for u in legacy["users"] if not u.get("name_problems"))[:12]
    assert len(sips) == 12, "twelve of the scenario's legacy users at stage 6 are the wave"
    lab.counts.update(shells=0, commands=0, deleted=0)

    out = run_module(cs_user_move, {"identities": sips, "target_pool": TARGET, "batch_size": 1, "parallelism": 2},
                     None, monkeypatch=monkeypatch, connection=lab.connection)
    assert out["summary"]["moved"] == len(sips), out.get("msg")
    # One batch per user (batch_size 1) plus the plan's reads, yet PowerShell started once per shell: every
    # command the module ran was a worker that answered batch after batch.
    assert lab.counts["commands"] == lab.counts["shells"]
    assert lab.counts["commands"] <= 4 < len(sips) + 1
    moves = [a for a in audit(lab) if a["cmdlet"].startswith("Move-")]
    assert sorted(a["params"]["Identity"] for a in moves) == sips          # each user moved exactly once

    # A second read, on a client of its own: every user is on the target.
    client = LyncClient(ConnectionOptions(**lab.connection))
    try:
        again = client.run_calls([Call("Get-CsUser", {"Identity": sip}, select=["SipAddress", "RegistrarPool"])
                                  for sip in sips])
        assert [r.ok for r in again] == [True] * len(sips)
        assert [r.objects[0]["RegistrarPool"] for r in again] == [TARGET] * len(sips)
        # The client's own count agrees: one worker, one start, for its one request.
        assert client.worker_stats() == {"worker_starts": 1, "requests": 1}
    finally:
        client.close()


def test_requests_on_one_client_share_one_worker_until_the_client_closes_its_shell(lab):
    client = LyncClient(ConnectionOptions(**lab.connection))
    try:
        for _request in range(5):
            [pools] = client.run_calls([Call("Get-CsPool")])
            assert pools.ok and pools.objects
        assert client.worker_stats() == {"worker_starts": 1, "requests": 5}
        assert (lab.counts["shells"], lab.counts["commands"], lab.counts["deleted"]) == (1, 1, 0)
    finally:
        client.close()
    assert client.worker_stats() == {"worker_starts": 1, "requests": 5}
    assert lab.counts["deleted"] == 1
