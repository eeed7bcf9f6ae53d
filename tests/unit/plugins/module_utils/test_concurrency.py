"""Adaptive concurrency and queue-cut batches: the controller against a simulated pool (virtual time), and
LyncClient.run_queue / cs_user_move against the fake server."""

import heapq
import json
import os

import pytest

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.client import LyncClient
from ansible_collections.lync.migration.plugins.module_utils.lync.concurrency import (
    AdaptiveConcurrency,
    ArrivalClumps,
    guided_batch_size,
)
from ansible_collections.lync.migration.plugins.module_utils.lync.connection import ConnectionOptions
from ansible_collections.lync.migration.plugins.module_utils.lync.retry import RetryPolicy
from ansible_collections.lync.migration.plugins.modules import cs_user_move

from fake_lync import FakeLync, FakeSession, pool, user
from module_runner import run_module


def simulate(n, capacity, t_move=1.0, startup=5.5, parallelism="auto", batch_size=100, busy_after=None,
             controller=None, clump=None, feed="clumps"):
    """A pool serving ``capacity`` moves at once (FIFO queue), shells whose worker pays ``startup`` once (its
    first batch: PowerShell's start and the module's import), the controller deciding how many shells run.
    Virtual time; returns (makespan, controller, peak shells). ``busy_after``: from that time on, the pool
    answers every 10th call busy (it is overloaded).

    ``clump``: a shell's result lines reach the client ``clump`` at a time (one Receive's answer after the
    worker paused between Receives), and its batch's last lines at its end; ``feed`` says how the client reads
    them: "clumps" (run_queue's ArrivalClumps) or "lines" (each line's gap since the previous one, as before
    the clumps were read once)."""
    auto = parallelism == "auto"
    ctl = controller or AdaptiveConcurrency()
    events = []          # (time, seq, kind, shell)
    seq = [0]
    free = [capacity]
    queue = []           # shells waiting for a slot
    state = {"next": 0, "active": 0, "done": 0, "peak": 0, "calls": 0}
    shells = {}
    started = set()      # shells whose worker has started

    def push(at, kind, shell):
        seq[0] += 1
        heapq.heappush(events, (at, seq[0], kind, shell))

    def limit():
        return ctl.limit if auto else parallelism

    def take(now, shell):
        remaining = n - state["next"]
        if remaining <= 0 or state["active"] > limit():
            state["active"] -= 1
            return
        size = guided_batch_size(remaining, ctl.ceiling if auto else parallelism, batch_size)
        state["next"] += size
        shells[shell] = {"left": size, "start": now, "last": None, "held": [], "last_line": None,
                         "arrivals": ArrivalClumps(ctl, now, first_is_service=shell in started)}
        push(now + (0.0 if shell in started else startup), "ready", shell)
        started.add(shell)

    def spawn(now):
        while state["next"] < n and state["active"] < limit():
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
            seq[0] += 1
            take(now, "shell-%d" % seq[0])

    def request(now, shell):
        if free[0] > 0:
            free[0] -= 1
            push(now + t_move, "done", shell)
        else:
            queue.append(shell)

    spawn(0.0)
    now = 0.0
    while events:
        now, _seq, kind, shell = heapq.heappop(events)
        info = shells[shell]
        if kind == "ready":
            info["last"] = now
            request(now, shell)
            continue
        # a move finished: free its slot, hand it to the next waiting shell
        free[0] += 1
        if queue:
            free[0] -= 1
            push(now + t_move, "done", queue.pop(0))
        state["calls"] += 1
        busy = busy_after is not None and now >= busy_after and state["calls"] % 10 == 0
        if auto and clump:
            info["held"].append(busy)
            if len(info["held"]) >= clump or info["left"] == 1:
                if info.get("first") is None:
                    info["first"] = True
                    ctl.record_startup(now - info["start"])
                for held_busy in info["held"]:
                    if feed == "clumps":
                        info["arrivals"].line(now, busy=held_busy)
                    else:
                        ctl.record_call(now, None if info["last_line"] is None else now - info["last_line"],
                                        busy=held_busy)
                        info["last_line"] = now
                info["held"] = []
            if info["left"] == 1:
                info["arrivals"].finish(now)
        latency = now - info["last"]
        if auto and not clump:
            if info.get("first") is None:
                info["first"] = True
                ctl.record_startup(now - info["start"])
                latency = None
            ctl.record_call(now, latency, busy=busy)
        info["last"] = now
        info["left"] -= 1
        state["done"] += 1
        if info["left"] > 0:
            request(now, shell)
        else:
            if auto:
                ctl.record_batch(now - info["start"])
            del shells[shell]
            take(now, shell)
        spawn(now)
    return now, ctl, state["peak"]


