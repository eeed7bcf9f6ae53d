#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_user_move
short_description: Move users between OCS 2007 R2 and Lync Server 2013 pools, in batches, with a journal
description:
  - Reads every user (C(Get-CsUser)) and the target pool (C(Get-CsPool)), plans each move, then moves users
    homed on OCS 2007 R2 with C(Move-CsLegacyUser) and users homed on Lync Server 2013 with C(Move-CsUser)
    C(-Confirm:$false) (Move-CsUser prompts for confirmation otherwise, and a prompt cannot be answered over WinRM)
    (this includes the rollback of a user to a legacy pool).
  - Users already on O(target_pool) are left alone (C(unchanged)). A move the server refuses is re-read, and a
    user found on O(target_pool) then (moved by hand, or by another run) is C(unchanged), not C(failed).
  - Identities that are not found, ambiguous or not well formed (leading or trailing spaces, empty, control
    characters) fail the task before any user is moved, with one message listing each, unless
    O(on_invalid=skip).
  - Many moves share one PowerShell process (at most O(batch_size); batches get smaller near the end so every
    shell finishes together) and batches run in several WinRM shells at once (O(parallelism)); with
    O(parallelism=auto) the module finds how many moves the pool serves at once and keeps it busy.
    One user's failure does not stop the others. Transient failures (busy SQL back end, lost connection) are
    retried up to O(connection_retries) times, each time after re-reading the user's Registrar pool, so no
    user is moved twice. The task fails after all users were processed if any user failed.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  identities:
    description: Users to move (SIP address, UPN, C(DOMAIN\logon), display name or distinguished name).
    type: list
    elements: str
    required: true
  target_pool:
    description: FQDN of the Registrar pool to move the users to.
    type: str
    required: true
  exclude_policies:
    description:
      - Legacy policies whose imported Lync equivalents are NOT assigned by C(Move-CsLegacyUser)
        (its C(-Exclude*Policy)/C(-ExcludeDialPlan) switches). Ignored for users moved with C(Move-CsUser).
    type: list
    elements: str
    choices: [archiving, conferencing, dial_plan, external_access, presence, voice]
    default: []
  batch_size:
    description:
      - Most moves sent in one request to one PowerShell process (1 to 1000). The Lync module is imported once
        per process, so bigger batches pay it less often; a lost connection leaves at most one batch's
        outcome to re-read.
    type: int
    default: 100
  parallelism:
    description:
      - WinRM shells moving users at once, 1 to 25 (the server allows 30 per user by default), or C(auto).
      - C(auto) starts with 4 shells and doubles while throughput grows; when moves start to wait in the
        pool's queue (they take longer than the fastest seen) it keeps as many shells as the pool serves
        (Little's law) plus enough to cover PowerShell start-up, and it backs off by 30% when the server
        answers busy (transient SQL or quota errors).
      - Reads (C(Get-CsUser) for each identity) use 16 shells with C(auto). From 5,000 identities on, SIP
        addresses are matched against one C(Get-CsUser) of every user instead.
    type: str
    default: auto
  journal:
    description:
      - Path of a JSON-lines file on the controller (identity, sip_address, from, to, cmdlet, outcome, error,
        attempts, time per line), fsynced line by line. Write-ahead - each move is journalled as C(sent) before its
        batch is sent, and its outcome once known. Not written in check mode.
      - A rerun reads it first. A user whose last line is C(sent) was being moved when an earlier run stopped; if
        the user is on O(target_pool) now, the move is journalled as C(moved) (C(reconciled=true)), so the
        rollback and the reports count it; otherwise the user is moved again.
      - Only one run may write a journal at a time (a lock file beside it, C(<journal>.lock); a wave's rollback
        journal C(<wave>.rollback.jsonl) shares the lock of C(<wave>.jsonl)). A second run fails at once, before
        any read, naming the process that holds it. The lock ends with that process.
    type: path
  move_conference_data:
    description: Pass C(-MoveConferenceData) to C(Move-CsUser) (Lync to Lync moves).
    type: bool
    default: false
  results:
    description:
      - Which users the task result lists in RV(results). C(all) lists every user. C(failed) lists only users that
        failed or were skipped, and C(none) lists nobody; RV(summary) still counts every user.
      - For waves of many thousands of users, use C(failed) with O(results_file); the task result then stays
        small (Ansible copies it several times, for no_log masking, in the worker and in ansible-playbook), while the
        file has every user. The echo of the module's arguments (C(invocation), shown with C(-vvv)) then gives
        the number of identities instead of the list.
    type: str
    choices: [all, failed, none]
    default: all
  results_file:
    description:
      - Path of a JSON-lines file on the controller that gets every user's entry (the fields of RV(results)), in
        input order, when the task ends (in check mode too, where it is the plan). Replaced on each run; the O(journal),
        not this file, records users as they move.
    type: path
  on_invalid:
    description:
      - C(fail) fails the task before any move when an identity is not found, ambiguous, malformed or cannot
        be moved to O(target_pool). C(skip) reports those users with outcome C(skipped) and moves the rest.
      - With C(skip), from 1,000 to 4,999 identities and not in check mode, users are planned and moved in one pass;
        moves start as soon as the first users are read, while later identities are still being read (8
        shells read, the moves use the other shells until the reads end).
    type: str
    choices: [fail, skip]
    default: fail
attributes:
  check_mode:
    support: full
    description: Returns the exact plan (outcome C(would_move) or C(unchanged)); no Move- cmdlet is called.
  diff_mode:
    support: full
    description: Registrar pool of each user before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
notes:
  - C(Move-CsLegacyUser) needs C(Import-CsLegacyConfiguration) to have run (Phase 4) and user replication to be
    complete (Phase 6, event 30024).
"""

EXAMPLES = r"""
- name: Move the pilot users to the Lync Server 2013 pool
  lync.migration.cs_user_move:
    identities: "{{ pilot_users }}"
    target_pool: pool02.contoso.net
    exclude_policies: [dial_plan]
    journal: "{{ playbook_dir }}/reports/pilot-moves.jsonl"
  delegate_to: "{{ groups['lync_admin'][0] }}"

- name: Roll two users back to the legacy pool
  lync.migration.cs_user_move:
    identities: [sip:david.pelton@contoso.net, sip:hao.chen@contoso.net]
    target_pool: pool01.contoso.net
"""

RETURN = r"""
results:
  description: One entry per identity, in input order (only failed and skipped users with O(results=failed),
    none with O(results=none)).
  returned: always
  type: list
  elements: dict
  contains:
    identity: {description: The identity as given, type: str}
    sip_address: {description: The user's SIP address, type: str}
    from: {description: Registrar pool before, type: str}
    to: {description: Target pool, type: str}
    cmdlet: {description: "Move-CsLegacyUser, Move-CsUser or null", type: str}
    outcome: {description: "moved, unchanged, would_move, failed or skipped", type: str}
    error: {description: "The error (message, fqid, category, target) or null", type: dict}
    attempts: {description: How many times the move was sent, type: int}
    earlier_move:
      description:
        - For an unchanged user, the move an earlier run of the wave made, from O(journal) (from, cmdlet, time,
          reconciled), or null. C(reconciled) is true when that run stopped before it learnt the outcome and this
          run found the user on the target.
      type: dict
    note:
      description: Why a user is unchanged when that is not obvious (moved by an earlier run; already on the
        target when its move was sent, with the server's answer), or null.
      type: str
performance:
  description:
    - How the moves ran (not in check mode). C(one_pass) tells whether the users were planned and moved in one
      pass (O(on_invalid=skip)); then C(plan_seconds) is when the last identity was read, while moves ran.
    - C(request_retries) counts WinRM requests re-sent after a transient fault and C(shells_reclaimed) the
      orphaned shells deleted at the MaxShellsPerUser quota (see O(connection_retries)); neither counts as an
      attempt of a user's move.
  returned: when users were moved
  type: dict
  sample: {seconds: 512.3, moved_per_second: 19.5, plan_seconds: 6.1, peak_shells: 25, parallelism: auto,
           limit_changes: [[3.2, 8, growing], [6.9, 16, growing]], one_pass: false, request_retries: 3,
           shells_reclaimed: 0}
summary:
  description:
    - Counts per outcome. C(moved_earlier) counts the unchanged users an earlier run of the wave moved (see
      RV(results[].earlier_move)), C(reconciled) those of them this run settled from a C(sent) journal line.
  returned: always
  type: dict
  sample: {total: 3, moved: 2, unchanged: 1, failed: 0, would_move: 0, skipped: 0, moved_earlier: 1, reconciled: 0}
diff:
  description: Registrar pool per identity before and after (with --diff).
  returned: when diff mode is on
  type: dict
"""

import threading
import time

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.identity import (
    identity_problem,
    same_fqdn,
    split_identities,
)
from ansible_collections.lync.migration.plugins.module_utils.lync.invoke import (
    MAX_PARALLEL_SHELLS,
    AdaptiveConcurrency,
    CallFeed,
    LyncClient,
)
from ansible_collections.lync.migration.plugins.module_utils.lync.journal import (
    JournalInUse,
    MoveJournal,
    earlier_runs,
    key_of,
)
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.users import (
    # BULK_READ_THRESHOLD is bound here so tests can lower it for this module alone.
    BULK_READ_THRESHOLD,
    READ_MIN_BATCH,
    READ_PARALLELISM,
    classify_lookup,
    find_pool,
    pool_facts,
    pools_call,
    pools_from_result,
    read_users_queued,
    user_facts,
    user_lookup_call,
)

EXCLUDE_SWITCHES = {
    "archiving": "ExcludeArchivingPolicy",
    "conferencing": "ExcludeConferencingPolicy",
    "dial_plan": "ExcludeDialPlan",
    "external_access": "ExcludeExternalAccessPolicy",
    "presence": "ExcludePresencePolicy",
    "voice": "ExcludeVoicePolicy",
}
OUTCOMES = ("moved", "unchanged", "failed", "would_move", "skipped")
# What the plan needs of each user; the bulk read asks for no more (it returns every user).
BULK_PROPERTIES = ["SipAddress", "DisplayName", "RegistrarPool"]
# Shells reading identities while the moves already run (plan and move in one pass); the moves keep the
# rest of MAX_PARALLEL_SHELLS until the reads end. Measured at N = 1,000 (docs/performance.md): 4 read
# shells starve the moves, 16 leave them too few shells, 8 and 10 were best.
ONE_PASS_READ_SHELLS = 8
# Below this many identities one pass was slower in the lab (N = 200 and 500: the read shells take shells and
# the lab's CPU from the moves, and the plan is one short round of reads anyway); measured in
# docs/performance.md.
ONE_PASS_MIN_IDENTITIES = 1000


def error_dict(message, category="NotSpecified", fqid="", target=None):
    return {"message": message, "fqid": fqid, "category": category, "target": target}


def error_from_cmdlet(error):
    return {"message": error.message, "fqid": error.fqid, "category": error.category, "target": error.target}


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
    """One result entry for a found user: unchanged, a planned move (outcome None, cmdlet set), or invalid."""
    facts = user_facts(obj, pools)
    entry = {"identity": identity, "sip_address": facts["sip_address"], "from": facts["registrar_pool"],
             "to": target["fqdn"], "cmdlet": None, "outcome": None, "error": None, "attempts": 0,
             "earlier_move": None, "note": None}
    name_problem = identity_problem(facts["display_name"]) if facts["display_name"] else None
    if not facts["registrar_pool"]:
        entry["error"] = error_dict("user %s is not enabled for Lync or OCS (no RegistrarPool); enable it with "
                                    "Enable-CsUser first" % identity, "InvalidOperation")
    elif same_fqdn(facts["registrar_pool"], target["fqdn"]):
        entry["outcome"] = "unchanged"
    elif name_problem:
        entry["error"] = error_dict("user %s cannot be moved: its display name has %s" % (
            identity, name_problem.split(" in ")[0]), "InvalidData")
    elif facts["legacy"]:
        if target["legacy"]:
            entry["error"] = error_dict(
                "user %s is on OCS 2007 R2 pool %s; moves between OCS 2007 R2 pools are done with the OCS 2007 R2 "
                "tools, not Lync cmdlets" % (identity, facts["registrar_pool"]), "InvalidOperation")
        else:
            entry["cmdlet"] = "Move-CsLegacyUser"
    else:
        entry["cmdlet"] = "Move-CsUser"
    return entry


def refused_entry(identity, error, target_fqdn):
    """The entry of a user that cannot be moved (not found, ambiguous, malformed, unreadable)."""
    return {"identity": identity, "sip_address": None, "from": None, "to": target_fqdn, "cmdlet": None,
            "outcome": None, "error": error, "attempts": 0, "earlier_move": None, "note": None}


def lookup_error(identity, kind, detail):
    """The error of an identity classify_lookup did not find: not_found, ambiguous, or the read's error."""
    if kind == "not_found":
        return error_dict("user %s not found" % identity, "ObjectNotFound")
    if kind == "ambiguous":
        return error_dict("identity %s is ambiguous: %s" % (identity, detail), "InvalidArgument")
    return error_from_cmdlet(detail)


def malformed_error(item):
    return error_dict("malformed identity: %s" % item["reason"], "InvalidArgument")


def plan_moves(module, params):
    """(entries in input order, invalid entries, target pool). Fails the task on a bad target pool."""
    good, malformed = split_identities(params["identities"])
    pools, (found, not_found, ambiguous, errors) = read_pools_and_users(module, good, params)
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
    for identity, error in errors:
        by_identity[identity] = lookup_error(identity, "error", error)
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
            entries.append(refused_entry(identity, by_identity[identity], target["fqdn"]))
        # else: a case-insensitive duplicate of an earlier identity, folded into it
    invalid = [e for e in entries if e["error"] is not None]
    return entries, invalid, target


def read_pools_and_users(module, identities, params):
    """(pools, read_users(...)): Get-CsPool travels in the first read request, so the plan pays one PowerShell
    start fewer. Fails the task when Get-CsPool fails."""
    pools_result = []
    users = read_users(module, identities, params, pools_result=pools_result)
    return pools_from_result(module, pools_result[0]), users


def read_users(module, identities, params, pools_result=None):
    """Each identity's user: (found, not_found, ambiguous, errors); see users.read_users_queued. Only what
    the plan needs is asked of the bulk read (it returns every user)."""
    return read_users_queued(module, identities, batch_size=params["batch_size"],
                             parallelism=read_parallelism(params), bulk_threshold=BULK_READ_THRESHOLD,
                             bulk_properties=BULK_PROPERTIES, pools_result=pools_result)


class Progress:
    """Per-batch progress for the operator: users done, failed, remaining, rate, shells.

    Written as JSON lines to a file in $LYNC_MIGRATION_PROGRESS_DIR when set (the lync.migration.lync_progress
    callback plugin sets it and shows the lines while the task runs, in AWX too); always kept for the
    module's ``performance`` result."""

    ENV = "LYNC_MIGRATION_PROGRESS_DIR"
    INTERVAL = 1.0   # seconds between lines, so 10,000 small batches do not flood the output

    def __init__(self, total, target, clock=None):
        import os
        import time
        self._clock = clock or time.monotonic
        self.started = self._clock()
        self.total = total
        self.target = target
        self.moved = 0
        self.failed = 0
        self._last_line = None
        self._file = None
        directory = os.environ.get(self.ENV)
        if directory and os.path.isdir(directory):
            try:
                self._file = open(os.path.join(directory, "cs_user_move-%d.jsonl" % os.getpid()), "a")
            except (IOError, OSError):
                self._file = None   # progress is a convenience; never fail the moves for it

    def user_done(self, outcome):
        if outcome == "moved":
            self.moved += 1
        elif outcome == "failed":
            self.failed += 1

    def line(self, shells=None, limit=None, final=False):
        elapsed = max(self._clock() - self.started, 1e-6)
        done = self.moved + self.failed
        return {"target": self.target, "total": self.total, "moved": self.moved, "failed": self.failed,
                "remaining": self.total - done, "seconds": round(elapsed, 1),
                "per_second": round(self.moved / elapsed, 2), "shells": shells, "limit": limit, "final": final}

    def batch_done(self, stats):
        now = self._clock()
        if self._last_line is not None and now - self._last_line < self.INTERVAL:
            return
        self._last_line = now
        self._write(self.line(stats.get("shells"), stats.get("limit")))

    def close(self):
        self._write(self.line(final=True))
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, doc):
        if self._file is not None:
            import json
            try:
                self._file.write(json.dumps(doc) + "\n")
                self._file.flush()
            except (IOError, OSError, ValueError):
                pass


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
    return Call(entry["cmdlet"], args)


def apply_moves(module, params, entries, journal=None, retries=None, wait=None, progress=None, feed=None,
                lock=None, controller=None):
    """Run the planned moves; sets outcome/error/attempts on each entry. Returns performance facts. With
    ``feed`` (a CallFeed whose calls carry their entry as ``id``), the first round runs the moves as the plan
    adds them; ``lock`` serialises the results with the plan's own records."""
    if retries is None:
        retries = module.connection.connection_retries
    wait = wait or module.client.policy.wait
    if params["parallelism"] != "auto":
        controller = None
    elif controller is None:
        controller = AdaptiveConcurrency(ceiling=MAX_PARALLEL_SHELLS)
    peak = [0]

    def record(entry):
        if progress is not None:
            progress.user_done(entry["outcome"])
        if journal is not None:
            journal.record(entry["identity"], entry["sip_address"], entry["from"], entry["to"], entry["cmdlet"],
                           entry["outcome"], entry["error"], entry["attempts"])

    def sent(calls):
        # Write-ahead: the batch's users are journalled as sent before the batch leaves (journal.py).
        journal.record_sent([call.id for call in calls], lambda entry: entry["cmdlet"])

    guard = lock or threading.RLock()
    pending = [e for e in entries if e["cmdlet"] and e["outcome"] is None]
    round_number = 0
    while pending or (round_number == 0 and feed is not None):
        round_number += 1
        retry, refused = [], []
        calls = feed if round_number == 1 and feed is not None else []
        for entry in pending:
            call = move_call(entry, params)
            call.id = entry
            calls.append(call)

        def on_result(call, result):
            with guard:
                settle_move(call.id, result)

        def settle_move(entry, result):
            entry["attempts"] += result.attempts
            if result.ok:
                entry["outcome"], entry["error"] = "moved", None
                record(entry)
            elif (result.error.transient or result.error.outcome_unknown) and round_number <= retries:
                entry["error"] = error_from_cmdlet(result.error)
                retry.append(entry)
            else:
                entry["error"] = error_from_cmdlet(result.error)
                refused.append(entry)

        module.client.run_queue(calls, batch_size=params["batch_size"], parallelism=params["parallelism"],
                                on_result=on_result, controller=controller,
                                on_batch=progress.batch_done if progress is not None else None,
                                on_send=sent if journal is not None else None)
        peak[0] = max(peak[0], module.client.last_peak_shells)
        if refused:
            confirm_refused(module, params, refused, record)
        if not retry:
            break
        wait(round_number)
        pending = reread_before_retry(module, params, retry, record)
    performance = {"peak_shells": peak[0], "parallelism": params["parallelism"]}
    if controller is not None:
        performance["limit_changes"] = [list(change) for change in controller.history]
    return performance


def confirm_refused(module, params, entries, record):
    """Re-read the users whose move the server refused: one already on the target (moved by hand, or by a run of
    an overlapping wave, between the plan and the move) is unchanged, not failed; the others fail with the
    server's error. Matching the pool, not the error's text, works in every language the server speaks."""
    identities = [e["sip_address"] or e["identity"] for e in entries]
    found = read_users(module, identities, params)[0]
    for entry, key in zip(entries, identities):
        obj = found.get(key)
        if obj is not None and same_fqdn(obj.get("RegistrarPool"), entry["to"]):
            entry["note"] = "already on %s when its move was sent (the server answered: %s)" % (
                entry["to"], entry["error"]["message"])
            entry["outcome"], entry["error"] = "unchanged", None
        else:
            entry["outcome"] = "failed"
        record(entry)


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
            journal.record(entry["identity"], entry["sip_address"], move["from"], entry["to"], move["cmdlet"],
                           "moved", None, 0, reconciled=True)
    elif journal is not None:
        journal.record(entry["identity"], entry["sip_address"], entry["from"], entry["to"], None,
                       entry["outcome"], entry["error"], 0)


def reread_before_retry(module, params, entries, record):
    """Re-read the pool of users whose move may or may not have happened; returns those still to move."""
    identities = [e["sip_address"] or e["identity"] for e in entries]
    found, not_found, ambiguous, errors = read_users(module, identities, params)
    still = []
    for entry, key in zip(entries, identities):
        obj = found.get(key)
        if obj is None:
            entry["outcome"] = "failed"
            entry["error"] = entry["error"] or error_dict("user could not be re-read before retrying")
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
            entry["error"] = error_dict("user's Registrar pool changed to %s during the move; not retried" % pool,
                                        "InvalidOperation")
            record(entry)
    return still


def listed_results(entries, which):
    """The entries the task result lists: every one (``all``), those needing attention (``failed``), none."""
    if which == "all":
        return entries
    if which == "failed":
        return [e for e in entries if e["outcome"] in ("failed", "skipped")]
    return []


def write_results_file(path, entries):
    """Every entry as one JSON line, in input order; written aside and renamed, so a reader never sees half."""
    import json
    import os

    partial = "%s.partial-%d" % (path, os.getpid())
    with open(partial, "w") as handle:
        for entry in entries:
            handle.write(json.dumps(entry) + "\n")
    os.replace(partial, path)


class PlanStopped(Exception):
    """The plan cannot go on: Get-CsPool failed (``error``, a CmdletError) or the target is refused
    (``message``). Raised before any move was queued."""

    def __init__(self, message=None, error=None):
        super(PlanStopped, self).__init__(message or (error.message if error is not None else ""))
        self.message = message
        self.error = error


def one_pass_applies(on_invalid, check_mode, identity_count):
    """Plan and move in one pass only when it cannot break the gate: with on_invalid=skip a refused identity
    stops nobody else, so users may move while later identities are still read. With on_invalid=fail every
    identity must be known good before the first move; check mode moves nobody; and from BULK_READ_THRESHOLD
    on the identities are read by one bulk Get-CsUser, which answers for all of them at once anyway. Below
    ONE_PASS_MIN_IDENTITIES it does not pay."""
    return (on_invalid == "skip" and not check_mode
            and ONE_PASS_MIN_IDENTITIES <= identity_count < BULK_READ_THRESHOLD)


def plan_and_move(module, params, journal, started, earlier):
    """Plan and move in one pass (see one_pass_applies): a few shells read Get-CsPool and each identity; each
    user's move joins the move queue (a CallFeed) as soon as the user is read and planned, and the move shells
    start on it at once. Users that will not move (unchanged, skipped) are journalled as soon as they are
    known. Returns (entries in input order, target pool, performance). Fails the task, before any move, when
    Get-CsPool fails or the target is not a Registrar pool."""
    good, malformed = split_identities(params["identities"])
    read_shells = min(read_parallelism(params), ONE_PASS_READ_SHELLS)
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
            entry = refused_entry(identity, lookup_error(identity, kind, detail), plan["target"]["fqdn"])
        if entry["error"] is not None:
            entry["outcome"] = "skipped"
        if entry["outcome"] is not None:
            settle(entry)
            return
        known[identity] = entry
        call = move_call(entry, params)
        call.id = entry
        feed.add(call)

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
                    entry = refused_entry(item["identity"], malformed_error(item), target["fqdn"])
                    entry["outcome"] = "skipped"
                    settle(entry, counted=False)
                for identity, early in plan["early"]:
                    plan_read(identity, early)
                plan["early"] = []
            elif plan["pools"] is None:
                plan["early"].append((call.params["Identity"], result))   # read before Get-CsPool answered
            else:
                plan_read(call.params["Identity"], result)

    reads = [pools_call()] + [user_lookup_call(identity) for identity in good]
    reader_client = LyncClient(module.connection, session_factory=type(module).session_factory)
    # With auto, the moves' controller grows within the shells the reads leave, and again once they end.
    controller = AdaptiveConcurrency(ceiling=MAX_PARALLEL_SHELLS - read_shells) \
        if params["parallelism"] == "auto" else None

    def read_all():
        try:
            reader_client.run_queue(reads, batch_size=params["batch_size"], parallelism=read_shells,
                                    min_batch=READ_MIN_BATCH, on_result=on_read)
        except Exception as exc:  # pylint: disable=broad-except  # handed to the module's thread below
            plan["stop"] = exc
        finally:
            plan["seconds"] = round(time.monotonic() - started, 1)
            reader_client.close()
            feed.close()
            if controller is not None:
                controller.raise_ceiling(MAX_PARALLEL_SHELLS)

    reader = threading.Thread(target=read_all, name="lync-plan")
    reader.start()
    try:
        performance = apply_moves(module, params, [], journal, progress=progress, feed=feed, lock=lock,
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
            entry = refused_entry(identity, error_dict("user %s was not read: %s" % (identity, stop)), target_fqdn)
            entry["outcome"] = "failed"
            known[identity] = entry
    entries, seen = [], set()
    for identity in params["identities"]:
        if identity not in seen and identity in known:   # else a case-insensitive duplicate, folded
            seen.add(identity)
            entries.append(known[identity])
    final = progress.line()
    performance.update(seconds=final["seconds"], moved_per_second=final["per_second"], plan_seconds=plan["seconds"],
                       one_pass=True)
    return entries, plan["target"] or {"fqdn": target_fqdn}, performance


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


def lean_invocation(module, result):
    """With a lean result, the echo of the module's arguments (shown at -vvv) gives the number of identities,
    not the identities: a copy of a 50,000-name list would cost more than the rest of the result."""
    if module.params["results"] != "all":
        args = dict(module.params)
        args["identities"] = "(%d identities)" % len(module.params["identities"])
        result["invocation"] = {"module_args": args}


def save_results(module, entries):
    if module.params["results_file"]:
        try:
            write_results_file(module.params["results_file"], entries)
        except (IOError, OSError) as exc:
            module.fail_json(msg="option results_file: cannot write %s: %s" % (module.params["results_file"], exc),
                             summary=summarize(entries))


def user_move(module):
    started = time.monotonic()
    params = module.params
    problem = check_options(params)
    if problem:
        module.fail_json(msg="option %s: %s" % problem)
    earlier = read_earlier_runs(module)
    journal = open_journal(module)
    try:
        if one_pass_applies(params["on_invalid"], module.check_mode, len(params["identities"])):
            result = plan_and_move(module, params, journal, started, earlier)
        else:
            result = plan_then_move(module, params, journal, started, earlier)
    finally:
        if journal is not None:
            journal.close()
    return finish(module, *result)


def plan_then_move(module, params, journal, started, earlier):
    """Plan every user, then move: (entries, target, performance). Fails the task before any move when an
    identity is refused and on_invalid=fail."""
    entries, invalid, target = plan_moves(module, params)
    for entry in entries:
        if journal is None:
            account_for_earlier_runs(entry, earlier)   # check mode: reported, nothing written
    if invalid and params["on_invalid"] == "fail":
        lines = ["%s: %s" % (e["identity"], e["error"]["message"]) for e in invalid]
        for entry in entries:
            entry["outcome"] = "failed" if entry["error"] else "unchanged" if entry["outcome"] == "unchanged" \
                else "would_move"
        save_results(module, entries)
        module.fail_json(msg="%d of %d users cannot be moved to %s; nothing was moved (fix them, or set "
                             "on_invalid=skip to move the others): %s"
                             % (len(invalid), len(entries), target["fqdn"], "; ".join(lines)),
                         results=listed_results(entries, params["results"]), summary=summarize(entries))
    for entry in invalid:
        entry["outcome"] = "skipped"
    performance = None
    if journal is not None:
        for entry in entries:
            if entry["outcome"] in ("unchanged", "skipped"):
                journal_settled(journal, entry, earlier)
    if module.check_mode:
        for entry in entries:
            if entry["outcome"] is None:
                entry["outcome"] = "would_move"
    else:
        progress = Progress(sum(1 for e in entries if e["outcome"] is None and e["cmdlet"]), target["fqdn"])
        try:
            performance = apply_moves(module, params, entries, journal, progress=progress)
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


def finish(module, entries, target, performance):
    """The task's result (or failure) once every user has an outcome."""
    params = module.params
    save_results(module, entries)
    summary = summarize(entries)
    result = dict(changed=bool(summary["moved"] or summary["would_move"]),
                  results=listed_results(entries, params["results"]), summary=summary)
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


def main():
    module = LyncModule(
        argument_spec=dict(
            identities=dict(type="list", elements="str", required=True),
            target_pool=dict(type="str", required=True),
            exclude_policies=dict(type="list", elements="str", default=[], choices=sorted(EXCLUDE_SWITCHES)),
            batch_size=dict(type="int", default=100),
            parallelism=dict(type="str", default="auto"),
            journal=dict(type="path"),
            move_conference_data=dict(type="bool", default=False),
            on_invalid=dict(type="str", choices=["fail", "skip"], default="fail"),
            results=dict(type="str", choices=["all", "failed", "none"], default="all"),
            results_file=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**user_move(module))


if __name__ == "__main__":
    main()
