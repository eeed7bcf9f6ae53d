# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the input checks Phase 1 and Phase 6 share (the logic: plugins/module_utils/lync/waves.py and
option_checks.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.lync.migration.plugins.module_utils.lync import option_checks as _options
from ansible_collections.lync.migration.plugins.module_utils.lync import waves as _waves


def check_waves(waves, option="lync_migration_waves", base_dir=None, allow_empty=False,
                allow_empty_option="move_users_allow_empty", selected=None, selected_option="move_users_waves"):
    """{problems, waves, malformed} for the wave definitions ``waves`` (and the names ``selected``)."""
    return _waves.check_waves(waves, option=option, base_dir=base_dir, allow_empty=_bool(allow_empty),
                              allow_empty_option=allow_empty_option, selected=selected,
                              selected_option=selected_option)


def wave_selection_problems(selected, option="move_users_waves"):
    """Problems of a list of wave names (move_users_waves of a rollback): a list, each name path-safe."""
    return _waves.selected_wave_problems(selected, None, option)


def wave_overlap_problems(waves_users, suffix="keep the user in one wave only"):
    """One sentence per user in more than one wave, for {wave: users as resolved}."""
    return _waves.overlap_messages(_waves.wave_overlaps(waves_users), suffix)


def resolve_wave_users(checked_waves, directory):
    """{wave: [{identity, sip_address}]}: the waves' identities matched against WMI's user list (Phase 1)."""
    return _waves.resolve_against(checked_waves, directory)


_RULES = {
    "int": lambda c: _options.int_option_problem(c["option"], c.get("value"), int(c["low"]), int(c["high"]),
                                                 c.get("unit", "")),
    "parallelism": lambda c: _options.parallelism_problem(c["option"], c.get("value")),
    "choices": lambda c: _options.choice_list_problem(c["option"], c.get("value"),
                                                      tuple(c.get("choices") or _options.POLICY_NAMES)),
    "fqdn": lambda c: _options.fqdn_problem(c["option"], c.get("value")),
    "fqdn_list": lambda c: _options.fqdn_list_problem(c["option"], c.get("value")),
    "writable_dir": lambda c: _options.writable_dir_problem(c["option"], c.get("value")),
}


def option_problems(checks):
    """The problems of a list of option checks, each {option, value, rule: int|parallelism|choices|fqdn|
    fqdn_list|writable_dir, ...the rule's parameters (low, high, unit; choices)}; a sentence per broken option."""
    out = []
    for check in checks or []:
        rule = _RULES.get(check.get("rule"))
        if rule is None:
            raise AnsibleFilterError("option_problems: unknown rule %r for %s" % (check.get("rule"), check.get("option")))
        problem = rule(check)
        if problem:
            out.append(problem)
    return out


def _bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class FilterModule(object):
    def filters(self):
        return {
            "check_waves": check_waves,
            "wave_selection_problems": wave_selection_problems,
            "wave_overlap_problems": wave_overlap_problems,
            "resolve_wave_users": resolve_wave_users,
            "option_problems": option_problems,
        }
