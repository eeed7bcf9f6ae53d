#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_conferencing_policy
short_description: Make sure a Lync Server 2013 conferencing policy has the given settings
description:
  - Reads the policy with C(Get-CsConferencingPolicy), and changes only what differs with
    C(Set-CsConferencingPolicy); creates it with C(New-CsConferencingPolicy) when it does not exist.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  identity:
    description: Policy identity, such as C(Global), C(site:Redmond) or C(tag:PilotConferencing).
    type: str
    required: true
  allow_anonymous_participants_in_meetings:
    description: Whether anonymous (unauthenticated) users may join meetings.
    type: bool
  state:
    description: Only C(present) is supported; removing policies is left to administrators.
    type: str
    choices: [present]
    default: present
attributes:
  check_mode:
    support: full
    description: Reports what would change without calling Set- or New-CsConferencingPolicy.
  diff_mode:
    support: full
    description: The policy's settings before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: No anonymous participants in the global policy
  lync.migration.cs_conferencing_policy:
    identity: Global
    allow_anonymous_participants_in_meetings: false
"""

RETURN = r"""
policy:
  description: The policy's managed settings after the task.
  returned: always
  type: dict
  sample: {identity: Global, allow_anonymous_participants_in_meetings: false}
created:
  description: The policy did not exist and was (or would be) created.
  returned: always
  type: bool
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule, as_bool
from ansible_collections.lync.migration.plugins.module_utils.lync.users import classify_lookup

# option name -> (Lync property, converter of the value Get- returns)
SETTINGS = {
    "allow_anonymous_participants_in_meetings": ("AllowAnonymousParticipantsInMeetings", as_bool),
}


def current_settings(obj):
    return dict((option, convert(obj.get(prop))) for option, (prop, convert) in SETTINGS.items())


def conferencing_policy(module):
    params = module.params
    identity = params["identity"]
    wanted = dict((o, params[o]) for o in SETTINGS if params[o] is not None)
    read = module.run_calls([Call("Get-CsConferencingPolicy", {"Identity": identity},
                                  select=["Identity"] + [setting[0] for setting in SETTINGS.values()])])[0]
    kind, detail = classify_lookup(read)
    if kind == "error":
        module.fail_json_from_error(detail, cmdlet="Get-CsConferencingPolicy")
    if kind == "ambiguous":
        module.fail_json(msg="identity %s matches several policies: %s" % (identity, detail))
    created = kind == "not_found"
    before = current_settings(detail) if not created else {}
    after = dict(before)
    after.update(wanted)
    changes = dict((o, v) for o, v in wanted.items() if created or before.get(o) != v)
    changed = created or bool(changes)
    if changed and not module.check_mode:
        args = {"Identity": identity}
        args.update(dict((SETTINGS[o][0], v) for o, v in changes.items()))
        cmdlet = "New-CsConferencingPolicy" if created else "Set-CsConferencingPolicy"
        result = module.run_calls([Call(cmdlet, args)])[0]
        if not result.ok:
            module.fail_json_from_error(result.error, cmdlet=cmdlet)
    policy = dict([("identity", identity)] + sorted(after.items()))
    out = dict(changed=changed, policy=policy, created=created)
    if module._diff:
        out["diff"] = {"before": dict([("identity", identity)] + sorted(before.items())) if not created else {},
                       "after": policy}
    return out


def main():
    module = LyncModule(
        argument_spec=dict(
            identity=dict(type="str", required=True),
            allow_anonymous_participants_in_meetings=dict(type="bool"),
            state=dict(type="str", choices=["present"], default="present"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**conferencing_policy(module))


if __name__ == "__main__":
    main()
