# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Batches of cmdlet calls over one or several WinRM shells, with retries for transient faults only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import threading
import time

from .envelope import (
    CallResult,
    CmdletError,
    EnvelopeFatal,
    EnvelopeProtocolError,
    build_request,
    encode_request,
)
from .session import TransportFault, WinRMSession, error_from_fault

# WinRM's default MaxShellsPerUser is 30; leave room for an administrator's own sessions.
MAX_PARALLEL_SHELLS = 25

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
    """Exponential backoff with full jitter, bounded by ``cap`` seconds, at most ``retries`` re-sends."""

    def __init__(self, retries=3, base=0.5, cap=8.0, rng=None, sleep=None):
        self.retries = retries
        self.base = base
        self.cap = cap
        self._rng = rng or random.random
        self._sleep = sleep or time.sleep

    @property
    def max_attempts(self):
        return self.retries + 1

    def delay(self, attempt):
        """Seconds to wait after failed attempt number ``attempt`` (1-based): in [0, min(cap, base*2^(n-1))]."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return ceiling * self._rng()

    def wait(self, attempt):
        self._sleep(self.delay(attempt))

    def may_retry_transport(self, fault, attempt):
        return fault.transient and attempt < self.max_attempts

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


class _Worker:
    """One thread's session and shell; the shell is reused across batches and closed at the end."""

    def __init__(self, client):
        self.session = client.session_factory(client.options)
        self.shell_id = None

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


class LyncClient:
    """Runs cmdlet calls on one Lync server. ``run_calls`` for one batch, ``run_batches`` for many, in
    parallel shells. Results come back in call order; ``on_result(call, result)`` fires as each final
    result is known (from the worker threads, serialised by a lock)."""

    def __init__(self, options, session_factory=None, policy=None):
        self.options = options
        self.session_factory = session_factory or WinRMSession
        self.policy = policy or RetryPolicy(retries=options.connection_retries)
        self._callback_lock = threading.Lock()
        self._local = None

    def close(self):
        if self._local is not None:
            self._local.close()
            self._local = None

    def run_calls(self, calls, on_result=None, modules=None):
        if not calls:
            return []
        if self._local is None:
            self._local = _Worker(self)
        return self._run_batch(self._local, list(calls), on_result, modules)

    def run_batches(self, batches, parallelism=1, on_result=None, modules=None):
        batches = [list(b) for b in batches if b]
        if not batches:
            return []
        parallelism = max(1, min(int(parallelism), MAX_PARALLEL_SHELLS, len(batches)))
        if parallelism == 1:
            return [self.run_calls(b, on_result, modules) for b in batches]
        outputs = [None] * len(batches)
        next_index = [0]
        index_lock = threading.Lock()
        failures = []

        def work():
            worker = _Worker(self)
            try:
                while True:
                    with index_lock:
                        if next_index[0] >= len(batches):
                            return
                        mine = next_index[0]
                        next_index[0] += 1
                    outputs[mine] = self._run_batch(worker, batches[mine], on_result, modules)
            except Exception as exc:  # surfaced to the caller below, not lost in the thread
                failures.append(exc)
            finally:
                worker.close()

        threads = [threading.Thread(target=work, name="lync-shell-%d" % i) for i in range(parallelism)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        return outputs

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
            this_attempt = attempt

            def on_line(index, result, position=position, this_attempt=this_attempt):
                batch_index = position[index]
                call = calls[batch_index]
                result.attempts = attempts[batch_index]
                if result.ok or not self.policy.may_retry_result(call, result.error, this_attempt):
                    final[batch_index] = result
                    self._emit(on_result, call, result)

            if self.options.cmdlet_credential:
                for call in sent:
                    if call.cmdlet.lower() in CMDLETS_WITH_CREDENTIAL:
                        call.pass_credential = True
            # The password travels only when some call in this request needs -Credential.
            credential = self.options.credential if any(c.pass_credential for c in sent) else None
            stdin = encode_request(build_request(sent, modules=modules, credential=credential))
            try:
                worker.session.run_envelope(worker.shell(), sent, stdin, on_line)
            except TransportFault as fault:
                if fault.quota or fault.phase in ("create", "command") or fault.sent:
                    # Quota faults need our shell gone; after a failure mid-command the shell state is unknown.
                    worker.drop_shell()
                self._settle_unanswered(calls, final, attempts, position, fault, attempt, on_result)
            except EnvelopeProtocolError as exc:
                worker.drop_shell()
                fault = TransportFault(exc.message, transient=True, sent=True, phase="receive")
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

    def _settle_unanswered(self, calls, final, attempts, position, fault, attempt, on_result):
        """Calls that got no answer: retry when safe and allowed, else record the fault as their error."""
        for i in position:
            if final[i] is not None:
                continue
            call = calls[i]
            unknown = fault.sent and not call.read_only
            if not unknown and self.policy.may_retry_transport(fault, attempt):
                continue  # re-sent on the next attempt
            final[i] = CallResult(call, False, error=error_from_fault(fault, outcome_unknown=unknown),
                                  attempts=attempts[i])
            self._emit(on_result, call, final[i])


def single(client, cmdlet, params=None, select=None):
    """Run one call and return its CallResult (convenience for modules with one read)."""
    from .envelope import Call

    return client.run_calls([Call(cmdlet, params, select)])[0]


__all__ = ["LyncClient", "RetryPolicy", "MAX_PARALLEL_SHELLS", "CmdletError", "CallResult", "single"]
