# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option checks Phase 1 and Phase 6 share (numbers in a range, parallelism, policy names, FQDNs, writable
directories), called through the option_problems filter (plugins/filter/waves.py). Each returns a sentence naming
the option, what is wrong and the fix, or None; none talks to a server. The whitespace rule is identity.py's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.lync.migration.plugins.module_utils.lync.identity import text_problem

# The policies Move-CsLegacyUser can exclude (-ExcludeArchivingPolicy ... -ExcludeVoicePolicy, -ExcludeDialPlan):
# the names lync_migration_policies_to_keep and move_users_exclude_policies take.
POLICY_NAMES = ("archiving", "conferencing", "dial_plan", "external_access", "presence", "voice")


def show(value):
    """``value`` as a message shows it: JSON, so that its spaces and quotes show, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False)


def type_name(value):
    """What a YAML/JSON user calls the type of ``value``."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "null (nothing)"
    return type(value).__name__


def int_option_problem(option, value, low, high, unit):
    """``option`` is a whole number from ``low`` to ``high`` (a string of digits, as -e key=value gives, counts)."""
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and re.match(r"^-?[0-9]+$", value.strip()))):
        return "%s is %s (%s); use a whole number from %d to %d (%s)" % (option, type_name(value), show(value), low, high, unit)
    number = int(value)
    if not low <= number <= high:
        return "%s is %d; use %d to %d (%s)" % (option, number, low, high, unit)
    return None


def parallelism_problem(option, value, high=25):
    if isinstance(value, str) and value == "auto":
        return None
    problem = int_option_problem(option, value, 1, high, "WinRM shells at once; MaxShellsPerUser is 30")
    return problem and problem.replace("; use ", "; use auto or ", 1)


def choice_list_problem(option, value, choices=POLICY_NAMES):
    """``value`` is a list whose items are all among ``choices``; names the unknown ones and the valid names."""
    if isinstance(value, str):
        return "%s is a string (%s); give a list of names from: %s" % (option, show(value), ", ".join(choices))
    if not isinstance(value, list):
        return "%s is %s; give a list of names from: %s" % (option, type_name(value), ", ".join(choices))
    unknown = [v for v in value if v not in choices]
    if unknown:
        hints = []
        for v in unknown:
            close = [c for c in choices if isinstance(v, str) and (c.startswith(v.lower()[:6]) or v.lower().startswith(c[:6]))]
            hints.append("%s%s" % (show(v), " (did you mean %s?)" % close[0] if close else ""))
        return "%s names %s, which %s not a policy Move-CsLegacyUser knows; the valid names are: %s" % (
            option, ", ".join(hints), "is" if len(unknown) == 1 else "are", ", ".join(choices))
    return None


def fqdn_problem(option, value):
    """A pool or server FQDN as the inventory gives it: a string, no spaces around it (never trimmed)."""
    if not isinstance(value, str):
        return "%s is %s; give the pool's FQDN, e.g. pool02.contoso.net" % (option, type_name(value))
    problem = text_problem(value)
    if problem:
        return "%s (%s) has %s; write the FQDN without it, e.g. %s" % (
            option, show(value), problem, show(value.strip()) if value.strip() else "pool02.contoso.net")
    if any(c.isspace() for c in value) or "://" in value or "/" in value:
        return "%s (%s) is not an FQDN; give the pool's name only, e.g. pool02.contoso.net" % (option, show(value))
    return None


def fqdn_list_problem(option, value):
    """A list of FQDNs (lync_migration_legacy_pools): a list (not one string), each item as fqdn_problem."""
    if isinstance(value, str):
        return "%s is a string (%s); give a list of FQDNs: [%s]" % (option, show(value), show(value))
    if not isinstance(value, list):
        return "%s is %s; give a list of FQDNs" % (option, type_name(value))
    found = [fqdn_problem("%s[%d]" % (option, n), item) for n, item in enumerate(value)]
    return "; ".join(p for p in found if p) or None


def writable_dir_problem(option, path):
    """``path`` is, or can be created as, a directory the controller can write: the nearest existing ancestor
    is a writable directory. Checked before anything moves, so a report or journal that cannot be written is
    found before users move (not after)."""
    if not isinstance(path, str) or not path:
        return "%s is %s; give a directory path" % (option, type_name(path) if not isinstance(path, str) else "empty")
    current = os.path.abspath(path)
    while not os.path.exists(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if not os.path.isdir(current):
        return "%s (%s) cannot be created: %s is a file, not a directory; choose another directory" % (
            option, path, current)
    if not os.access(current, os.W_OK | os.X_OK):
        return "%s (%s) is not writable: %s %s; make it writable or choose another directory" % (
            option, path, current, "cannot be written" if current == os.path.abspath(path) else
            "(its nearest existing parent) cannot be written")
    return None
