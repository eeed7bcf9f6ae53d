# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long each wave's user moves will take: an estimate for the rehearsal's planner view (issue 16).

The numbers are the rehearsal lab's latency model (lab/README.md, "Latency"; lab/lync_lab/latency.py REALISTIC):
each Move-CsLegacyUser takes ``move_seconds`` of the target pool's time, the pool serves at most ``capacity``
moves at once (more wait in line), and each PowerShell the collection opens pays ``powershell_start`` plus the
Lync module's import. The collection (cs_user_move) moves a wave in batches cut from one queue by parallel shells;
each shell's PowerShell worker answers batch after batch (docs/envelope.md, "The worker protocol") and moves its
batches' users one after another. So, as an estimate:

- the moves run at once: the pool's capacity, but no more than the shells the admin host lets the account open
  (concurrency.allowed_shells) and no more than the wave has batches of at least ``min_batch`` users (a small wave
  is one batch on one shell);
- each of those shells moves its share of the wave one user after another; its worker started PowerShell and
  imported the Lync module once, before its first move (the one-pass plan starts the first workers while it
  reads), outside the window this estimates: from the first move's start to the last move's end.

Not in the estimate: the collection's own time per user (client-side work, which the pool's service time hides
when moves are slow), the ramp-up of ``parallelism: auto`` (it starts with a few shells and doubles while
throughput grows), retries after faults, and a real pool's variance. The rehearsal measures the same window from
the lab's audit log, so the two can be compared (tools/rehearse.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from .concurrency import DEFAULT_BATCH_SIZE, MAX_PARALLEL_SHELLS, MIN_BATCH, allowed_shells

# The lab's realistic model, in seconds (lab/README.md "Latency": Move-CsLegacyUser 1.0, powershell_start 1.5,
# import_module Lync 4.0, move_capacity 20). A latency file given to the lab overrides them (same keys).
REALISTIC = {"move_seconds": 1.0, "powershell_start": 1.5, "module_import": 4.0, "capacity": 20}
# The collection's batching: concurrency.py's, imported, so the estimate follows the scheduling it describes.
BATCH_SIZE = DEFAULT_BATCH_SIZE
MAX_SHELLS = MAX_PARALLEL_SHELLS

ASSUMPTIONS = (
    "each move takes the latency model's Move-CsLegacyUser time on the target pool; the pool serves at most its "
    "capacity of moves at once",
    "moves run on as many shells at once as the pool's capacity, the admin host's shell quota and the wave's "
    "batches allow; each shell moves its share one user after another",
    "each shell's PowerShell worker starts and imports the Lync module once, before its first move (outside the "
    "window); its later batches pay no start",
    "not included: the collection's own per-user time, the ramp-up of parallelism auto, retries, a real pool's "
    "variance; measured window: first move's start to last move's end",
)


class EstimateError(ValueError):
    """An input the estimate cannot use; the message names it."""


def model_from_latency(latency=None, pool=None):
    """The estimate's numbers from a lab latency settings mapping (the --latency FILE keys: cmdlets,
    powershell_start, import_module, move_capacity, pool_capacity), REALISTIC for what it does not set."""
    latency = latency or {}
    cmdlets = {str(k).lower(): v for k, v in (latency.get("cmdlets") or {}).items()}
    modules = {str(k).lower(): v for k, v in (latency.get("import_module") or {}).items()}
    capacities = {str(k).lower(): v for k, v in (latency.get("pool_capacity") or {}).items()}
    model = dict(REALISTIC)
    if "move-cslegacyuser" in cmdlets:
        model["move_seconds"] = cmdlets["move-cslegacyuser"]
    if "powershell_start" in latency:
        model["powershell_start"] = latency["powershell_start"]
    if "lync" in modules:
        model["module_import"] = modules["lync"]
    if "move_capacity" in latency:
        model["capacity"] = latency["move_capacity"]
    if pool and str(pool).lower() in capacities:
        model["capacity"] = capacities[str(pool).lower()]
    for key, value in model.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise EstimateError("latency setting %s: %r is not a number of seconds >= 0" % (key, value))
    if int(model["capacity"]) < 1:
        raise EstimateError("move capacity %r: a pool serves at least one move at once" % (model["capacity"],))
    return model


def shells_for(max_shells_per_user):
    """The shells the collection opens at most on a host allowing ``max_shells_per_user`` (None: not known)."""
    return allowed_shells(int(max_shells_per_user) if max_shells_per_user else None)


def concurrent_moves(users, capacity, shells=MAX_SHELLS, min_batch=MIN_BATCH):
    """How many moves of a wave of ``users`` run at once."""
    if users <= 0:
        return 0
    return max(1, min(int(capacity), int(shells), int(math.ceil(users / float(min_batch)))))