def test_auto_finds_the_pools_capacity_and_moves_near_the_ideal_bound():
    makespan, ctl, peak = simulate(10000, capacity=20)
    ideal = 10000 * 1.0 / 20
    assert makespan <= 1.12 * ideal
    assert 20 <= ctl.limit <= 25 and peak <= 25
    assert 18 <= ctl.capacity_estimate <= 22


def test_auto_does_not_pile_shells_on_a_small_pool():
    makespan, ctl, peak = simulate(2000, capacity=4)
    assert any(reason == "queued" for _at, _limit, reason in ctl.history)
    assert ctl.limit <= 8          # 4 served + shells covering PowerShell's start, not 25 queued
    assert makespan <= 1.15 * 2000 / 4.0


def test_busy_answers_make_it_back_off():
    ctl = AdaptiveConcurrency(start=20)
    assert ctl.record_call(10.0, 1.0, busy=True) == 14
    assert ctl.history[-1][1:] == (14, "busy") and not ctl.growing


def test_overloaded_pool_ends_below_the_ceiling():
    _makespan, ctl, _peak = simulate(4000, capacity=20, busy_after=60.0)
    assert ctl.limit < 20 and any(reason == "busy" for _at, _limit, reason in ctl.history)


def test_it_stops_growing_when_throughput_stops_growing():
    ctl = AdaptiveConcurrency(start=4, tolerance=10.0)   # latency never counts as queueing here
    now = 0.0
    ctl.record_call(now, None)
    # 4 shells: 4 calls/s; after doubling still 4 calls/s (the client is the bottleneck)
    for _window in range(2):
        for _call in range(max(8, 2 * ctl.limit)):
            now += 0.25
            ctl.record_call(now, 1.0)
    assert ctl.limit == 4 and not ctl.growing     # back to what gave the same throughput
    assert [reason for _at, _limit, reason in ctl.history] == ["growing", "plateau"]


def test_fixed_parallelism_is_unchanged_and_near_ideal_when_it_covers_the_pool():
    makespan, _ctl, peak = simulate(10000, capacity=20, parallelism=25)
    assert peak == 25 and makespan <= 1.10 * 500


@pytest.mark.parametrize("clump", [3, 8])
def test_clumped_result_lines_still_grow_to_the_ceiling_on_an_uncongested_pool(clump):
    # docs/performance.md run 7: lines that came several per Receive were read as queueing (4 -> 8 -> 4 shells).
    makespan, ctl, peak = simulate(10000, capacity=30, batch_size=25, clump=clump)
    assert peak == 25 and max(limit for _at, limit, _reason in ctl.history) == 25
    assert not any(reason == "queued" for _at, _limit, reason in ctl.history)
    assert makespan <= 1.20 * 10000 / 25.0


def test_clumped_lines_read_one_by_one_mistake_the_clumps_for_queueing():
    # Why the clumps are read once: each line's gap since the previous line is the whole wait for a clump's
    # first line and nothing for the others.
    makespan, ctl, _peak = simulate(10000, capacity=30, batch_size=25, clump=3, feed="lines")
    assert any(reason == "queued" for _at, _limit, reason in ctl.history) and makespan > 2 * 10000 / 25.0


@pytest.mark.parametrize("clump", [3, 8])
def test_clumped_result_lines_still_back_off_on_a_congested_pool(clump):
    makespan, ctl, _peak = simulate(2000, capacity=4, batch_size=25, clump=clump)
    assert any(reason == "queued" for _at, _limit, reason in ctl.history)
    assert ctl.limit <= 8 and makespan <= 1.15 * 2000 / 4.0


def test_a_clumps_calls_share_its_gap_and_a_fresh_workers_first_clump_has_no_service_time():
    seen = []

    class Recorder(AdaptiveConcurrency):
        def record_latencies(self, now, latencies):
            seen.append((now, list(latencies)))
            return AdaptiveConcurrency.record_latencies(self, now, latencies)

    ctl = Recorder()
    fresh = ArrivalClumps(ctl, started=0.0, first_is_service=False)
    for _line in range(3):
        fresh.line(6.0)                 # PowerShell's start, then three lines in one Receive
    for _line in range(2):
        fresh.line(7.0)
    fresh.finish(7.0)
    assert seen == [(7.0, [0.5, 0.5])] and ctl._count == 5
    reused = ArrivalClumps(ctl, started=10.0, first_is_service=True)
    for _line in range(4):
        reused.line(12.0)
    reused.finish(12.0)
    assert seen[-1] == (12.0, [0.5] * 4)


