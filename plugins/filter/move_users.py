# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the move_users role (Phase 6, P8.2 and the rollback): the waves' plan from what cs_user_info found,
the rollback's plan from the journals, the verification, the conferencing policies of the moved users and the
report's rows. They only reshape data (the identity rule is module_utils/lync/identity.py's); none talks to a
server."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.lync.migration.plugins.filter.migration import (
    journal_moves,
    move_identity,
    moved_by_migration,
    outcome_totals,
)
from ansible_collections.lync.migration.plugins.module_utils.lync.identity import ACCOUNT_NAME_FIELDS

# What the gate adds to cs_user_info's sentence, per reason: where else the fix can be.
_WAVE_FIX = {"malformed": "; or remove it from the wave", "not_found": ", or remove it from the wave"}


def _moves_of(users):
    """cs_user_move's ``users``: each user read by its SIP address, named as the wave named it (else by address)."""
    return [{"identity": move_identity(u), "sip_address": u["sip_address"]} for u in users]


def _wave(name, users, problems):
    moves = _moves_of(users)
    return {"name": name, "users": users, "moves": moves, "identities": [m["identity"] for m in moves],
            "problems": problems}


def resolved_wave(results, name):
    """A wave of the plan, {name, users, moves, identities, problems}, from the cs_user_info results of its
    identities, its ou and its filter (a skipped task's result counts as nothing found).

    ``users`` is everyone found, once each (by SIP address); ``problems`` one {wave, identity, reason, message} per
    identity that found no single user, the message being cs_user_info's, prefixed with the wave."""
    users, seen, problems = [], set(), []
    for result in results or []:
        if not isinstance(result, dict):
            continue
        for user in result.get("users") or []:
            key = (user.get("sip_address") or "").lower()
            if key not in seen:
                seen.add(key)
                users.append(user)
        for problem in result.get("problems") or []:
            problems.append({"wave": name, "identity": problem["identity"], "reason": problem["reason"],
                             "message": "wave %s: %s%s" % (name, problem["message"], _WAVE_FIX.get(problem["reason"], ""))})
    return _wave(name, users, problems)


def legacy_wave(legacy_users, plan, name):
    """Phase 8's last wave ``name``: the users still on OCS 2007 R2 (cs_user_info legacy_only) less those of the
    plan's named waves. Found by listing, not by name, so the display names are checked here: a user whose display
    name breaks the identity rule (cs_user_info's name_problems) is a problem, not a move."""
    named = set((u.get("sip_address") or "").lower() for wave in plan or [] for u in wave.get("users") or [])
    movable, problems = [], []
    for user in legacy_users or []:
        if (user.get("sip_address") or "").lower() in named:
            continue
        issues = (user.get("name_problems") or {}).get("display_name")
        if user.get("display_name") and issues:
            problems.append({"wave": name, "identity": user["display_name"], "sip_address": user["sip_address"],
                             "reason": "malformed",
                             "message": "wave %s: %s: %s" % (name, user["sip_address"], "; ".join(issues))})
        else:
            movable.append(user)
    return _wave(name, movable, problems)


def accounts_with_name_problems(users):
    """The users (cs_user_info's) with a name that breaks the identity rule: {sip_address, display_name, fields}."""
    out = []
    for user in users or []:
        problems = user.get("name_problems") or {}
        fields = [f for f in ACCOUNT_NAME_FIELDS if f in problems]
        if fields:
            out.append({"sip_address": user.get("sip_address"), "display_name": user.get("display_name"),
                        "fields": fields})
    return out


def _basename(path):
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def rollback_waves(journals, legacy_pools):
    """The rollback's plan: one wave per journal and legacy pool its users came from, from slurp's results of
    the journals (``item`` the path, ``content`` base64). Each wave moves back, by SIP address, the users the
    journal records as moved (journal_moves), to the pool they came from; ``legacy`` says whether that pool is one
    of ``legacy_pools`` (the role refuses the others)."""
    legacy = set(str(p).lower() for p in legacy_pools or [])
    out = []
    for journal in journals or []:
        path = journal.get("item")
        wave = _basename(path)
        wave = wave[:-len(".jsonl")] if wave.endswith(".jsonl") else wave
        moves = journal_moves(journal.get("content") or "", path)
        pools = []
        for move in moves:
            if move["from"] not in pools:
                pools.append(move["from"])
        for pool in pools:
            users = [m for m in moves if m["from"] == pool]
            out.append({"name": wave, "target": pool, "journal": wave + ".rollback.jsonl", "journal_source": path,
                        "legacy": (pool or "").lower() in legacy, "users": users,
                        "moves": [{"identity": u["sip_address"], "sip_address": u["sip_address"]} for u in users],
                        "identities": [u["sip_address"] for u in users], "problems": []})
    return out


def not_on_target(verified, results):
    """The users the verification (cs_user_info by SIP address) finds away from the pool their move's result names
    as ``to``: {sip_address, registrar_pool (None when not found), expected}."""
    targets = dict(((r.get("sip_address") or "").lower(), r.get("to")) for r in results or [])
    verified = verified if isinstance(verified, dict) else {}
    out = []
    for user in verified.get("users") or []:
        want = targets.get((user.get("sip_address") or "").lower()) or ""
        if (user.get("registrar_pool") or "").lower() != want.lower():
            out.append({"sip_address": user.get("sip_address"), "registrar_pool": user.get("registrar_pool"),
                        "expected": want})
    for sip in verified.get("not_found") or []:
        out.append({"sip_address": sip, "registrar_pool": None, "expected": targets.get(sip.lower()) or ""})
    return out


