# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for migration playbooks: SIP URIs, user identities, waves, batches and report files.

They run on the controller and only reshape data; none of them talks to a server.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.lync.migration.plugins.module_utils.lync import waves as _waves
from ansible_collections.lync.migration.plugins.module_utils.lync.identity import identity_problems
from ansible_collections.lync.migration.plugins.module_utils.lync.identity import text_problem as _text_problem
from ansible_collections.lync.migration.plugins.module_utils.lync import legacy as _legacy
from ansible_collections.lync.migration.plugins.module_utils.lync.moves import OUTCOMES

# user@domain: the user part as Lync accepts it in a SIP address (RFC 3261 unreserved characters and the
# escapes Lync allows); the domain a DNS name.
_SIP_USER = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+"
_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_SIP_URI = re.compile(r"^(?:sip:)?(?P<user>%s)@(?P<domain>%s(?:\.%s)+)$" % (_SIP_USER, _DNS_LABEL, _DNS_LABEL),
                      re.IGNORECASE)

# Characters a spreadsheet treats as the start of a formula (CSV injection); a leading quote defuses them.
_FORMULA_START = ("=", "+", "-", "@")

USERS_CSV_COLUMNS = ("identity", "sip_address", "from", "to", "outcome", "error", "attempts")


def sip_uri(value, domains=None):
    """Return ``value`` as a canonical SIP URI ``sip:user@domain`` (domain in lower case).

    ``value`` may be given with or without the ``sip:`` prefix. Raises an error naming what is wrong when
    it is not a SIP URI, or when ``domains`` is given and the domain is not one of them.
    """
    if not isinstance(value, str):
        raise AnsibleFilterError("sip_uri: expected a string such as sip:david.pelton@contoso.net, got %r" % (value,))
    if spaced(value):
        raise AnsibleFilterError("sip_uri: %r has leading or trailing spaces; remove them" % (value,))
    match = _SIP_URI.match(value)
    if not match:
        raise AnsibleFilterError("sip_uri: %r is not a SIP URI of the form sip:user@domain" % (value,))
    user, domain = match.group("user"), match.group("domain").lower()
    if user.startswith(".") or user.endswith(".") or ".." in user:
        raise AnsibleFilterError("sip_uri: %r has a misplaced dot in its user part" % (value,))
    if domains is not None:
        if isinstance(domains, str):
            domains = [domains]
        allowed = [d.lower() for d in domains]
        if domain not in allowed:
            raise AnsibleFilterError("sip_uri: the domain of %r is not one of the SIP domains %s"
                                     % (value, ", ".join(allowed)))
    return "sip:%s@%s" % (user, domain)


def text_problem(value):
    """The identity rule's short reason for ``value`` (module_utils/lync/identity.text_problem: empty, only
    whitespace, leading whitespace, trailing whitespace, control character U+XXXX), or None; None for a value
    that is not text (the callers check types themselves)."""
    return _text_problem(value) if isinstance(value, str) else None


def spaced(value):
    """True when ``value`` is text with leading or trailing whitespace (or nothing else), by the identity rule."""
    return text_problem(value) in ("only whitespace", "leading whitespace", "trailing whitespace")


def legacy_home_pools(user_settings, pool_settings):
    """The PoolFQDN of the OCS 2007 R2 pool homing each user (MSFT_SIPESUserSetting instances, in their order),
    None where no pool's PoolDN matches the user's HomeServerDN (module_utils/lync/legacy.home_pool)."""
    index = _legacy.pools_by_dn(pool_settings)
    out = []
    for user in user_settings or []:
        pool = _legacy.home_pool(user, index)
        out.append(pool.get("PoolFQDN") if pool else None)
    return out


def batch(items, size):
    """Split a list into consecutive lists of at most ``size`` items."""
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise AnsibleFilterError("batch: size must be a whole number, got %r" % (size,))
    if size < 1:
        raise AnsibleFilterError("batch: size must be at least 1, got %d" % size)
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def identities_from_csv(content_b64, source="the CSV file"):
    """The ``identity`` column of a CSV file given as base64 (as ``slurp`` returns it).

    As Excel and PowerShell write CSV (module_utils/lync/waves.parse_identity_csv): UTF-8 (a byte-order
    mark is allowed) or UTF-16 with its byte order mark, ',' ';' or tab between fields, a ``#TYPE`` first line,
    with a header row naming an ``identity`` column. Values are kept exactly, spaces included, so that
    malformed names are reported rather than silently changed. Blank lines are ignored.
    """
    try:
        raw = base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise AnsibleFilterError("identities_from_csv: the content of %s is not base64 (pass slurp's content)" % source)
    try:
        return _waves.parse_identity_csv(raw, source)
    except _waves.WaveInputError as exc:
        raise AnsibleFilterError(str(exc))


def wave_overlaps(waves):
    """Users that appear in more than one wave (plugins/module_utils/lync/waves.py, shared with Phase 1).

    ``waves`` maps a wave name to its users: strings, or dicts with ``sip_address`` (as cs_user_info
    returns them) or ``identity``. Returns ``[{user, waves}]`` in first-seen order.
    """
    return [{"user": o["user"], "waves": o["waves"]} for o in _waves.wave_overlaps(waves)]


