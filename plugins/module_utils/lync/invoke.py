# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Batches of cmdlet calls over one or several WinRM shells, with retries for transient faults only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import random
import threading
import time

from .envelope import (
    MAX_HOST_OUTPUT_LINES,
    CallResult,
    CmdletError,
    EnvelopeFatal,
    EnvelopeProtocolError,
    build_request,
    encode_request,
)
from .session import TransportFault, WinRMSession, error_from_fault

# WinRM 3.0's default MaxShellsPerUser is 30; leave room for an administrator's own sessions. A host that allows
# fewer (WinRM 2.0: 5, win32 WinRM/installation-and-configuration-for-windows-remote-management.md) gets fewer:
# see allowed_shells.
MAX_PARALLEL_SHELLS = 25
# Read-only calls get this many times connection_retries envelope re-sends (see RetryPolicy).
READ_ONLY_RETRY_FACTOR = 3
# Queue batches gather result lines between Receives for about two calls' time, at most this long, so each
# round trip brings several lines (controller CPU) while the journal stays at most a second behind.
MAX_RECEIVE_PAUSE = 1.0

# Lync Server 2013 cmdlets that accept -Credential (Microsoft's cmdlet catalog); only these get it when
# cmdlet_credential is on, since any other cmdlet would refuse the unknown parameter.
CMDLETS_WITH_CREDENTIAL = frozenset(name.lower() for name in (
    "Get-CsAdContact", "Get-CsAdPrincipal", "Get-CsAdUser", "Get-CsAnalogDevice", "Get-CsApplicationEndpoint",
    "Get-CsAudioTestServiceApplication", "Get-CsCommonAreaPhone", "Get-CsDialInConferencingAccessNumber",
    "Get-CsEffectivePolicy", "Get-CsExUmContact", "Get-CsHybridApplicationEndpoint", "Get-CsMeetingRoom",
    "Get-CsPersistentChatEndpoint", "Get-CsTrustedApplicationEndpoint", "Get-CsUser", "Get-CsUserAcp",
    "Move-CsLegacyUser", "Move-CsMeetingRoom", "Move-CsUser", "Set-CsTestUserCredential",
))


