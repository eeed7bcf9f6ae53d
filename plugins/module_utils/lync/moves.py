# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moving users, the plan: the entry each user gets, the checks of the options and the target pool, the plan
of each user, the move call, and what a wave's journal says of earlier runs. move_runs.py runs the plan.

An entry (``new_entry``) is what the task result, the results file and the journal hold of one user:
identity (as given), sip_address, from, to, cmdlet, outcome, error, attempts, earlier_move, note.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json
import os

from .envelope import Call
from .response import CmdletError
from .identity import identity_problem, same_fqdn, split_identities, text_problem
from .concurrency import MAX_PARALLEL_SHELLS
from .journal import key_of
from .users import BULK_READ_THRESHOLD, READ_PARALLELISM, find_pool, pools_from_result, read_users_queued, user_facts

EXCLUDE_SWITCHES = {
    "archiving": "ExcludeArchivingPolicy",
    "conferencing": "ExcludeConferencingPolicy",
    "dial_plan": "ExcludeDialPlan",
    "external_access": "ExcludeExternalAccessPolicy",
    "presence": "ExcludePresencePolicy",
    "voice": "ExcludeVoicePolicy",
}
# Every outcome a user's move can have; the filters' outcome_totals counts these.
OUTCOMES = ("moved", "unchanged", "failed", "would_move", "skipped")
# A user whose read failed after its retries (the server's error, not a verdict on the identity) is failed, never
# skipped: on_invalid=skip sets aside identities that cannot be moved, and a failed read says nothing of the
# identity, so the task fails for that user and a rerun reads it again.
READ_FAILED = "failed"
# What the plan needs of each user; the bulk read asks for no more (it returns every user).
BULK_PROPERTIES = ["SipAddress", "DisplayName", "RegistrarPool"]

# The sizes at which the way of moving changes. Measured in docs/performance.md:
# - one_pass_read_shells: shells reading identities while the moves already run (plan and move in one pass);
#   the moves keep the rest of MAX_PARALLEL_SHELLS until the reads end. At N = 1,000, 4 read shells starve
#   the moves, 16 leave them too few shells, 8 and 10 were best.
# - one_pass_min_identities: below it one pass was slower (N = 200 and 500: the read shells take shells and the
#   server's CPU from the moves, and the plan is one short round of reads anyway).
# - bulk_read_threshold: from this many identities, SIP addresses are matched against one Get-CsUser of all.
MoveTuning = collections.namedtuple("MoveTuning", "one_pass_read_shells one_pass_min_identities bulk_read_threshold")
DEFAULT_TUNING = MoveTuning(one_pass_read_shells=8, one_pass_min_identities=1000,
                            bulk_read_threshold=BULK_READ_THRESHOLD)


def new_entry(identity, to, sip_address=None, source=None, cmdlet=None, outcome=None, error=None):
    """One user's entry (see the module docstring); ``source`` is its ``from``."""
    return {"identity": identity, "sip_address": sip_address, "from": source, "to": to, "cmdlet": cmdlet,
            "outcome": outcome, "error": error, "attempts": 0, "earlier_move": None, "note": None}


def error_of(message, category="NotSpecified"):
    """An entry's error for a refusal found by the plan (not the server)."""
    return CmdletError(message, category=category).to_dict()


def parse_parallelism(value):
    """``"auto"`` or an int; ValueError for anything else."""
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    return int(text)


def read_parallelism(params):
    # With parallelism=auto, identity reads (no pool move slot) use users.READ_PARALLELISM shells.
    return READ_PARALLELISM if params["parallelism"] == "auto" else params["parallelism"]


def check_options(params):
    """The first problem with the options, as (option, message naming the fix), or None. Normalises
    ``parallelism`` to "auto" or an int."""
    if not 1 <= params["batch_size"] <= 1000:
        return ("batch_size", "batch_size must be between 1 and 1000, got %d" % params["batch_size"])
    try:
        params["parallelism"] = parse_parallelism(params["parallelism"])
    except (TypeError, ValueError):
        return ("parallelism", "parallelism must be auto or a number of shells between 1 and %d, got %r"
                % (MAX_PARALLEL_SHELLS, params["parallelism"]))
    if params["parallelism"] != "auto" and not 1 <= params["parallelism"] <= MAX_PARALLEL_SHELLS:
        return ("parallelism", "parallelism must be between 1 and %d (WinRM allows 30 shells per user), got %d"
                % (MAX_PARALLEL_SHELLS, params["parallelism"]))
    if not params["target_pool"] or identity_problem(params["target_pool"]):
        return ("target_pool", "target_pool must be the FQDN of a Registrar pool, got %r" % params["target_pool"])
    if not params["identities"]:
        return ("identities", "identities is empty: list at least one user")
    return None


