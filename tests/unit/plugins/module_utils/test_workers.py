"""Persistent workers (issue #15) through the real WinRMSession and LyncClient, over a scripted pywinrm Protocol
whose commands behave as the worker envelope does: one process per command that reads the envelope's line, then
answers each request line as it arrives (ready, a line per call, done), ends at a stop request or at the end of
stdin, and can be killed mid-request (fault injection)."""

import base64
import json
import threading

from winrm import exceptions as wx

from ansible_collections.lync.migration.plugins.module_utils.lync.client import LyncClient
from ansible_collections.lync.migration.plugins.module_utils.lync.connection import ConnectionOptions
from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import ENVELOPE_SCRIPT, Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.retry import RetryPolicy
from ansible_collections.lync.migration.plugins.module_utils.lync.session import WinRMSession
from ansible_collections.lync.migration.plugins.module_utils.lync.shells import ShellRegistry
from ansible_collections.lync.migration.plugins.modules import cs_user_move

from fake_lync import FakeCmdletError, FakeLync, pool, user
from module_runner import run_module

TARGET = "pool02.contoso.net"
OPTIONS = dict(server="fe01.contoso.net", username="CONTOSO\\lyncadmin", password="pw")


class Process:
    def __init__(self):
        self.stdin = b""
        self.envelope = False
        self.out = []
        self.stderr = b""
        self.exit_code = None
        self.requests = 0

    @property
    def done(self):
        return self.exit_code is not None


class WorkerProtocol:
    """pywinrm's Protocol surface with worker processes behind it, answering from a FakeLync. ``kill_after`` names
    SIP addresses whose move kills the process right after the move ran (its result line never written)."""

    def __init__(self, lync, kill_after=()):
        self.lync = lync
        self.kill_after = set(kill_after)
        self.lock = threading.Lock()
        self.processes = {}
        self.shells = 0
        self.deleted = []
        self.sends = []          # (command id, bytes, end)

    def open_shell(self, codepage, noprofile):
        with self.lock:
            self.shells += 1
            return "S%d" % self.shells

    def run_command(self, shell_id, exe, args, console_mode_stdin, skip_cmd_shell):
        with self.lock:
            command_id = "%s-C%d" % (shell_id, len(self.processes) + 1)
            self.processes[command_id] = Process()
            return command_id

    def send_command_input(self, shell_id, command_id, chunk, end):
        with self.lock:
            process = self.processes.get(command_id)
            if process is None:
                raise wx.WSManFaultError(400, "m", "<r/>", "No command with that CommandId", wsman_fault_code=2150858810)
            self.sends.append((command_id, chunk, end))
            process.stdin += chunk
            while b"\n" in process.stdin and not process.done:
                line, process.stdin = process.stdin.split(b"\n", 1)
                self._serve(process, line.strip())
            if end and not process.done:
                process.exit_code = 0

    def _serve(self, process, line):
        if not process.envelope:
            assert base64.b64decode(line).decode("utf-8") == ENVELOPE_SCRIPT
            process.envelope = True
            return
        request = json.loads(base64.b64decode(line).decode("utf-8"))
        if request.get("stop"):
            process.exit_code = 0
            return
        process.requests += 1
        self.lync.requests.append(request)
        process.out.append({"ready": True, "computer": "FE01", "ps": "3.0"})
        for doc in request["calls"]:
            try:
                objects = self.lync.run(doc["cmdlet"], doc["params"])
                if doc["cmdlet"].startswith("Move-") and doc["params"]["Identity"] in self.kill_after:
                    self.kill_after.discard(doc["params"]["Identity"])
                    process.stderr = b"the process was killed"
                    process.exit_code = 1
                    return
                if doc.get("select") is not None:
                    objects = [dict((k, v) for k, v in o.items() if k in doc["select"]) for o in objects]
                process.out.append({"id": doc["id"], "ok": True, "objects": objects})
            except FakeCmdletError as exc:
                process.out.append({"id": doc["id"], "ok": False, "error": exc.doc})
        process.out.append({"done": True})

    def get_command_output_raw(self, shell_id, command_id):
        with self.lock:
            process = self.processes[command_id]
            if not process.out and not process.done:
                raise wx.WinRMOperationTimeoutError()
            data = b"".join(json.dumps(doc).encode("utf-8") + b"\r\n" for doc in process.out)
            process.out = []
            return data, process.stderr if process.done else b"", process.exit_code, process.done

    def cleanup_command(self, shell_id, command_id):
        with self.lock:
            process = self.processes.get(command_id)
            if process is not None and not process.done:
                process.exit_code = -1

    def close_shell(self, shell_id, close_session=True):
        with self.lock:
            self.deleted.append(shell_id)
            for command_id, process in self.processes.items():
                if command_id.startswith(shell_id + "-") and not process.done:
                    process.exit_code = -1

    def started(self):
        return len(self.processes)

    def running(self):
        return [c for c, p in self.processes.items() if not p.done]


