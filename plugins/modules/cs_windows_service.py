#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_windows_service
short_description: Start the Lync Server services on a server (Start-CsWindowsService), or report their state
description:
  - Reads the Lync Server services with C(Get-CsWindowsService) and, when O(state=started), runs
    C(Start-CsWindowsService) only if one of them is not running - the Deployment Wizard's last step,
    Start Services (P3.4). Reads the services back and fails if any is still not running.
  - O(state=present) only reports the services.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  computer:
    description: The server whose services to start (C(-ComputerName)); the connected server when omitted.
    type: str
  state:
    description: C(started) starts the services that are not running; C(present) only reads them.
    type: str
    choices: [started, present]
    default: started
attributes:
  check_mode:
    support: full
    description: Reads the services and reports which it would start or reconfigure.
  diff_mode:
    support: full
    description: Status and start mode of each service before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the server over WinRM.
"""

EXAMPLES = r"""
- name: Start the Lync services on the pilot Front End (P3.4)
  lync.migration.cs_windows_service:
    computer: lync-fe01.contoso.net
"""

RETURN = r"""
services:
  description: The Lync Server services after the run (in check mode, as they were).
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Service name, type: str, sample: RTCSRV}
    display_name: {description: Display name, type: str, sample: Lync Server Front-End}
    status: {description: "Running, Stopped, and so on", type: str}
not_running:
  description: Names of the services not running after the run.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule


def _read(module, params):
    objs = module.call_or_fail("Get-CsWindowsService", params, select=["Name", "DisplayName", "Status"])
    return [dict(name=o.get("Name"), display_name=o.get("DisplayName"), status=o.get("Status")) for o in objs]


def windows_service(module):
    params = {"ComputerName": module.params["computer"]} if module.params["computer"] else {}
    services = _read(module, params)
    stopped = [s["name"] for s in services if s["status"] != "Running"]
    if module.params["state"] == "present" or not stopped:
        return dict(changed=False, services=services, not_running=stopped)
    result = dict(changed=True, services=services, not_running=stopped)
    if module._diff:
        result["diff"] = dict(before=dict((s["name"], s["status"]) for s in services),
                              after=dict((s["name"], "Running") for s in services))
    if module.check_mode:
        return result
    module.call_or_fail("Start-CsWindowsService", params)
    services = _read(module, params)
    result.update(services=services, not_running=[s["name"] for s in services if s["status"] != "Running"])
    if result["not_running"]:
        module.fail_json(msg="Start-CsWindowsService returned, but these services are not running: %s"
                             % ", ".join(result["not_running"]), **result)
    return result


def main():
    module = LyncModule(argument_spec=dict(computer=dict(type="str"),
                                           state=dict(type="str", choices=["started", "present"], default="started")),
                        supports_check_mode=True)
    module.exit_json(**windows_service(module))


if __name__ == "__main__":
    main()
