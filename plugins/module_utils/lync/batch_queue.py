# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many batches from one queue on parallel shells (LyncClient.run_queue), and CallFeed: calls that arrive
while the queue runs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from .concurrency import (
    DEFAULT_BATCH_SIZE,
    MAX_PARALLEL_SHELLS,
    MIN_BATCH,
    AdaptiveConcurrency,
    ArrivalClumps,
    guided_batch_size,
    is_busy_error,
    staggered_batch_size,
)

# Queue batches gather result lines between Receives for about two calls' time, at most this long, so each
# round trip brings several lines (controller CPU) while the journal stays at most a second behind.
MAX_RECEIVE_PAUSE = 1.0


class CallFeed:
    """Calls that arrive while ``run_queue`` runs them (cs_user_move plans each user's move as soon as the
    user is read, so moves start while later users are still being read).

    ``add`` appends a call, ``close`` says no more will come. Until then ``expected`` (how many calls may come
    in all) sizes the batches, and shells wait for at least a minimum batch instead of starting PowerShell
    for one call. ``shells_elsewhere`` counts shells the same account has open for other work (the reads),
    which run_queue leaves out of its MAX_PARALLEL_SHELLS."""

    def __init__(self, expected=0, shells_elsewhere=0):
        self.calls = []
        self.expected = expected
        self.shells_elsewhere = shells_elsewhere
        self.closed = False
        self.cond = threading.Condition()

    def add(self, call):
        with self.cond:
            self.calls.append(call)
            self.cond.notify_all()

    def close(self):
        """No more calls; the shells the other work used are free again."""
        with self.cond:
            self.closed = True
            self.shells_elsewhere = 0
            self.cond.notify_all()


