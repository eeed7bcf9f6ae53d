# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many shells run at once and how big each batch is: the adaptive controller of
``parallelism: auto``, the host's shell quota, guided self-scheduling of batch sizes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import threading

# WinRM 3.0's default MaxShellsPerUser is 30; leave room for an administrator's own sessions. A host that allows
# fewer (WinRM 2.0: 5, win32 WinRM/installation-and-configuration-for-windows-remote-management.md) gets fewer:
# see allowed_shells.
MAX_PARALLEL_SHELLS = 25
# Batch sizes, now that a worker's PowerShell starts once per shell and not once per batch (session.py): a batch
# costs one request line and its done line, so its size is chosen for what a lost connection leaves unknown (at
# most DEFAULT_BATCH_SIZE unanswered calls, re-read before any retry) and for the tail (guided self-scheduling
# shrinks batches to MIN_BATCH near the end, and a queue fed while it runs starts as soon as MIN_BATCH calls
# are there), no longer to spread a 5.5 s start over many calls.
DEFAULT_BATCH_SIZE = 25
MIN_BATCH = 5
# Result lines parsed from one Receive answer reach the handler microseconds apart; lines of different answers
# are at least a Receive round trip apart (milliseconds even on loopback).
CLUMP_SECONDS = 0.005


class AdaptiveConcurrency:
    """How many shells to keep running batches when the server's capacity is unknown (``parallelism: auto``).

    Fed with every finished call (``record_call``: its latency, and whether the server said it was busy) and
    every finished batch (``record_batch``: how long its PowerShell took to start), it judges the calls in
    windows of about two calls per shell:

    - busy errors in the window (transient cmdlet errors, 5xx, quota faults): multiplicative back-off (x0.7);
    - calls slower than the fastest window seen by more than ``tolerance``: the server queues them, so we run
      more calls than it serves at once. Little's law gives what it serves (throughput x unqueued latency);
      keep that many plus enough to cover the shells that are starting PowerShell, and stop growing;
    - otherwise, while throughput grows: double (slow start); when it stops growing, go back to the last
      limit and add one shell per window from then on. A window opens
      only once the shells added last have started PowerShell (``record_startup``), so their start-up is
      not mistaken for a plateau.

    The unqueued latency is learnt while fewer calls run than the server serves, hence the small start (4);
    a server that serves fewer than ``start`` at once is seen queueing only relative to ``start``.
    Time is passed in (``now``), so tests drive it with a simulated server. Thread-safe.
    """

    BACKOFF = 0.7

    def __init__(self, start=4, ceiling=MAX_PARALLEL_SHELLS, floor=1, tolerance=0.25, min_gain=0.10):
        self.ceiling = max(1, int(ceiling))
        self.floor = max(1, min(int(floor), self.ceiling))
        self.limit = max(self.floor, min(int(start), self.ceiling))
        self.tolerance = tolerance
        self.min_gain = min_gain
        self.growing = True
        self.base_latency = None     # the fastest window's mean call latency: the server's unqueued service time
        self.capacity_estimate = None
        self.history = []            # (time, limit, reason) of every change, for the module's result and tests
        self._startup = None         # mean seconds from a batch's start to its first result
        self._batch_seconds = None
        self._last_throughput = None
        self._before_growth = None
        self._lock = threading.Lock()
        self._reset_window(None)

    def _reset_window(self, now, settle=0.0):
        self._window_start = None if now is None else now + settle
        self._count = 0
        self._latency_sum = 0.0
        self._latency_count = 0
        self._busy = 0

    def lower_ceiling(self, ceiling):
        """The host allows fewer shells than the ceiling (its MaxShellsPerUser): never run more than that."""
        with self._lock:
            self.ceiling = max(1, min(self.ceiling, int(ceiling)))
            self.floor = min(self.floor, self.ceiling)
            self.limit = min(self.limit, self.ceiling)

    def raise_ceiling(self, ceiling):
        """More shells are allowed from now on (other work that shared the account's shells ended). Unless the
        server has shown queueing or busy answers, grow again: a plateau seen under the lower ceiling says
        nothing about the pool."""
        with self._lock:
            if ceiling <= self.ceiling:
                return
            self.ceiling = int(ceiling)
            if not any(reason in ("queued", "busy") for _when, _limit, reason in self.history):
                self.growing = True
                self._last_throughput = None

    def record_startup(self, seconds):
        """A batch's first result came ``seconds`` after it was sent: PowerShell's start and module import."""
        with self._lock:
            self._startup = _ewma(self._startup, seconds)

    def record_batch(self, batch_seconds):
        with self._lock:
            self._batch_seconds = _ewma(self._batch_seconds, batch_seconds)

    def record_call(self, now, latency, busy=False):
        """One call finished at ``now`` after ``latency`` seconds (None if unknown). Returns the new limit."""
        return self.record_calls(now, [(latency, busy)])

    def record_calls(self, now, finished):
        """Calls that finished by ``now``, each ``(latency, busy)``: counted together and judged once.
        Returns the new limit."""
        with self._lock:
            if not finished:
                return self.limit
            if self._window_start is None:
                self._window_start = now - (finished[0][0] or 0.0)
            if now < self._window_start:
                return self.limit  # shells started at the last change are still starting PowerShell
            for latency, busy in finished:
                self._count += 1
                if busy:
                    self._busy += 1
                elif latency is not None:
                    self._latency_sum += latency
                    self._latency_count += 1
            return self._verdict(now)

    def record_latencies(self, now, latencies):
        """Service times of calls already counted (``record_calls`` with no latency): a clump's calls, known
        once the clump is complete (ArrivalClumps). Returns the new limit."""
        with self._lock:
            if self._window_start is None or now < self._window_start or not latencies:
                return self.limit
            self._latency_sum += sum(latencies)
            self._latency_count += len(latencies)
            return self._verdict(now)

    def _verdict(self, now):
        if self._busy:
            return self._change(now, max(self.floor, int(self.limit * self.BACKOFF)), "busy", stop=True)
        if self._count < max(8, 2 * self.limit) or self._latency_count < max(4, self.limit):
            return self.limit
        return self._judge(now)

    def _judge(self, now):
        elapsed = max(now - self._window_start, 1e-6)
        throughput = self._count / elapsed
        latency = self._latency_sum / self._latency_count
        if self.base_latency is None or latency < self.base_latency:
            self.base_latency = latency
        queued = latency > self.base_latency * (1.0 + self.tolerance)
        if queued:
            served = throughput * self.base_latency   # Little's law: calls the server works on at once
            self.capacity_estimate = served
            target = int(math.ceil(served)) + self._headroom(served)
            self._last_throughput = throughput
            return self._change(now, min(self.limit, target), "queued", stop=True)
        grew = self._last_throughput is None or throughput >= self._last_throughput * (1.0 + self.min_gain)
        self._last_throughput = max(throughput, self._last_throughput or 0.0)
        if self.growing and grew:
            self._before_growth = self.limit
            return self._change(now, min(self.ceiling, self.limit * 2), "growing")
        if self.growing:
            # More shells brought no more throughput and no queueing: the bottleneck is elsewhere (client,
            # network); go back to what gave the same throughput.
            return self._change(now, self._before_growth or self.limit, "plateau", stop=True)
        # Steady: probe one more shell now and then, in case the server got faster or less busy.
        return self._change(now, min(self.ceiling, self.limit + 1), "probe")

    def _headroom(self, served):
        """Extra shells so that shells starting PowerShell do not leave the server's slots idle."""
        if self._startup is None or not self._batch_seconds:
            return 1
        return int(math.ceil(served * min(1.0, self._startup / self._batch_seconds))) + 1

    def _change(self, now, limit, reason, stop=False):
        limit = max(self.floor, min(self.ceiling, limit))
        if stop:
            self.growing = False
        if limit != self.limit:
            self.history.append((round(now, 3), limit, reason))
        settle = (self._startup or 0.0) if limit > self.limit else 0.0
        self.limit = limit
        self._reset_window(now, settle)
        return limit


