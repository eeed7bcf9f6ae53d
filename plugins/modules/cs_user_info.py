#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_user_info
short_description: Find Lync Server 2013 and OCS 2007 R2 users and where they are homed
description:
  - Looks users up with C(Get-CsUser) on a Lync Server 2013 server, by identity or by OU, OPATH filter, legacy
    homing (C(-OnOfficeCommunicationServer)) or Registrar pool.
  - Every identity is reported in exactly one of RV(users), RV(not_found), RV(ambiguous) or RV(malformed).
    Names with leading or trailing spaces, empty names and names with control characters are reported as
    malformed and never trimmed, because Lync cannot move such users and the trimmed name may be someone else.
  - RV(problems) says the same as RV(not_found), RV(ambiguous) and RV(malformed) as one list of sentences that
    name the fix, and each user's RV(users[].name_problems) the names of that user that break the same rule
    (module_utils/lync/identity.py), so that a playbook needs no template logic to report them.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
  - lync.migration.attributes.info_module
options:
  identities:
    description:
      - Users to look up, as SIP address, user principal name, C(DOMAIN\logon), display name or distinguished
        name. Each is sent as data to C(Get-CsUser -Identity).
      - The lookups run in batches over up to 16 WinRM shells at once. From 5,000 identities on, SIP addresses
        are matched against one C(Get-CsUser) of every user instead, and only the other names are looked up.
    type: list
    elements: str
  ou:
    description: Only users in this organisational unit (C(Get-CsUser -OU)).
    type: str
  filter:
    description:
      - A Lync OPATH filter such as C(DisplayName -eq "Ken Myer"), passed to C(Get-CsUser -Filter) as a string
        (data, never script text).
    type: str
  legacy_only:
    description: Only users still homed on OCS 2007 R2 (C(Get-CsUser -OnOfficeCommunicationServer)).
    type: bool
    default: false
  registrar_pool:
    description: Only users whose Registrar pool is this FQDN.
    type: str
notes:
  - Without O(identities), all users matching O(ou), O(filter), O(legacy_only) and O(registrar_pool) are
    returned.
"""

EXAMPLES = r"""
- name: Which pilot users are still on OCS 2007 R2?
  lync.migration.cs_user_info:
    identities:
      - sip:david.pelton@contoso.net
      - Hao Chen
  delegate_to: "{{ groups['lync_admin'][0] }}"
  register: pilot

- name: All users still homed on the legacy pool
  lync.migration.cs_user_info:
    legacy_only: true
    registrar_pool: pool01.contoso.net
  register: legacy_users
"""

RETURN = r"""
users:
  description: The users found.
  returned: always
  type: list
  elements: dict
  contains:
    identity: {description: The input identity that found the user (only with O(identities)), type: str, returned: when identities given}
    sip_address: {description: SIP address, type: str, sample: "sip:david.pelton@contoso.net"}
    display_name: {description: Display name, type: str}
    sam_account_name: {description: pre-Windows 2000 logon name, type: str}
    user_principal_name: {description: UPN, type: str}
    distinguished_name: {description: AD distinguished name, type: str}
    registrar_pool: {description: Registrar pool FQDN the user is homed on, type: str, sample: pool01.contoso.net}
    enabled: {description: Enabled for Lync/OCS, type: bool}
    legacy: {description: Homed on an OCS 2007 R2 pool (the pool is in the BackCompatSite), type: bool}
    name_problems:
      description:
        - The user's names (display_name, sam_account_name, user_principal_name) that break the identity rule
          (leading or trailing whitespace, control characters), each with its sentences; empty when none does.
          A user found by listing (O(legacy_only), O(ou)...) may have such a name, and Move-CsLegacyUser cannot
          move that user.
      type: dict
      sample:
        display_name:
          - "trailing whitespace in 'Ken Myer ': Lync cannot move a user whose name ends with a space; fix the
            account name in Active Directory"
not_found:
  description: Identities that match no user.
  returned: always
  type: list
  elements: str
ambiguous:
  description: Identities that match more than one user.
  returned: always
  type: list
  elements: dict
  contains:
    identity: {description: The identity, type: str}
    message: {description: What the server said, type: str}
malformed:
  description: Identities that were not sent because they are not well-formed names.
  returned: always
  type: list
  elements: dict
  contains:
    identity: {description: The identity as given, type: str}
    reason: {description: Why it is malformed, type: str}
problems:
  description:
    - One entry per identity of RV(malformed), RV(not_found) and RV(ambiguous), in that order, with a sentence
      naming the identity (as JSON, so its spaces show) and the fix.
  returned: always
  type: list
  elements: dict
  contains:
    identity: {description: The identity as given, type: str}
    reason: {description: "malformed, not_found or ambiguous", type: str}
    message: {description: What is wrong and what to do, type: str}
count:
  description: Number of users found.
  returned: always
  type: int
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.identity import (
    account_name_problems,
    same_fqdn,
    split_identities,
)
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.users import (
    # BULK_READ_THRESHOLD is bound here so tests can lower it for this module alone.
    BULK_READ_THRESHOLD,
    USER_PROPERTIES,
    lookup_problems,
    pools_call,
    pools_from_result,
    read_directory,
    read_users_queued,
    user_facts,
)


def wanted(facts, params):
    if params["legacy_only"] and not facts["legacy"]:
        return False
    if params["registrar_pool"] and not same_fqdn(facts["registrar_pool"], params["registrar_pool"]):
        return False
    return True


def user_info(module):
    params = module.params
    users, not_found, ambiguous, malformed = [], [], [], []
    if params["identities"] is not None:
        good, malformed = split_identities(params["identities"])
        # Get-CsPool rides in the first request; the identities are read over several shells at once.
        pools_result = []
        found, not_found, ambiguous, errors = read_users_queued(module, good, bulk_threshold=BULK_READ_THRESHOLD,
                                                                pools_result=pools_result)
        pools = pools_from_result(module, pools_result[0])
        if errors:
            identity, error = errors[0]
            module.fail_json_from_error(error, cmdlet="Get-CsUser",
                                        msg="Get-CsUser -Identity %r failed: %s" % (identity, error.message))
        for identity in good:
            if identity in found:
                facts = user_facts(found[identity], pools, identity=identity)
                if wanted(facts, params):
                    users.append(facts)
    else:
        call_params = {}
        if params["ou"]:
            call_params["OU"] = params["ou"]
        if params["filter"]:
            call_params["Filter"] = params["filter"]
        if params["legacy_only"]:
            call_params["OnOfficeCommunicationServer"] = True
        # One PowerShell process for both reads; in pieces when the host's shell cannot hold every user at once.
        (pools_result,), objects = read_directory(module, call_params, USER_PROPERTIES, first=[pools_call()])
        pools = pools_from_result(module, pools_result)
        users = [f for f in (user_facts(o, pools) for o in objects) if wanted(f, params)]
    for facts in users:
        facts["name_problems"] = account_name_problems(facts)
    return dict(changed=False, users=users, not_found=not_found, ambiguous=ambiguous, malformed=malformed,
                problems=lookup_problems(malformed, not_found, ambiguous), count=len(users))


def main():
    module = LyncModule(
        argument_spec=dict(
            identities=dict(type="list", elements="str"),
            ou=dict(type="str"),
            filter=dict(type="str"),
            legacy_only=dict(type="bool", default=False),
            registrar_pool=dict(type="str"),
        ),
        mutually_exclusive=[("identities", "ou"), ("identities", "filter")],
        supports_check_mode=True,
    )
    module.exit_json(**user_info(module))


if __name__ == "__main__":
    main()