def moved_users_policies(users, assignments, policies, site):
    """The conferencing policy each verified user gets: their own (Get-CsUser ConferencingPolicy, a Tag: policy),
    else the site policy of ``site`` (the target pool's site) when there is one, else Global. One
    {identity, users, exists, allow_anonymous_participants_in_meetings} per policy, in first-use order."""
    assigned = dict((str(a.get("SipAddress") or "").lower(), a.get("ConferencingPolicy")) for a in assignments or [])
    by_identity = dict((str(p.get("Identity") or "").lower(), p) for p in policies or [])
    site_name = str(site or "")
    site_key = "site:" + (site_name[5:] if site_name.lower().startswith("site:") else site_name).lower()
    found = {}
    for user in users or []:
        own = assigned.get((user.get("sip_address") or "").lower())
        if own:
            key = own if str(own).lower().startswith("tag:") else "Tag:" + own
        elif site_key in by_identity:
            key = by_identity[site_key]["Identity"]
        else:
            key = "Global"
        if key not in found:
            policy = by_identity.get(key.lower()) or {}
            found[key] = {"identity": key, "users": [], "exists": bool(policy),
                          "allow_anonymous_participants_in_meetings": policy.get("AllowAnonymousParticipantsInMeetings")}
        found[key]["users"].append(user.get("sip_address"))
    return list(found.values())


def policy_actions(policies, changed):
    """Each policy with what was done to it: ``set to True`` (its identity is in ``changed``), ``ok`` (it allows
    anonymous participants) or ``reported only``."""
    changed = set(changed or [])
    out = []
    for policy in policies or []:
        allowed = policy.get("allow_anonymous_participants_in_meetings")
        done = policy.get("identity") in changed
        out.append(dict(policy, action="set to True" if done else ("ok" if allowed else "reported only"),
                        allow_anonymous_participants_in_meetings=True if done else allowed))
    return out


def _error_text(error):
    if isinstance(error, dict):
        return error.get("message") if "message" in error else str(error)
    return error


def move_report_rows(results, skipped, target_pool):
    """The report's row per user: each move result (cs_user_move's, with ``wave``), then each user the gate set
    aside (move_users_on_invalid=skip) as ``skipped`` with its problem as the error."""
    out = []
    for r in results or []:
        out.append({"wave": r.get("wave"), "identity": r.get("identity") or r.get("sip_address"),
                    "sip_address": r.get("sip_address"), "from": r.get("from"), "to": r.get("to"),
                    "outcome": r.get("outcome"), "error": _error_text(r.get("error")), "attempts": r.get("attempts") or 0,
                    "cmdlet": r.get("cmdlet"), "earlier_move": r.get("earlier_move"), "note": r.get("note")})
    for s in skipped or []:
        out.append({"wave": s.get("wave"), "identity": s.get("identity"), "sip_address": None, "from": None,
                    "to": target_pool, "outcome": "skipped", "error": s.get("message"), "attempts": 0, "cmdlet": None,
                    "earlier_move": None, "note": None})
    return out


def wave_summaries(plan, rows):
    """Per wave of the plan, in its order: {name, users (how many it moves), totals, moved_by_migration}."""
    out = []
    for wave in plan or []:
        if not isinstance(wave, dict) or "name" not in wave:
            raise AnsibleFilterError("wave_summaries: each wave of the plan needs a name, got %r" % (wave,))
        mine = [r for r in rows or [] if r.get("wave") == wave["name"]]
        out.append({"name": wave["name"], "users": len(wave.get("identities") or []), "totals": outcome_totals(mine),
                    "moved_by_migration": moved_by_migration(mine)})
    return out


def wave_table(waves):
    """The report's table of waves: one flat row per wave of wave_summaries, its totals as columns."""
    return [dict([("wave", w.get("name")), ("users", w.get("users"))]
                 + [(k, (w.get("totals") or {}).get(k, 0)) for k in ("moved", "unchanged", "would_move", "failed", "skipped")])
            for w in waves or []]


def policy_table(policies):
    """The report's table of conferencing policies: the number of their moved users, and ``failed`` as the row's
    status where anonymous participants are not allowed."""
    return [{"identity": p.get("identity"), "users": len(p.get("users") or []),
             "allow_anonymous_participants_in_meetings": p.get("allow_anonymous_participants_in_meetings"),
             "action": p.get("action"), "status": "" if p.get("allow_anonymous_participants_in_meetings") else "failed"}
            for p in policies or []]


class FilterModule(object):
    def filters(self):
        return {
            "resolved_wave": resolved_wave,
            "legacy_wave": legacy_wave,
            "accounts_with_name_problems": accounts_with_name_problems,
            "rollback_waves": rollback_waves,
            "not_on_target": not_on_target,
            "moved_users_policies": moved_users_policies,
            "policy_actions": policy_actions,
            "move_report_rows": move_report_rows,
            "wave_summaries": wave_summaries,
            "wave_table": wave_table,
            "policy_table": policy_table,
        }