def check_target(pools, target_pool):
    """(pool, None) or (None, message naming target_pool and the fix)."""
    registrars = sorted(p["fqdn"] for p in pools if p["registrar"])
    pool = find_pool(pools, target_pool)
    if pool is None:
        return None, ("target_pool %s is not a pool in the topology (Get-CsPool); use the FQDN of a Registrar "
                      "pool: %s" % (target_pool, ", ".join(registrars) or "none found"))
    if not pool["registrar"]:
        return None, ("target_pool %s is not a Registrar pool (its services: %s); users can only be homed on a "
                      "Registrar pool: %s" % (target_pool, ", ".join(pool["services"]) or "none",
                                              ", ".join(registrars) or "none found"))
    return pool, None


def plan_user(identity, obj, pools, target):
    """The entry of a found user: unchanged, a planned move (outcome None, cmdlet set), or refused (error)."""
    facts = user_facts(obj, pools)
    entry = new_entry(identity, target["fqdn"], facts["sip_address"], facts["registrar_pool"])
    name_problem = text_problem(facts["display_name"]) if facts["display_name"] else None
    if not facts["registrar_pool"]:
        entry["error"] = error_of("user %s is not enabled for Lync or OCS (no RegistrarPool); enable it with "
                                  "Enable-CsUser first" % identity, "InvalidOperation")
    elif same_fqdn(facts["registrar_pool"], target["fqdn"]):
        entry["outcome"] = "unchanged"
    elif name_problem:
        entry["error"] = error_of("user %s cannot be moved: its display name has %s" % (identity, name_problem),
                                  "InvalidData")
    elif facts["legacy"]:
        if target["legacy"]:
            entry["error"] = error_of(
                "user %s is on OCS 2007 R2 pool %s; moves between OCS 2007 R2 pools are done with the OCS 2007 R2 "
                "tools, not Lync cmdlets" % (identity, facts["registrar_pool"]), "InvalidOperation")
        else:
            entry["cmdlet"] = "Move-CsLegacyUser"
    else:
        entry["cmdlet"] = "Move-CsUser"
    return entry


def lookup_error(identity, kind, detail):
    """The error of an identity users.classify_lookup did not find: not_found, ambiguous, or the read's error."""
    if kind == "not_found":
        return error_of("user %s not found" % identity, "ObjectNotFound")
    if kind == "ambiguous":
        return error_of("identity %s is ambiguous: %s" % (identity, detail), "InvalidArgument")
    return detail.to_dict()


def malformed_error(item):
    return error_of("malformed identity: %s" % item["reason"], "InvalidArgument")


def resolved_addresses(params):
    """{identity: SIP address} of the users given as O(users) (resolved by the caller): each is read by its
    address, so a wave of display names is not resolved a second time and takes the bulk read when it is big."""
    return dict((u["identity"], u["sip_address"]) for u in params.get("users") or [])


def read_users(module, identities, params, tuning, pools_result=None):
    """Each identity's user: (found, not_found, ambiguous, errors); see users.read_users_queued. Only what
    the plan needs is asked of the bulk read (it returns every user)."""
    return read_users_queued(module, identities, batch_size=params["batch_size"],
                             parallelism=read_parallelism(params), bulk_threshold=tuning.bulk_read_threshold,
                             bulk_properties=BULK_PROPERTIES, pools_result=pools_result,
                             keys=resolved_addresses(params))


def plan_moves(module, params, tuning):
    """(entries in input order, refused entries, target pool). Get-CsPool travels in the first read request, so
    the plan pays one PowerShell start fewer. Fails the task on a bad target pool or a failed Get-CsPool."""
    good, malformed = split_identities(params["identities"])
    pools_result = []
    found, not_found, ambiguous, errors = read_users(module, good, params, tuning, pools_result=pools_result)
    pools = pools_from_result(module, pools_result[0])
    target, problem = check_target(pools, params["target_pool"])
    if problem:
        module.fail_json(msg=problem)
    by_identity = {}
    for item in malformed:
        by_identity[item["identity"]] = malformed_error(item)
    for identity in not_found:
        by_identity[identity] = lookup_error(identity, "not_found", None)
    for item in ambiguous:
        by_identity[item["identity"]] = lookup_error(item["identity"], "ambiguous", item["message"])
    unread = set()
    for identity, error in errors:
        by_identity[identity] = lookup_error(identity, "error", error)
        unread.add(identity)
    entries, seen = [], set()
    pool_names = {}   # one string per pool name, not one per user (50,000 entries share a few pools)
    for identity in params["identities"]:
        if identity in seen:
            continue
        seen.add(identity)
        obj = found.pop(identity, None)   # each user's Lync object is freed once its entry exists
        if obj is not None:
            entry = plan_user(identity, obj, pools, target)
            entry["from"] = pool_names.setdefault(entry["from"], entry["from"])
            entries.append(entry)
        elif identity in by_identity:
            entry = new_entry(identity, target["fqdn"], error=by_identity[identity])
            if identity in unread and params["on_invalid"] == "skip":
                entry["outcome"] = READ_FAILED
            entries.append(entry)
        # else: a case-insensitive duplicate of an earlier identity, folded into it
    refused = [e for e in entries if e["error"] is not None and e["outcome"] is None]
    return entries, refused, target