def wave_seconds(users, model, shells=MAX_SHELLS, min_batch=MIN_BATCH, time_scale=1.0):
    """Estimated seconds from the wave's first move's start to its last move's end."""
    if isinstance(users, bool) or not isinstance(users, int) or users < 0:
        raise EstimateError("a wave's user count must be a whole number >= 0, not %r" % (users,))
    if users == 0:
        return 0.0
    at_once = concurrent_moves(users, model["capacity"], shells, min_batch)
    per_shell = int(math.ceil(users / float(at_once)))
    seconds = per_shell * model["move_seconds"]
    return round(seconds * float(time_scale), 1)


def estimate_waves(waves, latency=None, time_scale=1.0, max_shells_per_user=None, batch_size=BATCH_SIZE):
    """Per wave ({name, users, pool, phase}): users, the target pool's capacity, moves at once and the estimated
    seconds; plus the total and the assumptions, as the rehearsal writes them."""
    if isinstance(time_scale, bool) or not isinstance(time_scale, (int, float)) or time_scale < 0:
        raise EstimateError("time_scale %r: a number >= 0" % (time_scale,))
    shells = shells_for(max_shells_per_user)
    out = []
    for wave in waves or []:
        model = model_from_latency(latency, wave.get("pool"))
        users = wave.get("users")
        seconds = wave_seconds(users, model, shells, time_scale=time_scale)
        out.append({"name": wave["name"], "phase": wave.get("phase"), "pool": wave.get("pool"), "users": users,
                    "capacity": int(model["capacity"]), "concurrent_moves": concurrent_moves(users, model["capacity"],
                                                                                             shells),
                    "move_seconds": model["move_seconds"] * float(time_scale), "estimated_seconds": seconds})
    return {"waves": out, "total_seconds": round(sum(w["estimated_seconds"] for w in out), 1),
            "time_scale": float(time_scale), "shells": shells, "batch_size": batch_size,
            "assumptions": list(ASSUMPTIONS), "kind": "estimate"}


def rehearsal_waves(planned, legacy_users, pilot_pool, production_pool=None):
    """The waves to estimate: each planned wave ({name, identities}) moved in Phase 6 to the pilot pool, with the
    legacy users its identities name (display name or SIP address; a display name several users share counts
    each of them, as the collection would report them all as ambiguous), then "remaining": every other legacy
    user, moved in Phase 8 to the production pool (the pilot pool when there is none). ``legacy_users`` are
    MSFT_SIPESUserSetting instances (PrimaryURI, DisplayName). Also returns the identities no user answers to."""
    by_name, by_sip = {}, {}
    for u in legacy_users or []:
        sip = (u.get("PrimaryURI") or "").lower()
        by_sip[sip[4:] if sip.startswith("sip:") else sip] = sip
        by_name.setdefault(u.get("DisplayName") or "", []).append(sip)
    taken, out, unknown = set(), [], []
    for wave in planned or []:
        members = set()
        for ident in wave.get("identities") or []:
            ident = str(ident)
            bare = ident.lower()[4:] if ident.lower().startswith("sip:") else ident.lower()
            found = by_name.get(ident) or ([by_sip[bare]] if bare in by_sip else [])
            if not found:
                unknown.append("%s: %s" % (wave.get("name"), ident))
            members.update(found)
        members -= taken
        taken |= members
        out.append({"name": wave["name"], "phase": 6, "pool": pilot_pool, "users": len(members)})
    rest = len(set(by_sip.values()) - taken)
    out.append({"name": "remaining", "phase": 8, "pool": production_pool or pilot_pool, "users": rest})
    return out, unknown


def estimate_markdown(estimate):
    """The estimate as a small Markdown table (the file the rehearsal writes next to the reports)."""
    lines = ["# Move-time estimate per wave (an estimate, not a measurement)", "",
             "| wave | phase | target pool | users | moves at once | estimated |", "|---|---|---|---|---|---|"]
    for w in estimate["waves"]:
        lines.append("| %s | %s | %s | %d | %d | %s |" % (w["name"], w.get("phase") or "", w.get("pool") or "",
                                                          w["users"], w["concurrent_moves"],
                                                          duration(w["estimated_seconds"])))
    lines += ["", "Total: %s (time scale %s, at most %d shells, batches of %d)."
              % (duration(estimate["total_seconds"]), estimate["time_scale"], estimate["shells"], estimate["batch_size"]),
              "", "Assumptions:"] + ["- " + a for a in estimate["assumptions"]]
    return "\n".join(lines) + "\n"


def duration(seconds):
    """12.5 -> '12.5 s'; 754 -> '12 min 34 s'."""
    if seconds < 60:
        return "%.1f s" % seconds
    minutes, rest = divmod(int(round(seconds)), 60)
    return "%d min %d s" % (minutes, rest)
