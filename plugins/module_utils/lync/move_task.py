# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cs_user_move task: check the options, lock and read the wave's journal, plan and move (in two passes, or
in one: moves.one_pass_applies), then the result, the results file and the failure message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from .journal import JournalInUse, MoveJournal, earlier_runs
from .move_apply import apply_moves
from .move_one_pass import plan_and_move
from .moves import (DEFAULT_TUNING, account_for_earlier_runs, check_options, journal_settled, listed_results,
                    one_pass_applies, plan_moves, summarize, write_results_file)
from .progress import Progress


def move_users(module, tuning=DEFAULT_TUNING):
    """The task's result once every user has an outcome; fails the task through ``module`` otherwise."""
    started = time.monotonic()
    params = module.params
    problem = check_options(params)
    if problem:
        module.fail_json(msg="option %s: %s" % problem)
    earlier = read_earlier_runs(module)
    journal = open_journal(module)
    try:
        if one_pass_applies(params["on_invalid"], module.check_mode, len(params["identities"]), tuning):
            result = plan_and_move(module, params, tuning, journal, started, earlier)
        else:
            result = plan_then_move(module, params, tuning, journal, started, earlier)
    finally:
        if journal is not None:
            journal.close()
    return finish(module, *result)


def plan_then_move(module, params, tuning, journal, started, earlier):
    """Plan every user, then move: (entries, target, performance). Fails the task before any move when an
    identity is refused and on_invalid=fail."""
    entries, refused, target = plan_moves(module, params, tuning)
    if journal is None:
        for entry in entries:
            account_for_earlier_runs(entry, earlier)   # check mode: reported, nothing written
    if refused and params["on_invalid"] == "fail":
        lines = ["%s: %s" % (e["identity"], e["error"]["message"]) for e in refused]
        for entry in entries:
            entry["outcome"] = "failed" if entry["error"] else "unchanged" if entry["outcome"] == "unchanged" \
                else "would_move"
        save_results(module, entries)
        module.fail_json(msg="%d of %d users cannot be moved to %s; nothing was moved (fix them, or set "
                             "on_invalid=skip to move the others): %s"
                             % (len(refused), len(entries), target["fqdn"], "; ".join(lines)),
                         results=listed_results(entries, params["results"]), summary=summarize(entries))
    for entry in refused:
        entry["outcome"] = "skipped"
    if journal is not None:
        for entry in entries:
            if entry["outcome"] in ("unchanged", "skipped"):
                journal_settled(journal, entry, earlier)
    if module.check_mode:
        for entry in entries:
            if entry["outcome"] is None:
                entry["outcome"] = "would_move"
        return entries, target, None
    progress = Progress(sum(1 for e in entries if e["outcome"] is None and e["cmdlet"]), target["fqdn"])
    try:
        performance = apply_moves(module, params, entries, tuning, journal, progress=progress)
    finally:
        progress.close()
    final = progress.line()
    performance.update(seconds=final["seconds"], moved_per_second=final["per_second"],
                       plan_seconds=round(progress.started - started, 1), one_pass=False)
    return entries, target, performance


def read_earlier_runs(module):
    """The wave's journal as earlier runs left it (read in check mode too: the plan reports their moves)."""
    try:
        return earlier_runs(module.params["journal"])
    except (IOError, OSError, UnicodeDecodeError) as exc:
        module.fail_json(msg="option journal: cannot read %s: %s" % (module.params["journal"], exc))


def open_journal(module):
    """The wave's journal, locked for this run (before any read: a second run of the wave stops at once)."""
    if not module.params["journal"] or module.check_mode:
        return None
    try:
        return MoveJournal(module.params["journal"])
    except JournalInUse as exc:
        module.fail_json(msg="option journal: %s" % exc)
    except (IOError, OSError) as exc:
        module.fail_json(msg="option journal: cannot open %s for appending: %s" % (module.params["journal"], exc))


def save_results(module, entries):
    if module.params["results_file"]:
        try:
            write_results_file(module.params["results_file"], entries)
        except (IOError, OSError) as exc:
            module.fail_json(msg="option results_file: cannot write %s: %s" % (module.params["results_file"], exc),
                             summary=summarize(entries))


def lean_invocation(module, result):
    """With a lean result, the echo of the module's arguments (shown at -vvv) gives the number of identities,
    not the identities: a copy of a 50,000-name list would cost more than the rest of the result."""
    if module.params["results"] != "all":
        args = dict(module.params)
        args["identities"] = "(%d identities)" % len(module.params["identities"])
        if args.get("users"):
            args["users"] = "(%d users)" % len(module.params["users"])
        result["invocation"] = {"module_args": args}


def finish(module, entries, target, performance):
    """The task's result (or failure) once every user has an outcome."""
    save_results(module, entries)
    summary = summarize(entries)
    result = dict(changed=bool(summary["moved"] or summary["would_move"]),
                  results=listed_results(entries, module.params["results"]), summary=summary)
    if performance is not None:
        # WinRM requests re-sent and orphaned shells deleted below the per-user attempts: faults the run survived
        performance.update(module.client.transport_stats())
        result["performance"] = performance
    lean_invocation(module, result)
    if module._diff:
        result["diff"] = {
            "before": dict((e["identity"], e["from"]) for e in entries),
            "after": dict((e["identity"], e["to"] if e["outcome"] in ("moved", "would_move", "unchanged")
                           else e["from"]) for e in entries),
        }
    if summary["failed"]:
        module.fail_json(msg="%d of %d users failed to move to %s; see results (or results_file) for "
                             "each user's error"
                             % (summary["failed"], summary["total"], target["fqdn"]), **result)
    return result