def move_call(entry, params):
    args = {"Identity": entry["sip_address"] or entry["identity"], "Target": entry["to"]}
    if entry["cmdlet"] == "Move-CsLegacyUser":
        for name in params["exclude_policies"]:
            args[EXCLUDE_SWITCHES[name]] = True
    else:
        # Move-CsUser asks for confirmation unless -Confirm:$false (office-docs-powershell Move-CsUser.md,
        # -Confirm); a WinRM command cannot answer a prompt, so the move would fail.
        args["Confirm"] = False
        if params["move_conference_data"]:
            args["MoveConferenceData"] = True
    call = Call(entry["cmdlet"], args)
    call.id = entry
    return call


def account_for_earlier_runs(entry, earlier):
    """Mark an unchanged user (already on the target) that an earlier run of this wave moved: its journal says
    so (``moved``), or that run sent the move and stopped before the answer (``sent``) and the server shows it
    done. True in the second case: the journal must now record the move, so rollback and the report count it."""
    if entry["outcome"] != "unchanged":
        return False
    key = key_of(entry)
    sent = earlier.unsettled.get(key)
    if sent is not None and same_fqdn(sent.get("to"), entry["to"]):
        entry["earlier_move"] = {"from": sent.get("from"), "cmdlet": sent.get("cmdlet"), "time": sent.get("time"),
                                 "reconciled": True}
        entry["note"] = ("moved by an earlier run of this wave, which stopped before it learnt the outcome; "
                         "journalled as moved now")
        return True
    moved = earlier.moved.get(key)
    if moved is not None and same_fqdn(moved.get("to"), entry["to"]):
        entry["earlier_move"] = {"from": moved.get("from"), "cmdlet": moved.get("cmdlet"), "time": moved.get("time"),
                                 "reconciled": False}
    return False


def journal_settled(journal, entry, earlier):
    """Journal a user that will not move in this run (unchanged or skipped); a move an earlier run left
    unsettled is recorded as moved, from where the user was before it."""
    if account_for_earlier_runs(entry, earlier):
        move = entry["earlier_move"]
        if journal is not None:
            journal.record_entry(entry, outcome="moved", source=move["from"], cmdlet=move["cmdlet"],
                                 error=None, attempts=0, reconciled=True)
    elif journal is not None:
        journal.record_entry(entry, cmdlet=None, attempts=0)


def one_pass_applies(on_invalid, check_mode, identity_count, tuning=DEFAULT_TUNING):
    """Plan and move in one pass only when it cannot break the gate: with on_invalid=skip a refused identity
    stops nobody else, so users may move while later identities are still read. With on_invalid=fail every
    identity must be known good before the first move; check mode moves nobody; and from the bulk read's
    threshold on, one Get-CsUser answers for all identities at once anyway. Below one_pass_min_identities it
    does not pay."""
    return (on_invalid == "skip" and not check_mode
            and tuning.one_pass_min_identities <= identity_count < tuning.bulk_read_threshold)


def summarize(entries):
    """Counts per outcome, and of the unchanged users those an earlier run of the wave moved (moved_earlier),
    among them those whose move this run reconciled from the journal (reconciled)."""
    summary = dict((name, 0) for name in OUTCOMES)
    summary.update(moved_earlier=0, reconciled=0)
    for entry in entries:
        summary[entry["outcome"]] += 1
        earlier = entry.get("earlier_move")
        if earlier:
            summary["moved_earlier"] += 1
            summary["reconciled"] += 1 if earlier.get("reconciled") else 0
    summary["total"] = len(entries)
    return summary


def listed_results(entries, which):
    """The entries the task result lists: every one (``all``), those needing attention (``failed``), none."""
    if which == "all":
        return entries
    if which == "failed":
        return [e for e in entries if e["outcome"] in ("failed", "skipped")]
    return []


def write_results_file(path, entries):
    """Every entry as one JSON line, in input order; written aside and renamed, so a reader never sees half."""
    partial = "%s.partial-%d" % (path, os.getpid())
    with open(partial, "w") as handle:
        for entry in entries:
            handle.write(json.dumps(entry) + "\n")
    os.replace(partial, path)
