#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_object_info
short_description: Run one read-only Lync, WMI or service query (an escape hatch for gates and checks)
description:
  - Runs one C(Get-Cs*) or C(Test-Cs*) cmdlet, or C(Get-WmiObject) or C(Get-Service), with the given parameters
    passed as data, and returns the objects. Nothing else can be run through this module.
  - Use it for phase gates and verifications that no dedicated module covers, for example
    C(Get-CsConferenceDirectory) or the OCS 2007 R2 WMI class C(MSFT_SIPESUserSetting).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
  - lync.migration.attributes.info_module
options:
  cmdlet:
    description: A C(Get-Cs*) or C(Test-Cs*) cmdlet, C(Get-WmiObject) or C(Get-Service).
    type: str
    required: true
  parameters:
    description:
      - Parameters as a dictionary; C(true) is a present switch. Values are data, never script text.
    type: dict
    default: {}
  properties:
    description: Properties to return (all when omitted).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Legacy conference directories still to move
  lync.migration.cs_object_info:
    cmdlet: Get-CsConferenceDirectory
    properties: [Identity, ServiceId]
  register: directories

- name: Users homed on the OCS 2007 R2 pool (WMI on the OCS server)
  lync.migration.cs_object_info:
    cmdlet: Get-WmiObject
    parameters:
      Namespace: root\cimv2
      Class: MSFT_SIPESUserSetting
    properties: [PrimaryURI, HomeServerDN]
  delegate_to: "{{ groups['ocs_legacy_pool'][0] }}"
"""

RETURN = r"""
objects:
  description: The objects the cmdlet returned, with the selected properties, values as strings, numbers,
    booleans, null or lists of strings.
  returned: always
  type: list
  elements: dict
count:
  description: Number of objects.
  returned: always
  type: int
"""

import re

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.users import read_directory

READ_ONLY_CMDLET = re.compile(r"^(Get|Test)-Cs[A-Za-z]+$", re.I)
OTHER_READ_ONLY = ("get-wmiobject", "get-service")
PARAMETER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def check_cmdlet(cmdlet):
    if READ_ONLY_CMDLET.match(cmdlet or "") or (cmdlet or "").lower() in OTHER_READ_ONLY:
        return None
    return ("option cmdlet: %r is not allowed; cs_object_info only runs Get-Cs* and Test-Cs* cmdlets, "
            "Get-WmiObject and Get-Service (use the dedicated modules to change things)" % (cmdlet,))


def object_info(module):
    params = module.params
    problem = check_cmdlet(params["cmdlet"])
    if problem:
        module.fail_json(msg=problem)
    for name in params["parameters"]:
        if not PARAMETER_NAME.match(name):
            module.fail_json(msg="option parameters: %r is not a parameter name (letters and digits, no dash)"
                                 % (name,))
    if params["cmdlet"].lower() == "get-csuser" and not any(k.lower() == "identity" for k in params["parameters"]):
        # Every user (or a filter's share of them): in pieces when one answer does not fit the host's shell.
        _first, objects = read_directory(module, params["parameters"], params["properties"])
    else:
        objects = module.call_or_fail(params["cmdlet"], params["parameters"], select=params["properties"])
    return dict(changed=False, objects=objects, count=len(objects))


def main():
    module = LyncModule(
        argument_spec=dict(
            cmdlet=dict(type="str", required=True),
            parameters=dict(type="dict", default={}),
            properties=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**object_info(module))


if __name__ == "__main__":
    main()