class ArrivalClumps:
    """One batch's result lines turned into the controller's signal: each call's service time, robust to lines
    that arrive in clumps. A Receive answers with every line written since the last one (more of them when the
    worker pauses between Receives, session.py's receive_pause), so the gap between two lines is the whole
    wait for the first line of a clump and nothing for the others: read line by line, a window of near-zero
    gaps set the unqueued latency far too low and every later window looked queued (the controller stuck at
    4-8 shells at N = 10,000, docs/performance.md run 7). Here the lines of a clump (arrived within
    ``CLUMP_SECONDS`` of its first) count as arriving once, at the clump's time, and each of its calls served
    in the clump's gap divided by its size (one shell runs its calls one after another). Each line counts
    for throughput as it arrives; the service times follow when the clump is complete.

    The first clump's gap runs from the batch's start: a service time when the worker's PowerShell was already
    running (``first_is_service``), else it includes PowerShell's start and the module's import, and those
    calls count with an unknown latency."""

    def __init__(self, controller, started, first_is_service=False):
        self.controller = controller
        self._previous = started if first_is_service else None   # the last clump's time (None: unknown)
        self._clump_time = None
        self._size = 0

    def line(self, now, busy=False):
        if self._clump_time is not None and now - self._clump_time > CLUMP_SECONDS:
            self._close_clump(now)
        if self._clump_time is None:
            self._clump_time = now
        self._size += 1
        # Counted at once (throughput, busy answers); its service time once its clump is complete.
        self.controller.record_calls(now, [(None, busy)])

    def finish(self, now):
        """The batch ended at ``now``: its last clump is complete."""
        if self._size:
            self._close_clump(now)

    def _close_clump(self, now):
        at, size = self._clump_time, self._size
        self._clump_time, self._size = None, 0
        if self._previous is not None:
            self.controller.record_latencies(now, [max(0.0, at - self._previous) / size] * size)
        self._previous = at


