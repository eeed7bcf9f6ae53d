#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_server_service
short_description: Stop, start or disable one Windows service on an OCS 2007 R2 or Lync Server 2013 server
description:
  - Reads the service with C(Get-Service) and its startup type from WMI (C(Get-WmiObject Win32_Service)), then
    runs C(Set-Service -StartupType) and C(Stop-Service) or
    C(Start-Service) only for what differs, and reads it back. Works on OCS 2007 R2 servers (no Lync module is
    imported there).
  - Written for P8.1.i, stopping the B(Office Communications Server Access Edge) service on each legacy Edge and
    setting it to Disabled. O(display_name) guards against acting on the wrong service; the guide's stray line
    about the I(Lync Server) Access Edge must never stop the Lync 2013 Edge.
  - For all Lync Server services of a computer at once, use M(lync.migration.cs_windows_service).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  name:
    description: The service name, for example C(RTCSRV).
    type: str
    required: true
  display_name:
    description: When given, the service must have exactly this display name, or nothing is changed.
    type: str
  state:
    description: Whether the service should be running.
    type: str
    choices: [started, stopped]
  start_mode:
    description: The startup type.
    type: str
    choices: [auto, manual, disabled]
attributes:
  check_mode:
    support: full
    description: Reports the cmdlets it would run.
  diff_mode:
    support: full
    description: Status and startup type before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the server over WinRM.
notes:
  - The startup type is read from the C(StartMode) of WMI's Win32_Service, because Get-Service's C(StartType)
    exists only from .NET Framework 4.6.1 on and OCS 2007 R2 servers run .NET 3.5.
  - A service the server does not have (its product was uninstalled) satisfies O(state=stopped); the result's
    status is C(NotInstalled).
"""

EXAMPLES = r"""
- name: P8.1.i - stop and disable the legacy Access Edge
  lync.migration.cs_server_service:
    name: RTCSRV
    display_name: Office Communications Server Access Edge
    state: stopped
    start_mode: disabled
  delegate_to: ocs-edge01.contoso.net
"""

RETURN = r"""
service:
  description: The service after the task.
  returned: always
  type: dict
  sample: {name: RTCSRV, display_name: Office Communications Server Access Edge, status: Stopped, start_type: Disabled}
cmdlets:
  description: The changing cmdlets run (or that would run).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule

START_TYPES = {"auto": "Automatic", "manual": "Manual", "disabled": "Disabled"}


# Win32_Service's StartMode (win32 desktop-src/CIMWin32Prov/win32-service.md) as Set-Service -StartupType names it.
START_MODES = {"auto": "Automatic", "manual": "Manual", "disabled": "Disabled", "boot": "Boot", "system": "System"}


def read(module, name):
    """The service, or None when the server has no such service (its product was uninstalled).

    The startup type comes from WMI's Win32_Service, which every Windows has: Get-Service's StartType exists only
    from .NET Framework 4.6.1 on, and OCS 2007 R2 servers run .NET 3.5 (docs/hosts.md)."""
    service, wmi = module.run_calls([
        Call("Get-Service", {"Name": name}, select=["Name", "DisplayName", "Status"]),
        Call("Get-WmiObject", {"Class": "Win32_Service"}, select=["Name", "StartMode"])])
    if not service.ok:
        if service.error.category == "ObjectNotFound":
            return None
        module.fail_json_from_error(service.error, cmdlet="Get-Service")
    if not wmi.ok:
        module.fail_json_from_error(wmi.error, cmdlet="Get-WmiObject")
    s = service.objects[0]
    mode = next((str(w.get("StartMode") or "") for w in wmi.objects
                 if str(w.get("Name") or "").lower() == str(s.get("Name") or name).lower()), "")
    return {"name": s.get("Name"), "display_name": s.get("DisplayName"), "status": str(s.get("Status")),
            "start_type": START_MODES.get(mode.lower(), mode or None)}


def service(module):
    p = module.params
    before = read(module, p["name"])
    if before is None:
        # A service that is not installed (P10.3 removed the legacy Edge) is as stopped as it gets; one that
        # should run is an error.
        if p["state"] == "started":
            module.fail_json(msg="service %s is not installed on this server" % p["name"])
        return dict(changed=False, service={"name": p["name"], "display_name": None, "status": "NotInstalled",
                                            "start_type": None}, cmdlets=[])
    if p["display_name"] and before["display_name"] != p["display_name"]:
        module.fail_json(msg="service %s on this server is '%s', not '%s': nothing was changed"
                         % (p["name"], before["display_name"], p["display_name"]))
    calls = []
    # Disabled first when stopping, so nothing restarts it in between; enabled first when starting.
    if p["start_mode"] and before["start_type"] != START_TYPES[p["start_mode"]]:
        calls.append(("Set-Service", {"Name": p["name"], "StartupType": START_TYPES[p["start_mode"]]}))
    if p["state"] == "stopped" and before["status"] != "Stopped":
        calls.append(("Stop-Service", {"Name": p["name"]}))
    if p["state"] == "started" and before["status"] != "Running":
        calls.append(("Start-Service", {"Name": p["name"]}))
    after = dict(before)
    if p["start_mode"]:
        after["start_type"] = START_TYPES[p["start_mode"]]
    if p["state"]:
        after["status"] = "Running" if p["state"] == "started" else "Stopped"
    if calls and not module.check_mode:
        for cmdlet, args in calls:
            module.call_or_fail(cmdlet, args)
        wanted = after
        after = read(module, p["name"])
        if after != wanted:
            module.fail_json(msg="service %s is %s/%s after the change, not %s/%s" % (
                p["name"], after["status"], after["start_type"], wanted["status"], wanted["start_type"]))
    out = dict(changed=bool(calls), service=after,
               cmdlets=["%s %s" % (c, " ".join("-%s %s" % kv for kv in sorted(a.items()))) for c, a in calls])
    if module._diff:
        out["diff"] = {"before": before, "after": after}
    return out


def main():
    module = LyncModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            display_name=dict(type="str"),
            state=dict(type="str", choices=["started", "stopped"]),
            start_mode=dict(type="str", choices=["auto", "manual", "disabled"]),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**service(module))


if __name__ == "__main__":
    main()