def session_factory(protocol):
    def factory(options):
        return WinRMSession(options, protocol_factory=lambda o: protocol, sleep=lambda s: None,
                            registry=ShellRegistry())
    return factory


def directory(n):
    return FakeLync([pool("pool01.contoso.net", legacy=True), pool(TARGET)],
                    [user("User %d" % i, "sip:u%d@contoso.net" % i, "pool01.contoso.net") for i in range(n)])


def reads(n):
    return [Call("Get-CsUser", {"Identity": "sip:u%d@contoso.net" % i}, select=["SipAddress"]) for i in range(n)]


def test_a_worker_answers_batch_after_batch_and_powershell_starts_once_per_worker():
    protocol = WorkerProtocol(directory(20))
    client = LyncClient(ConnectionOptions(**OPTIONS), session_factory=session_factory(protocol),
                        policy=RetryPolicy(sleep=lambda s: None))
    batches = []
    results = client.run_queue(reads(20), batch_size=2, parallelism=2, min_batch=1, on_batch=batches.append)
    again = client.run_queue(reads(6), batch_size=2, parallelism=2, min_batch=1,   # the task's next queue
                             on_batch=batches.append)
    assert all(r.ok for r in results + again) and results[7].objects == [{"SipAddress": "sip:u7@contoso.net"}]
    assert protocol.started() == protocol.shells <= 2 and len(batches) >= 13
    assert sum(p.requests for p in protocol.processes.values()) == len(batches)
    first_sends = {}
    for command_id, data, end in protocol.sends:
        first_sends.setdefault(command_id, data)
        assert not end                         # stdin stays open between requests
    later = [data for command_id, data, _end in protocol.sends if data is not first_sends[command_id]]
    envelope_line = base64.b64encode(ENVELOPE_SCRIPT.encode("utf-8"))
    assert all(data.startswith(envelope_line) for data in first_sends.values())
    assert later and not any(envelope_line in data for data in later)
    assert client.worker_stats() == {"worker_starts": protocol.started(), "requests": len(batches)}
    client.close()


def test_closing_the_client_stops_each_worker_and_deletes_its_shell():
    protocol = WorkerProtocol(directory(8))
    client = LyncClient(ConnectionOptions(**OPTIONS), session_factory=session_factory(protocol),
                        policy=RetryPolicy(sleep=lambda s: None))
    client.run_queue(reads(8), batch_size=2, parallelism=2, min_batch=1)
    assert len(protocol.running()) == protocol.started() and protocol.deleted == []
    client.close()
    stops = [(c, data) for c, data, end in protocol.sends if end]
    assert len(stops) == protocol.started()
    assert all(json.loads(base64.b64decode(data)) == {"v": 1, "stop": True} for _c, data in stops)
    shells = ["S%d" % i for i in range(1, protocol.shells + 1)]
    assert protocol.running() == [] and sorted(protocol.deleted) == sorted(shells)


