#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_wmi_info
short_description: Read OCS 2007 R2 WMI classes (and Win32 classes) from a legacy server in one round trip
description:
  - Runs C(Get-WmiObject -Namespace <namespace> -Class <class>) for each class, in one PowerShell process,
    without importing the Lync module (OCS 2007 R2 servers have WMI only). Class names and filters travel
    as data, never as script text.
  - Phases 1 and 2 use it to take the legacy inventory before any Lync Server 2013 exists, for example
    C(MSFT_SIPPoolSetting) (pools), C(MSFT_SIPESUserSetting) (users and their home servers),
    C(MSFT_SIPClientVersionFilterData) (client version filter rules).
  - A class the server does not have (C(Invalid class), e.g. a role that is not deployed) is listed in
    C(missing) rather than failing the task, unless I(missing_ok=false).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
  - lync.migration.attributes.info_module
options:
  classes:
    description: WMI class names to read, such as C(MSFT_SIPPoolSetting) or C(Win32_Service).
    type: list
    elements: str
    required: true
  namespace:
    description: The WMI namespace (OCS 2007 R2 registers its C(MSFT_SIP*) classes in C(root\cimv2)).
    type: str
    default: root\cimv2
  filters:
    description:
      - A WQL condition per class (the C(-Filter) value, data), for example
        C(MSFT_SIPESUserSetting) mapped to C(Enabled = TRUE).
    type: dict
    default: {}
  properties:
    description: Properties to return per class (all when a class is not listed).
    type: dict
    default: {}
  missing_ok:
    description: Report a class the server does not have in C(missing) instead of failing.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: The legacy pools and their users (Phase 1 inventory)
  lync.migration.cs_wmi_info:
    classes: [MSFT_SIPPoolSetting, MSFT_SIPESUserSetting]
    properties:
      MSFT_SIPESUserSetting: [PrimaryURI, DisplayName, HomeServerDN, Enabled]
  delegate_to: "{{ groups['ocs_legacy_pool'][0] }}"
  register: legacy

- name: Client version filter rules of the OCS pool (P2.5 evidence)
  lync.migration.cs_wmi_info:
    classes: [MSFT_SIPClientVersionFilterData]
  delegate_to: "{{ groups['ocs_legacy_pool'][0] }}"
"""

RETURN = r"""
instances:
  description: The instances of each class that was read, by class name (classes in C(missing) are absent).
  returned: always
  type: dict
  sample: {"MSFT_SIPPoolSetting": [{"PoolFQDN": "pool01.contoso.net", "PoolType": "Enterprise"}]}
counts:
  description: Number of instances per class read.
  returned: always
  type: dict
missing:
  description: Classes the server does not have (WMI C(Invalid class)).
  returned: always
  type: list
  elements: str
"""

import re

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.response import CallResult
from ansible_collections.lync.migration.plugins.module_utils.lync.error_ids import error_id
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.pieces import out_of_memory, read_in_pieces, wql_pieces

CLASS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAMESPACE = re.compile(r"^[A-Za-z0-9_]+(\\[A-Za-z0-9_]+)*$")


def is_invalid_class(error):
    # Get-WmiObject's 'Invalid class "X"': GetWMIManagementException with category InvalidType (Microsoft's
    # support article "Get-VMNetworkAdapter command doesn't report IP addresses" shows the record). The same id
    # with other categories is another WMI failure (invalid namespace or query, provider load failure); the
    # message is localised, so it is not tested.
    return error_id(error) == "GetWMIManagementException" and error.category == "InvalidType"


# The classes with one instance per user, and the property holding the user's SIP address, by which a read that
# does not fit the host's shell is cut into ranges (ocs2007r2-wmi reference: MSFT_SIPESUserSetting.PrimaryURI).
PIECE_PROPERTY = {"msft_sipesusersetting": "PrimaryURI",
                  # the Active Directory provider's users (root\\directory\\LDAP), by their msRTCSIP SIP address
                  "ds_user": "DS_msRTCSIP_PrimaryUserAddress"}


def _read_in_ranges(module, cls, call, answered):
    base = call.params.get("Filter")

    def make_call(piece_filter):
        return Call("Get-WmiObject", dict(call.params, Filter=piece_filter), select=call.select)

    _first, objects = read_in_pieces(module, call, wql_pieces(PIECE_PROPERTY[cls.lower()], base, make_call),
                                     (None, None), "Get-WmiObject -Class %s" % cls, answered=answered)
    return CallResult(call, True, objects=objects)


def wmi_info(module):
    params = module.params
    problems = ["option classes: %r is not a WMI class name" % (c,) for c in params["classes"] if not CLASS_NAME.match(c)]
    if not NAMESPACE.match(params["namespace"]):
        problems.append("option namespace: %r is not a WMI namespace such as root\\cimv2" % (params["namespace"],))
    for name in list(params["filters"]) + list(params["properties"]):
        if name not in params["classes"]:
            problems.append("class %r has a filter or properties but is not in classes" % (name,))
    if problems:
        module.fail_json(msg="; ".join(problems))
    calls = []
    for cls in params["classes"]:
        call_params = {"Namespace": params["namespace"], "Class": cls}
        if params["filters"].get(cls):
            call_params["Filter"] = str(params["filters"][cls])
        calls.append(Call("Get-WmiObject", call_params, select=params["properties"].get(cls)))
    # No -Cs cmdlet in the batch, so the envelope imports no module: this works on OCS 2007 R2 servers.
    results = module.run_calls(calls)
    instances, counts, missing = {}, {}, []
    for cls, call, result in zip(params["classes"], calls, results):
        if out_of_memory(result) and cls.lower() in PIECE_PROPERTY:
            # Every user of a large pool does not fit one answer of the host's shell (150 MB on WinRM 2.0):
            # the same read in ranges of SIP addresses.
            result = _read_in_ranges(module, cls, call, result)
        elif out_of_memory(result):
            # The PowerShell that ran out of memory took this class's answer with it (another class's read
            # filled the shell): read it again on its own.
            result = module.run_calls([call])[0]
        if result.ok:
            instances[cls] = result.objects
            counts[cls] = len(result.objects)
        elif params["missing_ok"] and is_invalid_class(result.error):
            missing.append(cls)
        else:
            module.fail_json_from_error(result.error, cmdlet="Get-WmiObject -Class %s" % cls)
    return dict(changed=False, instances=instances, counts=counts, missing=missing)


def main():
    module = LyncModule(
        argument_spec=dict(
            classes=dict(type="list", elements="str", required=True),
            namespace=dict(type="str", default="root\\cimv2"),
            filters=dict(type="dict", default={}),
            properties=dict(type="dict", default={}),
            missing_ok=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**wmi_info(module))


if __name__ == "__main__":
    main()