def csv_safe(value):
    """A cell value that a spreadsheet will not run as a formula: text starting with = + - @ gets a leading quote."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def users_csv(rows, columns=USERS_CSV_COLUMNS):
    """The per-user report as CSV text: a header row, then one row per user, every cell made csv_safe."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(list(columns))
    for row in rows or []:
        writer.writerow([csv_safe(row.get(col)) for col in columns])
    return out.getvalue()


def move_identity(user):
    """The identity to move a resolved user by: the name the wave gave (it resolved to exactly this one user,
    and reads best in the report), else the SIP address."""
    return user.get("identity") or user.get("sip_address")


def name_results(results, users):
    """cs_user_move results with ``identity`` set to the name the plan knows the user by.

    A rollback moves users by SIP address (what the journal proves); the report and the console still
    show the name the wave used (else the display name). ``users`` are dicts with ``sip_address`` and
    ``identity`` or ``display_name``.
    """
    names = {}
    for user in users or []:
        sip, name = user.get("sip_address"), user.get("identity") or user.get("display_name")
        if sip and name:
            names[sip.lower()] = name
    out = []
    for result in results or []:
        result = dict(result)
        sip = result.get("sip_address")
        if sip and sip.lower() in names:
            result["identity"] = names[sip.lower()]
        out.append(result)
    return out


def move_line(result):
    """One line per user for the console: ``identity <sip>: from -> to: outcome (error)``."""
    identity = result.get("identity") or ""
    sip = result.get("sip_address")
    who = "%s <%s>" % (identity, sip) if sip and sip != identity else identity
    line = "%s: %s -> %s: %s" % (who, result.get("from") or "?", result.get("to") or "?", result.get("outcome") or "?")
    error = result.get("error")
    if isinstance(error, dict):
        error = error.get("message") or error.get("fqid")
    if error:
        line += " (%s)" % error
    return line


def verify_line(entry):
    """``sip: homed on X, expected Y`` for a user the verification found elsewhere."""
    return "%s: homed on %s, expected %s" % (entry.get("sip_address"), entry.get("registrar_pool") or "no pool (not found)",
                                             entry.get("expected") or "?")


def journal_moves(content_b64, source="the journal"):
    """The users a move journal (cs_user_move's JSON lines, as slurp returns them) records as moved.

    One entry per user (by SIP address) with the pool the user came from: the ``from`` of the user's first
    ``moved`` line, so that later reruns (``unchanged``) do not hide where the user was homed originally.
    A torn last line, left when a run was killed mid-write, is ignored.
    """
    try:
        text = base64.b64decode(content_b64).decode("utf-8")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise AnsibleFilterError("journal_moves: %s is not a readable UTF-8 journal" % source)
    moves, order = {}, []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("outcome") != "moved":
            continue
        key = (entry.get("sip_address") or entry.get("identity") or "").lower()
        if not key or key in moves:
            continue
        moves[key] = {"identity": entry.get("identity"), "sip_address": entry.get("sip_address"),
                      "from": entry.get("from"), "to": entry.get("to")}
        order.append(key)
    return [moves[k] for k in order]


def outcome_totals(rows):
    """Counts per outcome (moved, unchanged, would_move, failed, skipped) and the total, always all keys."""
    totals = {"total": 0}
    totals.update((o, 0) for o in OUTCOMES)
    for row in rows or []:
        totals["total"] += 1
        outcome = row.get("outcome") or "unknown"
        totals[outcome] = totals.get(outcome, 0) + 1
    return totals


def moved_by_migration(rows):
    """Who the migration has moved, whichever run moved them: ``this_run`` (outcome moved), ``earlier_runs``
    (unchanged now, and the wave's journal records their move: cs_user_move's earlier_move), of those
    ``reconciled`` (settled from a move a stopped run had sent), and ``total``."""
    counts = {"this_run": 0, "earlier_runs": 0, "reconciled": 0}
    for row in rows or []:
        earlier = row.get("earlier_move")
        if row.get("outcome") == "moved":
            counts["this_run"] += 1
        elif earlier:
            counts["earlier_runs"] += 1
            counts["reconciled"] += 1 if earlier.get("reconciled") else 0
    counts["total"] = counts["this_run"] + counts["earlier_runs"]
    return counts


class FilterModule(object):
    def filters(self):
        return {
            "sip_uri": sip_uri,
            "identity_problems": identity_problems,
            "text_problem": text_problem,
            "spaced": spaced,
            "batch": batch,
            "legacy_home_pools": legacy_home_pools,
            "identities_from_csv": identities_from_csv,
            "wave_overlaps": wave_overlaps,
            "csv_safe": csv_safe,
            "users_csv": users_csv,
            "move_line": move_line,
            "name_results": name_results,
            "move_identity": move_identity,
            "journal_moves": journal_moves,
            "verify_line": verify_line,
            "outcome_totals": outcome_totals,
            "moved_by_migration": moved_by_migration,
        }