def test_a_worker_killed_mid_batch_is_replaced_and_its_unknown_moves_are_read_again_before_any_retry(monkeypatch):
    lync = directory(12)
    protocol = WorkerProtocol(lync, kill_after=["sip:u5@contoso.net"])
    monkeypatch.setattr(LyncModule, "session_factory", staticmethod(session_factory(protocol)))
    out = run_module(cs_user_move, {"identities": ["sip:u%d@contoso.net" % i for i in range(12)],
                                    "target_pool": TARGET, "batch_size": 4, "parallelism": 1}, None,
                     monkeypatch=monkeypatch)
    assert out["summary"]["moved"] == 12, out
    moves = [params["Identity"] for cmdlet, params in lync.calls if cmdlet.startswith("Move-")]
    assert sorted(moves) == sorted("sip:u%d@contoso.net" % i for i in range(12))    # nobody moved twice
    assert all(u["RegistrarPool"] == TARGET for u in lync.users)
    # u5 ran, then its process died before its line: unknown, so it was read again (and found moved) rather than
    # sent again; the batch's later users had not run and were moved by a new worker.
    killed = [p for p in protocol.processes.values() if p.exit_code == 1]
    assert len(killed) == 1 and protocol.started() >= 2
    order = [(cmdlet, params.get("Identity")) for cmdlet, params in lync.calls]
    moved_at = [i for i, (cmdlet, who) in enumerate(order) if cmdlet.startswith("Move-") and who == "sip:u5@contoso.net"]
    read_at = [i for i, (cmdlet, who) in enumerate(order) if cmdlet == "Get-CsUser" and who == "sip:u5@contoso.net"]
    assert len(moved_at) == 1 and any(i > moved_at[0] for i in read_at)
    assert protocol.running() == []                   # the module closed every worker at its end


def test_workers_warmed_up_before_a_queue_start_powershell_while_nothing_is_asked_of_them_yet():
    lync = directory(10)
    protocol = WorkerProtocol(lync)
    client = LyncClient(ConnectionOptions(**OPTIONS), session_factory=session_factory(protocol),
                        policy=RetryPolicy(sleep=lambda s: None))
    client.warm_up(2)()
    assert protocol.started() == 2 and lync.calls == []                    # started, nothing run
    assert [(r["modules"], r["calls"]) for r in lync.requests] == [(["Lync"], [])] * 2
    assert all(r.ok for r in client.run_queue(reads(10), batch_size=2, parallelism=2, min_batch=1))
    assert protocol.started() == 2                                         # the queue took the warm workers
    client.close()
    assert protocol.running() == []


def test_a_client_hands_its_waiting_workers_to_another_which_uses_them_without_starting_any():
    protocol = WorkerProtocol(directory(10))
    readers, movers = (LyncClient(ConnectionOptions(**OPTIONS), session_factory=session_factory(protocol),
                                  policy=RetryPolicy(sleep=lambda s: None)) for _client in range(2))
    readers.run_queue(reads(10), batch_size=2, parallelism=2, min_batch=1)
    started = protocol.started()
    readers.hand_over_workers(movers)
    readers.close()
    assert len(protocol.running()) == started                              # closing the first closed none
    assert all(r.ok for r in movers.run_queue(reads(10), batch_size=2, parallelism=started, min_batch=1))
    assert protocol.started() == started
    movers.close()
    assert protocol.running() == []


def test_a_worker_taken_for_a_new_queue_forgets_the_receive_pause_of_its_last_queues_calls():
    protocol = WorkerProtocol(directory(4))
    client = LyncClient(ConnectionOptions(**OPTIONS), session_factory=session_factory(protocol),
                        policy=RetryPolicy(sleep=lambda s: None))
    client.run_queue(reads(4), batch_size=2, parallelism=1, min_batch=1)
    worker = client.take_worker()
    worker.call_seconds, worker.session.receive_pause = 0.5, 1.0    # as slow piece reads leave them
    client.release_worker(worker)
    again = client.take_worker()
    assert again is worker and (again.call_seconds, again.session.receive_pause) == (None, 0.0)
    client.release_worker(again)
    client.close()
