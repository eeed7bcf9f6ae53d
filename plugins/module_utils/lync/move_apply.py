# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running planned moves: rounds of Move-CsLegacyUser/Move-CsUser calls through LyncClient.run_queue, each batch
journalled as sent before it leaves, every user's outcome journalled when known. A user whose move may or may
not have happened (a transient fault, a lost answer) is re-read before it is sent again, so nobody is moved
twice; a user whose move the server refused is re-read too, and is unchanged if already on the target.

A move is never re-sent blindly: where session.py re-sends WinRM requests that are safe to repeat and client.py
re-runs read-only calls (RetryPolicy), a move whose outcome is unknown comes back here and is retried in the next
round only after the re-read, at most connection_retries times, with the client's RetryPolicy wait between (the
three layers: retry.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from .concurrency import MAX_PARALLEL_SHELLS, AdaptiveConcurrency
from .identity import same_fqdn
from .moves import error_of, move_call, read_users


def apply_moves(module, params, entries, tuning, journal=None, progress=None, feed=None, lock=None,
                controller=None):
    """Run the planned moves; sets outcome/error/attempts on each entry. Returns performance facts. With
    ``feed`` (a CallFeed whose calls carry their entry as ``id``), the first round runs the moves as the plan
    adds them; ``lock`` serialises the results with the plan's own records."""
    retries = module.connection.connection_retries
    if params["parallelism"] != "auto":
        controller = None
    elif controller is None:
        controller = AdaptiveConcurrency(ceiling=MAX_PARALLEL_SHELLS)
    peak = [0]

    def record(entry):
        if progress is not None:
            progress.user_done(entry["outcome"])
        if journal is not None:
            journal.record_entry(entry)

    def sent(calls):
        # Write-ahead: the batch's users are journalled as sent before the batch leaves (journal.py).
        journal.record_sent([call.id for call in calls])

    guard = lock or threading.RLock()
    pending = [e for e in entries if e["cmdlet"] and e["outcome"] is None]
    round_number = 0
    while pending or (round_number == 0 and feed is not None):
        round_number += 1
        retry, refused = [], []
        calls = feed if round_number == 1 and feed is not None else []
        for entry in pending:
            calls.append(move_call(entry, params))

        def on_result(call, result):
            with guard:
                entry = call.id
                entry["attempts"] += result.attempts
                if result.ok:
                    entry["outcome"], entry["error"] = "moved", None
                    record(entry)
                    return
                entry["error"] = result.error.to_dict()
                if (result.error.transient or result.error.outcome_unknown) and round_number <= retries:
                    retry.append(entry)
                else:
                    refused.append(entry)

        module.client.run_queue(calls, batch_size=params["batch_size"], parallelism=params["parallelism"],
                                on_result=on_result, controller=controller,
                                on_batch=progress.batch_done if progress is not None else None,
                                on_send=sent if journal is not None else None)
        peak[0] = max(peak[0], module.client.last_peak_shells)
        if refused:
            confirm_refused(module, params, tuning, refused, record)
        if not retry:
            break
        module.client.policy.wait(round_number)
        pending = reread_before_retry(module, params, tuning, retry, record)
    performance = {"peak_shells": peak[0], "parallelism": params["parallelism"]}
    if controller is not None:
        performance["limit_changes"] = [list(change) for change in controller.history]
    return performance


def confirm_refused(module, params, tuning, entries, record):
    """Re-read the users whose move the server refused: one already on the target (moved by hand, or by a run of
    an overlapping wave, between the plan and the move) is unchanged, not failed; the others fail with the
    server's error. Matching the pool, not the error's text, works in every language the server speaks."""
    identities = [e["sip_address"] or e["identity"] for e in entries]
    found = read_users(module, identities, params, tuning)[0]
    for entry, key in zip(entries, identities):
        obj = found.get(key)
        if obj is not None and same_fqdn(obj.get("RegistrarPool"), entry["to"]):
            entry["note"] = "already on %s when its move was sent (the server answered: %s)" % (
                entry["to"], entry["error"]["message"])
            entry["outcome"], entry["error"] = "unchanged", None
        else:
            entry["outcome"] = "failed"
        record(entry)


def reread_before_retry(module, params, tuning, entries, record):
    """Re-read the pool of users whose move may or may not have happened; returns those still to move."""
    identities = [e["sip_address"] or e["identity"] for e in entries]
    found = read_users(module, identities, params, tuning)[0]
    still = []
    for entry, key in zip(entries, identities):
        obj = found.get(key)
        if obj is None:
            entry["outcome"] = "failed"
            entry["error"] = entry["error"] or error_of("user could not be re-read before retrying")
            record(entry)
            continue
        pool = obj.get("RegistrarPool")
        if same_fqdn(pool, entry["to"]):
            entry["outcome"], entry["error"] = "moved", None  # the earlier attempt did move the user
            record(entry)
        elif same_fqdn(pool, entry["from"]):
            still.append(entry)
        else:
            entry["outcome"] = "failed"
            entry["error"] = error_of("user's Registrar pool changed to %s during the move; not retried" % pool,
                                      "InvalidOperation")
            record(entry)
    return still