def test_guided_batch_sizes_shrink_towards_the_end():
    assert guided_batch_size(10000, 25, 100) == 100
    assert guided_batch_size(1000, 25, 100) == 40
    assert guided_batch_size(100, 25, 100) == 5        # never below min_batch (MIN_BATCH) while there is that much
    assert guided_batch_size(100, 25, 100, min_batch=25) == 25
    assert guided_batch_size(7, 25, 100) == 5
    assert guided_batch_size(3, 25, 100) == 3
    assert guided_batch_size(0, 25, 100) == 0
    assert guided_batch_size(50, 4, 5) == 5            # batch_size is the ceiling


def many_users(count):
    return FakeLync([pool("pool01.contoso.net", legacy=True), pool("pool02.contoso.net")],
                    [user("User %d" % i, "sip:u%d@contoso.net" % i, "pool01.contoso.net") for i in range(count)])


def client_for(lync):
    FakeSession.server = lync
    options = ConnectionOptions(server="fe01", username="u", password="p")
    return LyncClient(options, session_factory=FakeSession, policy=RetryPolicy(sleep=lambda s: None))


@pytest.mark.parametrize("parallelism", [3, "auto"])
def test_run_queue_returns_every_result_in_order_once_and_the_client_closes_its_shells(parallelism):
    lync = many_users(120)
    calls = [Call("Move-CsLegacyUser", {"Identity": "sip:u%d@contoso.net" % i, "Target": "pool02.contoso.net"})
             for i in range(120)]
    seen, batches = [], []
    FakeSession.delay = 0.01
    try:
        client = client_for(lync)
        results = client.run_queue(calls, batch_size=30, parallelism=parallelism, min_batch=5,
                                   on_result=lambda c, r: seen.append(c.params["Identity"]), on_batch=batches.append)
    finally:
        FakeSession.delay = 0.0
    assert all(r.ok for r in results) and [r.call for r in results] == calls
    assert sorted(seen) == sorted(c.params["Identity"] for c in calls)
    assert all(u["RegistrarPool"] == "pool02.contoso.net" for u in lync.users)
    assert batches[-1]["remaining"] == 0 and max(b["batch"] for b in batches) <= 30
    assert lync.shells_closed < lync.shells_opened    # the workers that drained the queue wait for the next one
    client.close()
    assert lync.shells_opened == lync.shells_closed
    if parallelism == 3:
        assert client.last_peak_shells == 3


def test_module_moves_with_auto_by_default_and_reports_progress(monkeypatch, tmp_path):
    lync = many_users(60)
    monkeypatch.setenv("LYNC_MIGRATION_PROGRESS_DIR", str(tmp_path))
    out = run_module(cs_user_move, {"identities": ["sip:u%d@contoso.net" % i for i in range(60)],
                                    "target_pool": "pool02.contoso.net"}, lync, monkeypatch=monkeypatch)
    assert not out.get("failed"), out.get("msg")
    assert out["summary"]["moved"] == 60 and out["performance"]["parallelism"] == "auto"
    lines = [json.loads(line) for name in os.listdir(str(tmp_path))
             for line in (tmp_path / name).read_text().splitlines()]
    assert lines[-1]["final"] and lines[-1]["moved"] == 60 and lines[-1]["remaining"] == 0


def test_module_refuses_a_parallelism_that_is_neither_auto_nor_a_number(monkeypatch):
    out = run_module(cs_user_move, {"identities": ["sip:u1@contoso.net"], "target_pool": "pool02.contoso.net",
                                    "parallelism": "fast"}, many_users(2), monkeypatch=monkeypatch)
    assert out["failed"] and "parallelism must be auto or a number of shells between 1 and 25" in out["msg"]


def test_large_waves_read_sip_addresses_in_one_call_and_other_names_one_by_one(monkeypatch):
    monkeypatch.setattr(cs_user_move, "TUNING", cs_user_move.TUNING._replace(bulk_read_threshold=5))
    lync = many_users(8)
    identities = ["sip:u%d@contoso.net" % i for i in range(6)] + ["User 7", "sip:nobody@contoso.net"]
    out = run_module(cs_user_move, {"identities": identities, "target_pool": "pool02.contoso.net",
                                    "on_invalid": "skip"}, lync, check_mode=True, monkeypatch=monkeypatch)
    reads = [params for cmdlet, params in lync.calls if cmdlet == "Get-CsUser"]
    assert reads[0] == {}                                          # the one bulk read
    assert sorted(p["Identity"] for p in reads[1:]) == ["User 7", "sip:nobody@contoso.net"]
    assert out["summary"]["would_move"] == 7 and out["summary"]["skipped"] == 1


