# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the collection retries: three layers, each with one job, and one backoff (``backoff_delay``) for all.

1. **Transport step retry** (transport.WinRMTransport._request): one WinRM request that is safe to repeat is
   sent again after a transient fault, at most REQUEST_RETRIES times: a Create the server refused, a Receive
   polled again on the same command (the worker then gets no further request: a lost answer may have taken its
   done line), a Signal or Delete (idempotent), the Command of a read-only request, the Get of the host's quotas.
   A Command of a write request and every Send are never repeated here (a Send repeated to a worker, which reads
   request after request, would run a whole request twice): they go up as faults, and the worker is replaced.
   Base REQUEST_RETRY_BASE, cap REQUEST_RETRY_CAP.
2. **Request retry** (client.LyncClient.run_batch, ``RetryPolicy``): a request whose calls got no answer, or a
   transient error (the server's SQL back end busy), is sent again on a worker (a new one if the old one died),
   at most connection_retries times (read-only calls READ_ONLY_RETRY_FACTOR times as often). Only calls that are
   safe to repeat: a change (Move-, Set-...) whose outcome is unknown is never re-sent here; it goes back to the
   caller with ``outcome_unknown``. Base 0.5 s, cap 8 s.
3. **Re-read before retry** (move_apply.reread_before_retry, the moves engine): a move whose outcome is unknown
   or that failed transiently is re-read (Get-CsUser) before it is sent again: moved already, still on its
   source pool (moved in the next round, after the client's RetryPolicy wait), or changed by someone else (not
   retried). At most connection_retries rounds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

# Layer 1: re-sends of one WinRM request that is safe to repeat. Fixed and small; connection_retries counts whole
# requests on top of this.
REQUEST_RETRIES = 4
REQUEST_RETRY_BASE = 0.1
REQUEST_RETRY_CAP = 2.0
# Layer 2: read-only calls get this many times connection_retries request re-sends (see RetryPolicy).
READ_ONLY_RETRY_FACTOR = 3


def backoff_delay(attempt, base, cap, rng=random.random):
    """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential backoff with full jitter,
    uniformly in [0, min(cap, base * 2^(attempt-1))], so that shells failing together do not retry together."""
    return min(cap, base * (2 ** (attempt - 1))) * rng()


class RetryPolicy:
    """Layer 2 (see the module's docstring): at most ``retries`` re-sends of a request's unanswered calls, waiting
    ``backoff_delay`` (base ``base``, cap ``cap``) between. After a transport fault a read-only call may be re-sent
    up to ``read_only_retries`` times (default READ_ONLY_RETRY_FACTOR x ``retries``): repeating a read is
    harmless, and a request of many calls fails as a whole far more often than one call does."""

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
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return backoff_delay(attempt, self.base, self.cap, self._rng)

    def wait(self, attempt):
        self._sleep(self.delay(attempt))

    def may_retry_transport(self, fault, attempt, read_only=False):
        return fault.transient and attempt < self.attempts_allowed(read_only)

    def may_retry_result(self, call, error, attempt):
        """A cmdlet error is re-sent automatically only when the server marked it transient and the call is
        read-only; a transient error on a change (Move-, Set-...) goes back to the caller, which knows how to
        re-read the state first (layer 3)."""
        return error.transient and call.read_only and attempt < self.max_attempts