def run_queue(client, calls, batch_size=DEFAULT_BATCH_SIZE, parallelism="auto", on_result=None, modules=None,
              controller=None, on_batch=None, min_batch=MIN_BATCH, on_send=None):
    """Run ``calls`` in batches cut on demand from one queue by up to ``parallelism`` shells at once.

    ``parallelism`` is a number of shells, or ``"auto"``: an ``AdaptiveConcurrency`` (``controller``, or a
    new one) decides, growing while throughput grows and backing off when the server queues or is busy.
    Batch sizes follow ``guided_batch_size`` (at most ``batch_size``), the first round's staggered
    (``staggered_batch_size``). ``on_result(call, result)`` fires as
    each final result is known; ``on_batch(stats)`` after each batch with a dict: done, remaining, shells,
    limit, batch, seconds. ``on_send(calls)`` runs before each batch is sent, and the batch waits for it
    (the move journal's write-ahead ``sent`` lines). Returns the results in call order.

    ``calls`` may be a ``CallFeed``: calls added while the queue runs are run too, until it is closed.
    """
    feed = calls if isinstance(calls, CallFeed) else None
    calls = feed.calls if feed is not None else list(calls)
    results = [None] * len(calls)
    if not calls and feed is None:
        return results
    auto = parallelism == "auto"
    if not auto:
        parallelism = max(1, min(int(parallelism), MAX_PARALLEL_SHELLS))
    # The host's quotas are read here, before any lock is held; limit() then only looks them up.
    host_limit = client.shell_limit() if auto or parallelism > 1 or feed is not None else MAX_PARALLEL_SHELLS
    if auto:
        controller = controller or AdaptiveConcurrency(ceiling=MAX_PARALLEL_SHELLS)
        controller.lower_ceiling(host_limit)
    else:
        parallelism = min(parallelism, host_limit)
    state = {"next": 0, "taken": 0, "done": 0, "active": 0, "failure": None, "peak": 0}
    cond = feed.cond if feed is not None else threading.Condition()

    def closed():
        return feed is None or feed.closed

    def limit():
        shells = controller.limit if auto else parallelism
        if feed is not None and feed.shells_elsewhere:
            shells = min(shells, max(1, client.shell_limit() - feed.shells_elsewhere))
        return shells

    def take(worker_count):
        with cond:
            while True:
                remaining = len(calls) - state["next"]
                if state["failure"] is not None or state["active"] > limit() or (remaining <= 0 and closed()):
                    state["active"] -= 1   # retire: the controller wants fewer shells, or nothing is left
                    cond.notify_all()
                    return None
                if remaining > 0 and (closed() or remaining >= min(min_batch, batch_size)):
                    break
                cond.wait(0.2)   # an open feed: wait for a batch worth starting PowerShell for
            workers = worker_count()
            # While a feed is open, size batches for what is expected in all, but take only what is there.
            planned = remaining if closed() else max(remaining, feed.expected - state["next"])
            size = min(remaining, staggered_batch_size(guided_batch_size(planned, workers, batch_size, min_batch),
                                                       state["taken"], workers, min_batch))
            state["taken"] += 1
            start = state["next"]
            state["next"] += size
            if len(results) < state["next"]:
                results.extend([None] * (state["next"] - len(results)))
            return start, start + size

    def work():
        worker = None
        try:
            worker = client.take_worker()
            while True:
                # With auto, size batches for the most shells there may be: the limit is still growing.
                span = take(lambda: controller.ceiling if auto else parallelism)
                if span is None:
                    return
                if on_send is not None:
                    with client.callback_lock:
                        on_send(calls[span[0]:span[1]])
                _run_timed(client, worker, calls, span, results, on_result, modules, controller if auto else None)
                with cond:
                    state["done"] += span[1] - span[0]
                    stats = {"done": state["done"], "remaining": len(calls) - state["done"],
                             "shells": state["active"], "limit": limit(), "batch": span[1] - span[0]}
                if on_batch is not None:
                    with client.callback_lock:
                        on_batch(stats)
        except Exception as exc:  # surfaced to the caller, not lost in the thread
            with cond:
                if state["failure"] is None:
                    state["failure"] = exc
                state["active"] -= 1
                cond.notify_all()
        finally:
            if worker is not None:
                with cond:
                    drained = state["failure"] is None and len(calls) - state["next"] <= 0 and closed()
                if drained:
                    client.release_worker(worker)   # its PowerShell serves the task's next batches
                else:
                    worker.close()                  # fewer shells wanted, or the queue failed

    threads = []
    with cond:
        while True:
            if state["failure"] is not None:
                break
            unassigned = len(calls) - state["next"]
            if unassigned <= 0 and state["active"] == 0 and closed():
                break
            wanted = min(limit(), state["active"] + unassigned)
            while unassigned > 0 and state["active"] < wanted:
                state["active"] += 1
                state["peak"] = max(state["peak"], state["active"])
                thread = threading.Thread(target=work, name="lync-shell-%d" % len(threads))
                thread.daemon = True
                threads.append(thread)
                thread.start()
            cond.wait(0.2)   # woken when a shell retires; the timeout notices a raised limit
    for thread in threads:
        thread.join()
    client.last_peak_shells = state["peak"]
    failure = state["failure"]
    if failure is not None:
        raise failure
    return results


def _run_timed(client, worker, calls, span, results, on_result, modules, controller):
    """One batch from the queue; feeds the controller each call's latency as its line arrives."""
    batch = calls[span[0]:span[1]]
    worker.controller = controller
    started = time.monotonic()
    marks = {"last": None, "first": None}
    # A worker that served a batch of this queue already runs PowerShell: its first line's wait is service.
    arrivals = None if controller is None else ArrivalClumps(controller, started,
                                                             first_is_service=worker.call_seconds is not None)

    def on_line(call, result):
        now = time.monotonic()
        if arrivals is not None:
            arrivals.line(now, busy=not result.ok and is_busy_error(result.error))
        if marks["first"] is None:
            marks["first"] = now - started
            if controller is not None:
                controller.record_startup(marks["first"])
        marks["last"] = now
        if on_result is not None:
            on_result(call, result)

    if worker.call_seconds is not None and hasattr(worker.session, "receive_pause"):
        worker.session.receive_pause = min(MAX_RECEIVE_PAUSE, 2.0 * worker.call_seconds)
    try:
        out = client.run_batch(worker, batch, on_line, modules)
    finally:
        if arrivals is not None:
            arrivals.finish(time.monotonic())
    results[span[0]:span[1]] = out
    if marks["first"] is not None and len(batch) > 1:
        worker.call_seconds = (marks["last"] - started - marks["first"]) / (len(batch) - 1)
    if controller is not None and marks["first"] is not None:
        controller.record_batch(time.monotonic() - started)
