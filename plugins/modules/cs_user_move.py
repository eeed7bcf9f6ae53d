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
    description:
      - Users to move (SIP address, UPN, C(DOMAIN\logon), display name or distinguished name).
      - One of O(identities) and O(users) is required.
    type: list
    elements: str
  users:
    description:
      - Users already resolved (by M(lync.migration.cs_user_info)), instead of O(identities). Each is read by its
        SIP address, so a name is not resolved a second time, and a big wave takes the bulk read whatever names it
        was given in; the results, the journal and the diff name each user by its O(users[].identity).
    type: list
    elements: dict
    suboptions:
      identity:
        description: The name the user is known by (the one the wave gave), kept in the results and the journal.
        type: str
        required: true
      sip_address:
        description: The user's SIP address, as Get-CsUser returned it (C(sip:user@domain)).
        type: str
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
      - Most moves sent in one request to a shell's PowerShell worker (1 to 1000). A worker starts PowerShell
        and imports the Lync module once for the whole task, whatever the batch size, so batches are kept
        small. A lost connection then leaves at most one batch's outcome to re-read, and the last batches of a
        wave finish together.
    type: int
    default: 25
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

- name: Move users a cs_user_info task resolved (read by SIP address, named as the wave names them)
  lync.migration.cs_user_move:
    users:
      - {identity: David Pelton, sip_address: "sip:david.pelton@contoso.net"}
      - {identity: Hao Chen, sip_address: "sip:hao.chen@contoso.net"}
    target_pool: pool02.contoso.net

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

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.concurrency import DEFAULT_BATCH_SIZE
from ansible_collections.lync.migration.plugins.module_utils.lync.move_task import move_users
from ansible_collections.lync.migration.plugins.module_utils.lync.moves import DEFAULT_TUNING, EXCLUDE_SWITCHES

# When the way of moving changes with the wave's size (module_utils/lync/moves.py); tests pass smaller sizes.
TUNING = DEFAULT_TUNING


def main():
    module = LyncModule(
        argument_spec=dict(
            identities=dict(type="list", elements="str"),
            users=dict(type="list", elements="dict", options=dict(identity=dict(type="str", required=True),
                                                                  sip_address=dict(type="str", required=True))),
            target_pool=dict(type="str", required=True),
            exclude_policies=dict(type="list", elements="str", default=[], choices=sorted(EXCLUDE_SWITCHES)),
            batch_size=dict(type="int", default=DEFAULT_BATCH_SIZE),
            parallelism=dict(type="str", default="auto"),
            journal=dict(type="path"),
            move_conference_data=dict(type="bool", default=False),
            on_invalid=dict(type="str", choices=["fail", "skip"], default="fail"),
            results=dict(type="str", choices=["all", "failed", "none"], default="all"),
            results_file=dict(type="path"),
        ),
        mutually_exclusive=[("identities", "users")],
        required_one_of=[("identities", "users")],
        supports_check_mode=True,
    )
    if module.params["users"] is not None:
        module.params["identities"] = [u["identity"] for u in module.params["users"]]
    module.exit_json(**move_users(module, TUNING))


if __name__ == "__main__":
    main()
