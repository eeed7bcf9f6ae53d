# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""LyncClient: cmdlet calls on one Lync server, one batch at a time on a worker's shell, with the request
retries of retry.py; run_queue (batch_queue.py) runs many batches on parallel shells."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from .batch_queue import run_queue
from .concurrency import DEFAULT_BATCH_SIZE, MIN_BATCH, allowed_shells
from .envelope import build_request, encode_request
from .response import MAX_HOST_OUTPUT_LINES, CallResult, EnvelopeFatal, EnvelopeProtocolError
from .retry import RetryPolicy
from .session import WinRMSession
from .transport_errors import TransportFault, error_from_fault

# Lync Server 2013 cmdlets that accept -Credential (Microsoft's cmdlet catalog); only these get it when
# cmdlet_credential is on, since any other cmdlet would refuse the unknown parameter.
CMDLETS_WITH_CREDENTIAL = frozenset(name.lower() for name in (
    "Get-CsAdContact", "Get-CsAdPrincipal", "Get-CsAdUser", "Get-CsAnalogDevice", "Get-CsApplicationEndpoint",
    "Get-CsAudioTestServiceApplication", "Get-CsCommonAreaPhone", "Get-CsDialInConferencingAccessNumber",
    "Get-CsEffectivePolicy", "Get-CsExUmContact", "Get-CsHybridApplicationEndpoint", "Get-CsMeetingRoom",
    "Get-CsPersistentChatEndpoint", "Get-CsTrustedApplicationEndpoint", "Get-CsUser", "Get-CsUserAcp",
    "Move-CsLegacyUser", "Move-CsMeetingRoom", "Move-CsUser", "Set-CsTestUserCredential",
))


def default_modules(calls):
    """Import the Lync module only when a Lync cmdlet is called (OCS servers have WMI only)."""
    for call in calls:
        if "-cs" in call.cmdlet.lower():
            return ("Lync",)
    return ()


class Worker:
    """One session and its shell, whose worker process (session.WinRMSession) answers batch after batch: run_calls'
    own, or one thread's of run_queue, handed back to the client between queues and closed with the client."""

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
        self.callback_lock = threading.RLock()
        self._local = None
        self.last_peak_shells = 0
        self._quota_source = None   # (ShellRegistry, key) once the host's quotas were asked for
        # WinRM requests re-sent inside the session (retries below connection_retries) and orphaned shells
        # deleted at MaxShellsPerUser, summed over the shells this client closed: for the module's report.
        self.request_retries = 0
        self.shells_reclaimed = 0
        # PowerShell processes started and requests answered, summed over the closed sessions.
        self.worker_starts = 0
        self.requests_served = 0
        # What PowerShell wrote besides the envelope's lines, over every closed session (see ResponseParser).
        self.host_output = []
        # Workers whose shell and PowerShell wait for the task's next queue (release_worker).
        self._idle = []
        self._idle_lock = threading.Lock()

    def close(self):
        """Close every worker: its process stopped, its shell deleted."""
        if self._local is not None:
            self._local.close()
            self._local = None
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()

    def take_worker(self):
        """A worker for a queue's thread: one waiting since an earlier queue of this task, else a new one."""
        with self._idle_lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            return Worker(self)
        # What it learnt of its last queue's calls does not hold for this one's: a Receive pause sized for slow
        # reads brings a move queue's lines in clumps, which the controller reads as calls taking no time and
        # then as queueing (docs/performance.md, run 7).
        worker.call_seconds = None
        if hasattr(worker.session, "receive_pause"):
            worker.session.receive_pause = 0.0
        return worker

    def warm_up(self, count, modules=("Lync",)):
        """Start ``count`` workers now, in the background, for a queue that has not started yet: each opens its
        shell and answers a request of no calls, so PowerShell starts and imports ``modules`` meanwhile (nothing
        else runs on the server), then waits in the pool for take_worker. Returns a function that waits for
        them. A worker that cannot start is dropped quietly: the queue that needs one starts it again."""
        threads = []
        for index in range(max(0, int(count))):
            thread = threading.Thread(target=self._warm_one, args=(tuple(modules),), name="lync-warm-%d" % index)
            thread.daemon = True
            thread.start()
            threads.append(thread)

        def wait():
            for thread in threads:
                thread.join()
        return wait

    def _warm_one(self, modules):
        worker = Worker(self)
        try:
            worker.session.run_envelope(worker.shell(), [], encode_request(build_request([], modules=modules)))
        except Exception:  # pylint: disable=broad-except  # best effort; the queue starts its own worker
            worker.close()
            return
        self.release_worker(worker)

    def hand_over_workers(self, other):
        """Give this client's waiting workers to ``other`` (a client of the same connection), whose queues then
        take them with PowerShell started and the module imported."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        with other._idle_lock:  # pylint: disable=protected-access  # the same class
            other._idle.extend(idle)  # pylint: disable=protected-access

    def release_worker(self, worker):
        """A queue's thread is done: its worker waits for the next queue (at most as many as ran at once)."""
        if worker.shell_id is None:
            worker.close()
            return
        with self._idle_lock:
            self._idle.append(worker)

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
        with self.callback_lock:
            self.request_retries += getattr(session, "request_retries", 0)
            self.shells_reclaimed += getattr(session, "shells_reclaimed", 0)
            self.worker_starts += getattr(session, "worker_starts", 0)
            self.requests_served += getattr(session, "requests_served", 0)
            room = MAX_HOST_OUTPUT_LINES - len(self.host_output)
            if room > 0:
                self.host_output.extend(getattr(session, "host_output", [])[:room])

    def transport_stats(self):
        """Request-level re-sends and reclaimed shells so far: the closed shells' plus the open run_calls shell's."""
        with self._idle_lock:
            open_sessions = [w.session for w in self._idle + ([self._local] if self._local is not None else [])]
        with self.callback_lock:
            return {"request_retries": self.request_retries + sum(getattr(s, "request_retries", 0)
                                                                  for s in open_sessions),
                    "shells_reclaimed": self.shells_reclaimed + sum(getattr(s, "shells_reclaimed", 0)
                                                                    for s in open_sessions)}

    def worker_stats(self):
        """PowerShell processes started and requests they answered, over every session of this client so far."""
        with self._idle_lock:
            open_sessions = [w.session for w in self._idle + ([self._local] if self._local is not None else [])]
        with self.callback_lock:
            return {"worker_starts": self.worker_starts + sum(getattr(s, "worker_starts", 0) for s in open_sessions),
                    "requests": self.requests_served + sum(getattr(s, "requests_served", 0) for s in open_sessions)}

    def run_calls(self, calls, on_result=None, modules=None):
        if not calls:
            return []
        if self._local is None:
            self._local = self.take_worker()
        return self.run_batch(self._local, list(calls), on_result, modules)

    def run_queue(self, calls, batch_size=DEFAULT_BATCH_SIZE, parallelism="auto", on_result=None, modules=None,
                  controller=None, on_batch=None, min_batch=MIN_BATCH, on_send=None):
        """Run ``calls`` in batches cut on demand from one queue by up to ``parallelism`` shells at once
        (batch_queue.run_queue says how)."""
        return run_queue(self, calls, batch_size=batch_size, parallelism=parallelism, on_result=on_result,
                         modules=modules, controller=controller, on_batch=on_batch, min_batch=min_batch,
                         on_send=on_send)

    # -- one batch, with retries ---------------------------------------------------------------------
    def _emit(self, on_result, call, result):
        if on_result is not None:
            with self.callback_lock:
                on_result(call, result)

    def run_batch(self, worker, calls, on_result, modules):
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
