# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning and moving in one pass (moves.one_pass_applies says when): moves start while later identities are
still being read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from .identity import split_identities
from .batch_queue import CallFeed
from .client import LyncClient
from .concurrency import MAX_PARALLEL_SHELLS, AdaptiveConcurrency
from .move_apply import apply_moves
from .moves import (READ_FAILED, check_target, error_of, journal_settled, lookup_error, malformed_error, move_call,
                    new_entry, plan_user, read_parallelism, resolved_addresses)
from .progress import Progress
from .users import READ_MIN_BATCH, classify_lookup, pool_facts, pools_call, user_lookup_call


class PlanStopped(Exception):
    """The plan cannot go on: Get-CsPool failed (``error``, a CmdletError) or the target is refused
    (``message``). Raised before any move was queued."""

    def __init__(self, message=None, error=None):
        super(PlanStopped, self).__init__(message or (error.message if error is not None else ""))
        self.message = message
        self.error = error


def plan_and_move(module, params, tuning, journal, started, earlier):
    """A few shells read Get-CsPool and each identity; each user's move joins the move queue (a CallFeed) as soon
    as the user is read and planned, and the move shells start on it at once. Users that will not move
    (unchanged, skipped) are journalled as soon as they are known. Returns (entries in input order, target
    pool, performance). Fails the task, before any move, when Get-CsPool fails or the target is not a Registrar
    pool."""
    good, malformed = split_identities(params["identities"])
    read_shells = min(read_parallelism(params), tuning.one_pass_read_shells)
    feed = CallFeed(expected=len(good), shells_elsewhere=read_shells)
    lock = threading.RLock()   # the reads' and the moves' results arrive on different shells' threads
    known = {}
    plan = {"pools": None, "target": None, "early": [], "stop": None, "seconds": None}
    progress = Progress(len(good), params["target_pool"])

    def settle(entry, counted=True):
        """A user that will not move, recorded now."""
        known[entry["identity"]] = entry
        if counted:
            progress.total -= 1
        journal_settled(journal, entry, earlier)

    def plan_read(identity, result):
        kind, detail = classify_lookup(result)
        if kind == "found":
            entry = plan_user(identity, detail, plan["pools"], plan["target"])
        else:
            entry = new_entry(identity, plan["target"]["fqdn"], error=lookup_error(identity, kind, detail))
        if kind == "error":
            entry["outcome"] = READ_FAILED   # not journalled: nothing was sent, nothing is settled
            known[identity] = entry
            progress.total -= 1
            return
        if entry["error"] is not None:
            entry["outcome"] = "skipped"
        if entry["outcome"] is not None:
            settle(entry)
            return
        known[identity] = entry
        feed.add(move_call(entry, params))

    def on_read(call, result):
        with lock:
            if call.cmdlet == "Get-CsPool":
                if not result.ok:
                    raise PlanStopped(error=result.error)
                pools = [pool_facts(o) for o in result.objects]
                target, problem = check_target(pools, params["target_pool"])
                if problem:
                    raise PlanStopped(message=problem)
                plan["pools"], plan["target"] = pools, target
                for item in malformed:
                    settle(new_entry(item["identity"], target["fqdn"], outcome="skipped", error=malformed_error(item)),
                           counted=False)
                for identity, early in plan["early"]:
                    plan_read(identity, early)
                plan["early"] = []
            elif plan["pools"] is None:
                plan["early"].append((call.id, result))   # read before Get-CsPool answered
            else:
                plan_read(call.id, result)

    keys = resolved_addresses(params)
    reads = [pools_call()] + [user_lookup_call(identity, keys.get(identity)) for identity in good]
    reader_client = LyncClient(module.connection, session_factory=type(module).session_factory)
    # With auto, the moves' controller grows within the shells the reads leave, and again once they end.
    controller = AdaptiveConcurrency(ceiling=MAX_PARALLEL_SHELLS - read_shells) \
        if params["parallelism"] == "auto" else None
    # The first move shells start PowerShell and import the module while the reads run (a request of no calls:
    # nothing moves before its user is read and planned); the reads' workers join them when the reads end.
    first_move_shells = controller.limit if controller is not None else params["parallelism"]
    module.client.warm_up(min(first_move_shells, module.client.shell_limit() - read_shells))

    def read_all():
        try:
            reader_client.run_queue(reads, batch_size=params["batch_size"], parallelism=read_shells,
                                    min_batch=READ_MIN_BATCH, on_result=on_read)
        except Exception as exc:  # pylint: disable=broad-except  # handed to the module's thread below
            plan["stop"] = exc
        finally:
            plan["seconds"] = round(time.monotonic() - started, 1)
            reader_client.hand_over_workers(module.client)
            reader_client.close()
            feed.close()
            if controller is not None:
                controller.raise_ceiling(MAX_PARALLEL_SHELLS)

    reader = threading.Thread(target=read_all, name="lync-plan")
    reader.start()
    try:
        performance = apply_moves(module, params, [], tuning, journal, progress=progress, feed=feed, lock=lock,
                                  controller=controller)
    finally:
        reader.join()
        progress.close()
    stop = plan["stop"]
    if isinstance(stop, PlanStopped) and stop.error is not None:
        module.fail_json_from_error(stop.error, cmdlet="Get-CsPool")
    if isinstance(stop, PlanStopped):
        module.fail_json(msg=stop.message)
    target_fqdn = plan["target"]["fqdn"] if plan["target"] else params["target_pool"]
    for identity in good:
        if identity not in known:   # the reads stopped early (e.g. the connection was lost for good)
            known[identity] = new_entry(identity, target_fqdn, outcome="failed",
                                        error=error_of("user %s was not read: %s" % (identity, stop)))
    entries, seen = [], set()
    for identity in params["identities"]:
        if identity not in seen and identity in known:   # else a case-insensitive duplicate, folded
            seen.add(identity)
            entries.append(known[identity])
    final = progress.line()
    performance.update(seconds=final["seconds"], moved_per_second=final["per_second"], plan_seconds=plan["seconds"],
                       one_pass=True)
    return entries, plan["target"] or {"fqdn": target_fqdn}, performance