class RetryPolicy:
    """Exponential backoff with full jitter, bounded by ``cap`` seconds, at most ``retries`` re-sends. After a
    transport fault a read-only call may be re-sent up to ``read_only_retries`` times (default
    READ_ONLY_RETRY_FACTOR x ``retries``): repeating a read is harmless, and an envelope of many requests
    fails as a whole far more often than one request does."""

    def __init__(self, retries=3, base=0.5, cap=8.0, rng=None, sleep=None, read_only_retries=None):
        self.retries = retries
        self.read_only_retries = READ_ONLY_RETRY_FACTOR * retries if read_only_retries is None \
            else read_only_retries
        self.base = base
        self.cap = cap
        self._rng = rng or random.random
        self._sleep = sleep or time.sleep

    @property
    def max_attempts(self):
        return self.retries + 1

    def attempts_allowed(self, read_only=False):
        return (self.read_only_retries if read_only else self.retries) + 1

    def delay(self, attempt):
        """Seconds to wait after failed attempt number ``attempt`` (1-based): in [0, min(cap, base*2^(n-1))]."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return ceiling * self._rng()

    def wait(self, attempt):
        self._sleep(self.delay(attempt))

    def may_retry_transport(self, fault, attempt, read_only=False):
        return fault.transient and attempt < self.attempts_allowed(read_only)

    def may_retry_result(self, call, error, attempt):
        """A cmdlet error is re-sent automatically only when the server marked it transient and the call is
        read-only; a transient error on a change (Move-, Set-...) goes back to the caller, which knows how to
        re-read the state first."""
        return error.transient and call.read_only and attempt < self.max_attempts


def default_modules(calls):
    """Import the Lync module only when a Lync cmdlet is called (OCS servers have WMI only)."""
    for call in calls:
        if "-cs" in call.cmdlet.lower():
            return ("Lync",)
    return ()


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
        with self._lock:
            if self._window_start is None:
                self._window_start = now - (latency or 0.0)
            if now < self._window_start:
                return self.limit  # shells started at the last change are still starting PowerShell
            self._count += 1
            if busy:
                self._busy += 1
            elif latency is not None:
                self._latency_sum += latency
                self._latency_count += 1
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


def allowed_shells(max_shells_per_user):
    """Shells to run at once on a host that allows ``max_shells_per_user`` per account (None: not known): a sixth
    of its quota stays free for the account's other sessions (25 of WinRM 3.0's 30, 4 of WinRM 2.0's 5)."""
    if not max_shells_per_user:
        return MAX_PARALLEL_SHELLS
    return max(1, min(MAX_PARALLEL_SHELLS, max_shells_per_user - max(1, max_shells_per_user // 6)))


def _ewma(old, new, weight=0.3):
    return new if old is None else old + weight * (new - old)


def guided_batch_size(remaining, workers, batch_size, min_batch=25):
    """Guided self-scheduling: a shell takes its share (remaining / shells) of what is left, at most
    ``batch_size`` and at least ``min_batch`` (PowerShell's start is paid once per batch): big batches while
    much work is left, smaller ones near the end so the shells finish together instead of one long batch
    running alone."""
    if remaining <= 0:
        return 0
    share = int(math.ceil(remaining / float(max(1, workers))))
    return max(1, min(batch_size, remaining, max(min(min_batch, batch_size), share)))


def staggered_batch_size(size, index, workers, min_batch=25):
    """The first round's batches (``index`` < ``workers``) cut to between half and all of ``size``, spread
    evenly (van der Corput sequence): equal first batches end together, so every shell would start PowerShell
    again at the same moment, every round, leaving the pool idle meanwhile; staggered ends keep it busy."""
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


class _Worker:
    """One thread's session and shell; the shell is reused across batches and closed at the end."""

    def __init__(self, client):
        self.client = client
        self.session = client.session_factory(client.options)
        self.shell_id = None
        self.controller = None   # the AdaptiveConcurrency of run_queue(parallelism="auto"), told of quota faults
        self.call_seconds = None  # mean time per call in this worker's last batch

    def shell(self):
        if self.shell_id is None:
            self.shell_id = self.session.open_shell()
        return self.shell_id

    def drop_shell(self):
        if self.shell_id is not None:
            self.session.close_shell(self.shell_id)
            self.shell_id = None

    def close(self):
        self.drop_shell()
        close = getattr(self.session, "close", None)
        if close is not None:
            close()
        self.client.count_session(self.session)


class LyncClient:
    """Runs cmdlet calls on one Lync server. ``run_calls`` for one batch, ``run_queue`` for many, in
    parallel shells. Results come back in call order; ``on_result(call, result)`` fires as each final
    result is known (from the worker threads, serialised by a lock)."""

    def __init__(self, options, session_factory=None, policy=None):
        self.options = options
        self.session_factory = session_factory or WinRMSession
        self.policy = policy or RetryPolicy(retries=options.connection_retries)
        self._callback_lock = threading.RLock()
        self._local = None
        self.last_peak_shells = 0
        self._quota_source = None   # (ShellRegistry, key) once the host's quotas were asked for
        # WinRM requests re-sent inside the session (retries below connection_retries) and orphaned shells
        # deleted at MaxShellsPerUser, summed over the shells this client closed: for the module's report.
        self.request_retries = 0
        self.shells_reclaimed = 0
        # What PowerShell wrote besides the envelope's lines, over every closed session (see ResponseParser).
        self.host_output = []

    def close(self):
        if self._local is not None:
            self._local.close()
            self._local = None

    def shell_limit(self):
        """How many shells may run at once on this host: allowed_shells of its MaxShellsPerUser, read once from
        winrm/config (WinRMSession.read_quotas) and lowered when a MaxShellsPerUser fault shows it is less."""
        if self._quota_source is None:
            session = self._local.session if self._local is not None else self.session_factory(self.options)
            try:
                read = getattr(session, "read_quotas", None)
                if read is not None:
                    read()
            except Exception:  # the quotas only bound the parallelism: a host that cannot tell leaves the default
                pass
            finally:
                if self._local is None or session is not self._local.session:
                    close = getattr(session, "close", None)
                    if close is not None:
                        close()
                    self.count_session(session)
            self._quota_source = (getattr(session, "registry", None), getattr(session, "_registry_key", None))
        registry, key = self._quota_source
        return allowed_shells(registry.max_shells(key) if registry is not None else None)

    def count_session(self, session):
        with self._callback_lock:
            self.request_retries += getattr(session, "request_retries", 0)
            self.shells_reclaimed += getattr(session, "shells_reclaimed", 0)
            room = MAX_HOST_OUTPUT_LINES - len(self.host_output)
            if room > 0:
                self.host_output.extend(getattr(session, "host_output", [])[:room])

    def transport_stats(self):
        """Request-level re-sends and reclaimed shells so far: the closed shells' plus the open run_calls shell's."""
        session = self._local.session if self._local is not None else None
        with self._callback_lock:
            return {"request_retries": self.request_retries + getattr(session, "request_retries", 0),
                    "shells_reclaimed": self.shells_reclaimed + getattr(session, "shells_reclaimed", 0)}

    def run_calls(self, calls, on_result=None, modules=None):
        if not calls:
            return []
        if self._local is None:
            self._local = _Worker(self)
        return self._run_batch(self._local, list(calls), on_result, modules)

    def run_queue(self, calls, batch_size=100, parallelism="auto", on_result=None, modules=None,
                  controller=None, on_batch=None, min_batch=25, on_send=None):
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
        host_limit = self.shell_limit() if auto or parallelism > 1 or feed is not None else MAX_PARALLEL_SHELLS
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
                shells = min(shells, max(1, self.shell_limit() - feed.shells_elsewhere))
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
                worker = _Worker(self)
                while True:
                    # With auto, size batches for the most shells there may be: the limit is still growing.
                    span = take(lambda: controller.ceiling if auto else parallelism)
                    if span is None:
                        return
                    if on_send is not None:
                        with self._callback_lock:
                            on_send(calls[span[0]:span[1]])
                    self._run_timed(worker, calls, span, results, on_result, modules, controller if auto else None)
                    with cond:
                        state["done"] += span[1] - span[0]
                        stats = {"done": state["done"], "remaining": len(calls) - state["done"],
                                 "shells": state["active"], "limit": limit(), "batch": span[1] - span[0]}
                    if on_batch is not None:
                        with self._callback_lock:
                            on_batch(stats)
            except Exception as exc:  # surfaced to the caller, not lost in the thread
                with cond:
                    if state["failure"] is None:
                        state["failure"] = exc
                    state["active"] -= 1
                    cond.notify_all()
            finally:
                if worker is not None:
                    worker.close()

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
        self.last_peak_shells = state["peak"]
        failure = state["failure"]
        if failure is not None:
            raise failure
        return results

    def _run_timed(self, worker, calls, span, results, on_result, modules, controller):
        """One batch from the queue; feeds the controller each call's latency as its line arrives."""
        batch = calls[span[0]:span[1]]
        worker.controller = controller
        started = time.monotonic()
        marks = {"last": None, "first": None}

        def on_line(call, result):
            now = time.monotonic()
            if controller is not None:
                latency = None if marks["last"] is None else now - marks["last"]
                controller.record_call(now, latency, busy=not result.ok and is_busy_error(result.error))
            if marks["first"] is None:
                marks["first"] = now - started
                if controller is not None:
                    controller.record_startup(marks["first"])
            marks["last"] = now
            if on_result is not None:
                on_result(call, result)

        if worker.call_seconds is not None and hasattr(worker.session, "receive_pause"):
            worker.session.receive_pause = min(MAX_RECEIVE_PAUSE, 2.0 * worker.call_seconds)
        out = self._run_batch(worker, batch, on_line, modules)
        results[span[0]:span[1]] = out
        if marks["first"] is not None and len(batch) > 1:
            worker.call_seconds = (marks["last"] - started - marks["first"]) / (len(batch) - 1)
        if controller is not None and marks["first"] is not None:
            controller.record_batch(time.monotonic() - started)

    # -- one batch, with retries ---------------------------------------------------------------------
    def _emit(self, on_result, call, result):
        if on_result is not None:
            with self._callback_lock:
                on_result(call, result)

    def _run_batch(self, worker, calls, on_result, modules):
        if modules is None:
            modules = default_modules(calls)
        final = [None] * len(calls)
        attempts = [0] * len(calls)
        pending = list(range(len(calls)))
        attempt = 0
        while pending:
            attempt += 1
            sent = [calls[i] for i in pending]
            for i in pending:
                attempts[i] += 1
            position = list(pending)  # envelope call index -> batch index
            on_line = self._line_handler(calls, final, attempts, position, attempt, on_result)

            if self.options.cmdlet_credential:
                for call in sent:
                    if call.cmdlet.lower() in CMDLETS_WITH_CREDENTIAL:
                        call.pass_credential = True
            # The password travels only when some call in this request needs -Credential.
            credential = self.options.credential if any(c.pass_credential for c in sent) else None
            stdin = encode_request(build_request(sent, modules=modules, credential=credential))
            try:
                self._run_envelope(worker, sent, stdin, on_line)
            except TransportFault as fault:
                if fault.quota and worker.controller is not None:
                    # Too many shells for the server's per-user quota: fewer shells, as for a busy answer.
                    worker.controller.record_call(time.monotonic(), None, busy=True)
                if fault.quota or fault.phase in ("create", "command") or fault.sent:
                    # Quota faults need our shell gone; after a failure mid-command the shell state is unknown.
                    worker.drop_shell()
                self._settle_unanswered(calls, final, attempts, position, fault, attempt, on_result)
            except EnvelopeProtocolError as exc:
                worker.drop_shell()
                fault = TransportFault(exc.message, transient=exc.transient, sent=True, phase="receive",
                                       out_of_memory=exc.out_of_memory)
                self._settle_unanswered(calls, final, attempts, position, fault, attempt, on_result)
            except EnvelopeFatal as fatal:
                for i in position:
                    if final[i] is None:
                        error = fatal.error
                        if error.transient and attempt < self.policy.max_attempts:
                            continue
                        final[i] = CallResult(calls[i], False, error=error, attempts=attempts[i])
                        self._emit(on_result, calls[i], final[i])
            pending = [i for i in range(len(calls)) if final[i] is None]
            if pending:
                self.policy.wait(attempt)
        return final

    @staticmethod
    def _run_envelope(worker, sent, stdin, on_line):
        """One envelope on the worker's shell. A shell the server deleted (its IdleTimeout passed while the worker
        waited between batches: 180 s on WinRM 2.0) refuses the Command before anything starts, so the batch goes
        at once to a new shell, without counting as a failed attempt."""
        try:
            worker.session.run_envelope(worker.shell(), sent, stdin, on_line)
        except TransportFault as fault:
            if not (getattr(fault, "shell_lost", False) and fault.phase == "command"):
                raise
            worker.drop_shell()
            worker.session.run_envelope(worker.shell(), sent, stdin, on_line)

    def _line_handler(self, calls, final, attempts, position, this_attempt, on_result):
        """The handler of one attempt's result lines (bound to that attempt's positions)."""

        def on_line(index, result):
            batch_index = position[index]
            call = calls[batch_index]
            result.attempts = attempts[batch_index]
            if result.ok or not self.policy.may_retry_result(call, result.error, this_attempt):
                final[batch_index] = result
                self._emit(on_result, call, result)

        return on_line

    def _settle_unanswered(self, calls, final, attempts, position, fault, attempt, on_result):
        """Calls that got no answer: retry when safe and allowed, else record the fault as their error."""
        for i in position:
            if final[i] is not None:
                continue
            call = calls[i]
            unknown = fault.sent and not call.read_only
            if not unknown and self.policy.may_retry_transport(fault, attempt, read_only=call.read_only):
                continue  # re-sent on the next attempt
            final[i] = CallResult(call, False, error=error_from_fault(fault, outcome_unknown=unknown),
                                  attempts=attempts[i])
            self._emit(on_result, call, final[i])


__all__ = ["LyncClient", "RetryPolicy", "AdaptiveConcurrency", "CallFeed", "guided_batch_size", "MAX_PARALLEL_SHELLS",
           "allowed_shells", "CmdletError", "CallResult"]