def test_progress_callback_shows_the_newest_complete_line_of_each_run(tmp_path, monkeypatch):
    from ansible_collections.lync.migration.plugins.callback import lync_progress

    monkeypatch.setenv("LYNC_MIGRATION_PROGRESS_DIR", str(tmp_path))
    shown = []

    class Display:
        verbosity = 0

        def display(self, text, *args, **kwargs):
            shown.append(text)

    callback = lync_progress.CallbackModule(display=Display())
    run = tmp_path / "cs_user_move-1.jsonl"
    line = {"target": "pool02.contoso.net", "total": 10000, "moved": 5200, "failed": 3, "remaining": 4797,
            "per_second": 19.84, "shells": 24, "seconds": 262.0, "final": False}
    run.write_text(json.dumps(dict(line, moved=100)) + "\n" + json.dumps(line) + "\n" + '{"target": "po')
    callback._show_new()
    assert shown == ["lync progress: pool02.contoso.net: 5200/10000 moved, 3 failed, 4797 remaining, "
                     "19.8 users/s, 24 shells"]
    callback._show_new()
    assert len(shown) == 1                     # nothing new, and the torn last line waits for its end
    with open(str(run), "a") as handle:
        handle.write('ol02.contoso.net", "total": 10000, "moved": 9997, "failed": 3, "remaining": 0, '
                     '"per_second": 20.1, "shells": null, "seconds": 497.3, "final": true}\n')
    callback._show_new()
    assert shown[-1].endswith("9997/10000 moved, 3 failed, 0 remaining, 20.1 users/s (done in 497.3 s)")


class QuotaOnceSession(FakeSession):
    """The server refuses the first shell with the per-user quota fault (MaxShellsPerUser reached)."""

    refused = []

    def open_shell(self):
        if not QuotaOnceSession.refused:
            QuotaOnceSession.refused.append(True)
            from ansible_collections.lync.migration.plugins.module_utils.lync.transport_errors import TransportFault
            raise TransportFault("WinRM fault during create: quota", transient=True, quota=True, phase="create")
        return super().open_shell()


def test_a_shell_quota_fault_makes_auto_use_fewer_shells_and_the_batch_is_retried():
    lync = many_users(40)
    FakeSession.server = lync
    QuotaOnceSession.refused = []
    client = LyncClient(ConnectionOptions(server="fe01", username="u", password="p"),
                        session_factory=QuotaOnceSession, policy=RetryPolicy(sleep=lambda s: None))
    controller = AdaptiveConcurrency(start=4)
    calls = [Call("Move-CsLegacyUser", {"Identity": "sip:u%d@contoso.net" % i, "Target": "pool02.contoso.net"})
             for i in range(40)]
    results = client.run_queue(calls, batch_size=10, parallelism="auto", controller=controller, min_batch=5)
    assert all(r.ok for r in results)
    assert controller.history[0][1:] == (2, "busy")     # 4 shells x 0.7


def test_progress_callback_documentation_is_valid_yaml_with_its_interval_option():
    import yaml
    from ansible_collections.lync.migration.plugins.callback import lync_progress

    doc = yaml.safe_load(lync_progress.DOCUMENTATION)
    assert doc["name"] == "lync_progress" and doc["options"]["interval"]["default"] == 5.0


def test_receive_pause_waits_only_after_output_and_never_after_the_last_receive():
    from test_session import FakeProtocol, ndjson, options
    from ansible_collections.lync.migration.plugins.module_utils.lync.session import WinRMSession

    out = ndjson({"ready": True}, {"id": "0", "ok": True, "objects": []}, {"id": "1", "ok": True, "objects": []},
                 {"done": True})
    proto = FakeProtocol([out[:30], b"", out[30:80], out[80:]])
    slept = []
    session = WinRMSession(options(), protocol_factory=lambda o: proto, sleep=slept.append)
    session.receive_pause = 0.4
    seen = []
    session.run_envelope("S1", [Call("Get-CsUser"), Call("Get-CsPool")], b"x", lambda i, r: seen.append(i))
    assert seen == [0, 1]
    assert slept == [0.4, 0.4]     # after the two Receives with output that were not the last; none after b""


def test_queue_batches_set_the_pause_from_the_previous_batch_of_the_same_shell():
    lync = many_users(60)
    made = []

    class Recording(FakeSession):
        def __init__(self, options):
            super().__init__(options)
            self.receive_pause = 0.0
            self.pauses = []
            made.append(self)

        def run_envelope(self, shell_id, calls, stdin_bytes, on_result=None):
            self.pauses.append(self.receive_pause)
            return super().run_envelope(shell_id, calls, stdin_bytes, on_result)

    FakeSession.server = lync
    client = LyncClient(ConnectionOptions(server="fe01", username="u", password="p"), session_factory=Recording,
                        policy=RetryPolicy(sleep=lambda s: None))
    calls = [Call("Get-CsUser", {"Identity": "User %d" % i}) for i in range(60)]
    client.run_queue(calls, batch_size=20, parallelism=1, min_batch=20)
    pauses = made[0].pauses
    assert len(pauses) == 3 and pauses[0] == 0.0 and all(0.0 <= p <= 1.0 for p in pauses[1:])