def allowed_shells(max_shells_per_user):
    """Shells to run at once on a host that allows ``max_shells_per_user`` per account (None: not known): a sixth
    of its quota stays free for the account's other sessions (25 of WinRM 3.0's 30, 4 of WinRM 2.0's 5)."""
    if not max_shells_per_user:
        return MAX_PARALLEL_SHELLS
    return max(1, min(MAX_PARALLEL_SHELLS, max_shells_per_user - max(1, max_shells_per_user // 6)))


def _ewma(old, new, weight=0.3):
    return new if old is None else old + weight * (new - old)


def guided_batch_size(remaining, workers, batch_size, min_batch=MIN_BATCH):
    """Guided self-scheduling: a shell takes its share (remaining / shells) of what is left, at most
    ``batch_size`` and at least ``min_batch``: big batches while much work is left, smaller ones near the end
    so the shells finish together instead of one long batch running alone."""
    if remaining <= 0:
        return 0
    share = int(math.ceil(remaining / float(max(1, workers))))
    return max(1, min(batch_size, remaining, max(min(min_batch, batch_size), share)))


def staggered_batch_size(size, index, workers, min_batch=MIN_BATCH):
    """The first round's batches (``index`` < ``workers``) cut to between half and all of ``size``, spread
    evenly (van der Corput sequence): equal first batches end together, so every shell would come back for its
    next batch at the same moment, every round (with one PowerShell per batch, as before the workers, the pool
    then sat idle while they all started again); staggered ends keep the pool's slots evenly busy."""
    if index >= workers or workers <= 1 or size <= min_batch:
        return size
    fraction, digit, rest = 0.0, 0.5, index
    while rest:
        if rest & 1:
            fraction += digit
        rest >>= 1
        digit /= 2.0
    return max(min_batch, int(math.ceil(size * (0.5 + 0.5 * fraction))))


def is_busy_error(error):
    """The server said it could not serve the call now (its SQL back end, a quota, a 5xx)."""
    return bool(error is not None and error.transient)
