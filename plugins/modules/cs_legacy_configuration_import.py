#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_legacy_configuration_import
short_description: Import the OCS 2007 R2 policies and settings into Lync Server 2013 (Import-CsLegacyConfiguration)
description:
  - Migration guide P4.3. Looks up the Lync copy of each legacy item given in C(expected); when one is missing, runs
    C(Import-CsLegacyConfiguration -Report), which imports only new items, and checks that every copy now exists.
  - With C(replace_existing) (the legacy side changed since the last import) runs it with C(-ReplaceExisting),
    which overwrites the Lync copies, but first compares the Lync copies with C(baseline_fingerprint), the
    C(fingerprint) this module returned after the previous import, and refuses when they differ, since copies edited on
    the Lync side must not be overwritten silently.
  - Needs OCSWMIBC.msi on the server and a merged, published topology (Phase 4).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  expected:
    description: The Lync copies the legacy configuration gives, C(cmdlet) (the Get- cmdlet) and C(identity).
    type: list
    elements: dict
    default: []
    suboptions:
      cmdlet:
        description: The cmdlet that reads the copy.
        type: str
        required: true
        choices: [Get-CsConferencingPolicy, Get-CsDialPlan, Get-CsVoicePolicy, Get-CsVoiceRoute, Get-CsPresencePolicy,
                  Get-CsExternalAccessPolicy, Get-CsArchivingPolicy]
      identity:
        description: Identity of the copy (C(Tag:<legacy name>) for policies, the name for routes).
        type: str
        required: true
  replace_existing:
    description: Run the import with C(-ReplaceExisting) (after the edit check against C(baseline_fingerprint)).
    type: bool
    default: false
  baseline_fingerprint:
    description: C(fingerprint) returned after the previous import; required with C(replace_existing).
    type: str
  report_path:
    description: The C(-Report) file on the server; read back and returned.
    type: str
    default: C:\LyncMigration\Phase4\Import-CsLegacyConfiguration.html
attributes:
  check_mode:
    support: full
    description: Reports the missing copies and whether the import would run.
  diff_mode:
    support: none
    description: Reports what it found and did; there is no document to compare.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: P4.3 - import the legacy policies
  lync.migration.cs_legacy_configuration_import:
    expected:
      - {cmdlet: Get-CsConferencingPolicy, identity: "Tag:Standard Meeting Policy"}
      - {cmdlet: Get-CsVoiceRoute, identity: W15PSTNRoute}
"""

RETURN = r"""
missing_before:
  description: Copies that did not exist when the task started (C(cmdlet identity)).
  returned: always
  type: list
  elements: str
imported:
  description: The import ran (or would run, in check mode).
  returned: always
  type: bool
replaced:
  description: The import ran with C(-ReplaceExisting).
  returned: always
  type: bool
fingerprint:
  description: SHA-256 of the Lync copies after the task; give it back as C(baseline_fingerprint) next time.
  returned: always
  type: str
report:
  description: The C(-Report) text when the import ran.
  returned: when the import ran
  type: str
"""

import hashlib
import json

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.error_ids import error_id, exception_is
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.users import classify_lookup


def read_copies(module):
    """(found objects by label, missing labels)."""
    items = module.params["expected"]
    results = module.run_calls([Call(i["cmdlet"], {"Identity": i["identity"]}) for i in items])
    found, missing = {}, []
    for item, res in zip(items, results):
        label = "%s %s" % (item["cmdlet"], item["identity"])
        kind, detail = classify_lookup(res)
        if kind == "error" and (error_id(detail) == "MissingItem" or exception_is(detail, "ItemNotFoundException")
                                or "does not exist" in (detail.message or "")):
            # Get-CsConferencingPolicy and the like: 'Cannot get ... because it does not exist.' By its id or
            # exception first (localised message); both are the lab's (assumed), so the English text stays last.
            kind = "not_found"
        if kind == "error":
            module.fail_json_from_error(detail, cmdlet=item["cmdlet"])
        if kind == "not_found":
            missing.append(label)
        else:
            found[label] = detail if kind == "found" else res.objects
    return found, missing


def fingerprint(found):
    return hashlib.sha256(json.dumps(found, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def legacy_import(module):
    p = module.params
    found, missing = read_copies(module)
    current = fingerprint(found)
    out = dict(changed=False, missing_before=missing, imported=False, replaced=False, fingerprint=current)
    replace = bool(p["replace_existing"]) and not missing
    if p["replace_existing"]:
        if not p["baseline_fingerprint"]:
            module.fail_json(msg="replace_existing needs baseline_fingerprint (the fingerprint of the previous "
                                 "import) to check that the Lync copies were not edited")
        if p["baseline_fingerprint"] != current and not missing:
            module.fail_json(msg="the Lync copies of the legacy configuration were changed since the last import; "
                                 "-ReplaceExisting would overwrite those edits. Review them, then import again "
                                 "without replace_existing or record the new baseline", fingerprint=current)
    if not missing and not replace:
        return out
    out.update(changed=True, imported=True, replaced=replace)
    if module.check_mode:
        return out
    params = {"Report": p["report_path"]}
    if replace:
        params["ReplaceExisting"] = True
    module.call_or_fail("Import-CsLegacyConfiguration", params)
    report = module.run_calls([Call("Get-Content", {"Path": p["report_path"], "Raw": True})])[0]
    out["report"] = next((o for o in report.objects if isinstance(o, str)), None) if report.ok else None
    found, still_missing = read_copies(module)
    if still_missing:
        module.fail_json(msg="Import-CsLegacyConfiguration ran but these copies are still missing: %s"
                             % ", ".join(still_missing))
    out["fingerprint"] = fingerprint(found)
    return out


def main():
    module = LyncModule(
        argument_spec=dict(
            expected=dict(type="list", elements="dict", default=[], options=dict(
                cmdlet=dict(type="str", required=True, choices=[
                    "Get-CsConferencingPolicy", "Get-CsDialPlan", "Get-CsVoicePolicy", "Get-CsVoiceRoute",
                    "Get-CsPresencePolicy", "Get-CsExternalAccessPolicy", "Get-CsArchivingPolicy"]),
                identity=dict(type="str", required=True))),
            replace_existing=dict(type="bool", default=False),
            baseline_fingerprint=dict(type="str"),
            report_path=dict(type="str", default="C:\\LyncMigration\\Phase4\\Import-CsLegacyConfiguration.html"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**legacy_import(module))


if __name__ == "__main__":
    main()
