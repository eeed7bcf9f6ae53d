# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""User identity checks and the one escaping function for values placed inside a Lync -Filter string."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_CONTROL = re.compile(u"[\u0000-\u001f\u007f-\u009f]")
_PROPERTY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
# PowerShell treats these as single quotes too, so each must be doubled inside a single-quoted string.
_SINGLE_QUOTES = u"'\u2018\u2019\u201a\u201b"


def text_problem(value):
    """The whitespace/control-character rule shared by identities, FQDNs and other names: a short reason
    ("empty", "only whitespace", "leading whitespace", "trailing whitespace", "control character U+XXXX"),
    or None when ``value`` (a string) has none of them. Values are never trimmed: reported instead."""
    if value == "":
        return "empty"
    if value.strip() == "":
        return "only whitespace"
    if value != value.lstrip():
        return "leading whitespace"
    if value != value.rstrip():
        return "trailing whitespace"
    match = _CONTROL.search(value)
    if match:
        return "control character U+%04X" % ord(match.group(0))
    return None


def identity_problems(identity):
    """Every reason ``identity`` cannot be used as a Lync user identity, as sentences naming the fix (an empty
    list when it is well formed). The one rule for identities: modules, filters and roles all call this.

    Names with leading or trailing spaces cannot be moved (Move-CsLegacyUser; migration guide, P6 and P8.2
    caveats); they are reported, never trimmed, because the trimmed name may be a different user.
    """
    if not isinstance(identity, str):
        return ["identity must be a string, got %s" % type(identity).__name__]
    problem = text_problem(identity)
    if problem == "empty":
        return ["empty identity"]
    if problem == "only whitespace":
        return ["identity is only whitespace"]
    problems = []
    if identity != identity.lstrip():
        problems.append("leading whitespace in %r: Lync cannot move a user whose name starts with a space; fix "
                        "the account name in Active Directory" % identity)
    if identity != identity.rstrip():
        problems.append("trailing whitespace in %r: Lync cannot move a user whose name ends with a space; fix "
                        "the account name in Active Directory" % identity)
    match = _CONTROL.search(identity)
    if match:
        problems.append("control character U+%04X in %r" % (ord(match.group(0)), identity))
    return problems


def identity_problem(identity):
    """The first of identity_problems(identity), or None when it is well formed."""
    problems = identity_problems(identity)
    return problems[0] if problems else None


# The names of a user (cs_user_info's facts) that Move-CsLegacyUser stumbles over when they break the rule.
ACCOUNT_NAME_FIELDS = ("display_name", "sam_account_name", "user_principal_name")


def account_name_problems(user, fields=ACCOUNT_NAME_FIELDS):
    """{field: identity_problems(value)} for each of the user's names (a dict of facts) that breaks the rule, in
    ``fields`` order; a name that is not set (None or empty) is not checked: the user simply has none."""
    out = {}
    for field in fields:
        value = user.get(field)
        if isinstance(value, str) and value != "":
            problems = identity_problems(value)
            if problems:
                out[field] = problems
    return out


def split_identities(identities):
    """(well_formed, malformed) where malformed is a list of {identity, reason}; order kept, duplicates
    (case-insensitive) folded into the first occurrence."""
    good, bad, seen = [], [], set()
    for identity in identities:
        reason = identity_problem(identity)
        if reason:
            bad.append({"identity": identity, "reason": reason})
            continue
        key = identity.lower()
        if key in seen:
            continue
        seen.add(key)
        good.append(identity)
    return good, bad


def escape_filter_value(value):
    """``value`` as a single-quoted literal for a Lync/OPATH -Filter string (the string travels as data).

    Single quotes (and the typographic quotes PowerShell also accepts as single quotes) are doubled, so a
    value can never end the literal and add its own clauses. Control characters are refused.
    """
    if not isinstance(value, str):
        value = str(value)
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed in a filter value: %r" % value)
    escaped = "".join(ch + ch if ch in _SINGLE_QUOTES else ch for ch in value)
    return "'" + escaped + "'"


def equals_filter(property_name, value):
    """``Property -eq 'value'`` with the value escaped; the property must be a plain name."""
    if not _PROPERTY_NAME.match(property_name or ""):
        raise ValueError("not a property name: %r" % (property_name,))
    return "%s -eq %s" % (property_name, escape_filter_value(value))


def same_fqdn(a, b):
    return bool(a) and bool(b) and a.strip().rstrip(".").lower() == b.strip().rstrip(".").lower()
