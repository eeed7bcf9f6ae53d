#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_conference_directory
short_description: List conference directories and import the legacy ones into Lync Server 2013
description:
  - Lists the conference directories with C(Get-CsConferenceDirectory) (migration guide P4.4 (e)).
  - With C(import_legacy), when no directory of the given legacy pools is listed yet, runs
    C(Import-CsLegacyConferenceDirectory -Report), which its reference says to run after C(Merge-CsLegacyTopology)
    and whenever the legacy conference directories change (C(force)), then lists them again.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  legacy_pools:
    description: OCS 2007 R2 pool FQDNs whose conference directories are expected.
    type: list
    elements: str
    default: []
  import_legacy:
    description: Import the legacy conference directories when none of the legacy pools' is listed.
    type: bool
    default: false
  force:
    description: Run the import even when legacy directories are already listed.
    type: bool
    default: false
  report_path:
    description: The C(-Report) file on the server; read back and returned.
    type: str
    default: C:\LyncMigration\Phase4\Import-CsLegacyConferenceDirectory.html
attributes:
  check_mode:
    support: full
    description: Lists and reports whether the import would run.
  diff_mode:
    support: none
    description: Reports what it found and did; there is no document to compare.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: P4.4 - legacy conference directories imported and listed
  lync.migration.cs_conference_directory:
    legacy_pools: [pool01.contoso.net]
    import_legacy: true
"""

RETURN = r"""
directories:
  description: The conference directories after the task, C(identity) and C(pool) (from the ServiceId).
  returned: always
  type: list
  elements: dict
legacy_directories:
  description: Identities of the directories homed on the legacy pools.
  returned: always
  type: list
  elements: str
report:
  description: The import's C(-Report) text when it ran.
  returned: when the import ran
  type: str
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule


def listing(module):
    rows = module.call_or_fail("Get-CsConferenceDirectory", {}, select=["Identity", "ServiceId"])
    out = []
    for r in rows:
        service = str(r.get("ServiceId") or "")
        out.append({"identity": str(r.get("Identity")), "pool": service.split(":", 1)[-1]})
    return out


def conference_directories(module):
    p = module.params
    legacy = set(x.lower() for x in p["legacy_pools"])
    before = listing(module)
    legacy_before = [d["identity"] for d in before if d["pool"].lower() in legacy]
    out = dict(changed=False, directories=before, legacy_directories=legacy_before)
    if not p["import_legacy"] or (legacy_before and not p["force"]):
        return out
    if module.check_mode:
        out["changed"] = not legacy_before
        return out
    res = module.run_calls([Call("Import-CsLegacyConferenceDirectory", {"Report": p["report_path"]})])[0]
    if not res.ok:
        module.fail_json_from_error(res.error, cmdlet="Import-CsLegacyConferenceDirectory")
    report = module.run_calls([Call("Get-Content", {"Path": p["report_path"], "Raw": True})])[0]
    after = listing(module)
    legacy_after = [d["identity"] for d in after if d["pool"].lower() in legacy]
    out.update(changed=after != before, directories=after, legacy_directories=legacy_after,
               report=next((o for o in report.objects if isinstance(o, str)), None) if report.ok else None)
    return out


def main():
    module = LyncModule(
        argument_spec=dict(
            legacy_pools=dict(type="list", elements="str", default=[]),
            import_legacy=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            report_path=dict(type="str", default="C:\\LyncMigration\\Phase4\\Import-CsLegacyConferenceDirectory.html"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**conference_directories(module))


if __name__ == "__main__":
    main()
