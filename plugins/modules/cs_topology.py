#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_topology
short_description: Publish and enable a Lync Server 2013 topology document when it differs from the published one
description:
  - The scriptable form of Topology Builder's Publish Topology. Reads the published topology with
    C(Get-CsTopology -AsXml) and compares it with O(document), element by element (whitespace and the document's
    C(Signature) aside). When they differ, publishes O(document) with C(Publish-CsTopology -Document) and
    enables it with C(Enable-CsTopology); otherwise nothing runs.
  - The first topology needs a Central Management store, which Publish-CsTopology does not create. With
    O(central_management_store), the store is made the documented way first, only where it is missing -
    C(Install-CsDatabase -CentralManagementDatabase -SqlServerFqdn -SqlInstanceName) when
    C(Test-CsDatabase -CentralManagementDatabase) does not reach it, and C(Set-CsConfigurationStoreLocation)
    when C(Get-CsConfigurationStoreLocation) does not name it - what Topology Builder runs before its first
    publish. A store located on another SQL Server instance is refused (moving it is C(Move-CsManagementServer)).
  - The document places the Central Management Server; for the first topology its C(CentralMgmtStore) must be on
    the instance the store was installed on.
  - The C(Signature) of the published document is carried over to O(document), so an edit of the current
    topology publishes as an edit, not a new topology.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  document:
    description: The whole topology document (XML text), for example rendered from the inventory with a template.
    type: str
    required: true
  enable:
    description: Run C(Enable-CsTopology) after publishing.
    type: bool
    default: true
  central_management_store:
    description:
      - Where the Central Management store is (or is to be) installed. Give it for the first topology (Phase 3);
        left out, the store must already exist.
    type: dict
    suboptions:
      sql_server_fqdn: {description: The SQL Server computer (C(-SqlServerFqdn))., type: str, required: true}
      sql_instance:
        description: The SQL Server instance (C(-SqlInstanceName)); empty for the default instance.
        type: str
        default: rtc
attributes:
  check_mode:
    support: full
    description: Reads the published topology and reports whether it would publish.
  diff_mode:
    support: full
    description: The published topology document before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the server over WinRM.
"""

EXAMPLES = r"""
- name: Create the Central Management store, then define and publish the pilot pool (P3.3)
  lync.migration.cs_topology:
    document: "{{ lookup('ansible.builtin.template', 'topology.xml.j2') }}"
    central_management_store: {sql_server_fqdn: lync-sql01.contoso.net, sql_instance: rtc}
"""

RETURN = r"""
published:
  description: Whether the document was (or, in check mode, would be) published.
  returned: always
  type: bool
first_topology:
  description: There was no published topology before.
  returned: always
  type: bool
central_management_store:
  description: The store's location before and after (C(Get-CsConfigurationStoreLocation)) and whether its database was reachable before.
  returned: when O(central_management_store) is given
  type: dict
cmdlets:
  description: The cmdlets run (or that would run).
  returned: always
  type: list
  elements: str
"""

import re
import xml.etree.ElementTree as ET

from ansible_collections.lync.migration.plugins.module_utils.lync.error_ids import error_id
from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.topology import canonical

_SIGNATURE = re.compile(r'(<Topology\b[^>]*?\sSignature=")([^"]*)(")')


def _no_cms(error):
    # No published topology yet. The id is the lab's (no Microsoft page shows this error), so the English wording
    # stays as a second test for an English server that reports another id (docs/localisation.md).
    return error_id(error) == "NoCentralManagementStore" or "Central Management store" in (error.message or "")


def store_path(sql, instance):
    """The store's SQL Server path as Get-CsConfigurationStoreLocation.md writes it (atl-sql-001.litwareinc.com/rtc;
    the computer alone for a default instance)."""
    return "%s/%s" % (sql, instance) if instance else sql


def same_path(a, b):
    """Paths compared as SQL Server names: case-insensitively, "/" and "\\" alike (the reference writes the
    first, SQL Server's own notation is the second)."""
    return (a or "").replace("\\", "/").lower() == (b or "").replace("\\", "/").lower()


def read_location(module):
    """Get-CsConfigurationStoreLocation: a String per the reference; an object's BackEndServer is read too."""
    for obj in module.call_or_fail("Get-CsConfigurationStoreLocation"):
        if isinstance(obj, dict):
            obj = obj.get("BackEndServer")
        if isinstance(obj, str) and obj.strip():
            return obj.strip()
    return None


def central_management_store(module, spec):
    """The store's database and location, made as Topology Builder makes them before the first publish, only
    what is missing. Returns (report, cmdlets that ran or would run)."""
    sql, instance = spec["sql_server_fqdn"], spec["sql_instance"]
    wanted = store_path(sql, instance)
    before = read_location(module)
    if before is not None and not same_path(before, wanted):
        module.fail_json(msg="the Central Management store is located on %s, not %s: this task creates the first "
                             "store and does not move one (Move-CsManagementServer moves the CMS)" % (before, wanted))
    store_args = {"SqlServerFqdn": sql}
    if instance:
        store_args["SqlInstanceName"] = instance
    test = module.call_or_fail("Test-CsDatabase", dict(store_args, CentralManagementDatabase=True))
    installed = any(isinstance(o, dict) and o.get("Succeed") for o in test)
    plan = []
    if not installed:
        plan.append(Call("Install-CsDatabase", dict(store_args, CentralManagementDatabase=True)))
    if before is None:
        plan.append(Call("Set-CsConfigurationStoreLocation", dict(store_args)))
    after = before
    if plan and not module.check_mode:
        for res in module.run_calls(plan):
            if not res.ok:
                module.fail_json_from_error(res.error, cmdlet=res.call.cmdlet)
        after = read_location(module)
        if not same_path(after, wanted):
            module.fail_json(msg="Set-CsConfigurationStoreLocation returned, but the store is located on %s, not %s"
                                 % (after, wanted))
    args = " ".join("-%s %s" % kv for kv in store_args.items())
    described = [c.cmdlet + (" -CentralManagementDatabase " if c.cmdlet == "Install-CsDatabase" else " ") + args
                 for c in plan]
    return {"location_before": before, "location": after, "database_found": installed}, described


def topology(module):
    document = module.params["document"]
    try:
        wanted = canonical(document)
    except ET.ParseError as exc:
        module.fail_json(msg="option document: not a well-formed XML document: %s" % exc)
    store, store_cmdlets = None, []
    if module.params["central_management_store"]:
        store, store_cmdlets = central_management_store(module, module.params["central_management_store"])
    result = module.run_calls([Call("Get-CsTopology", {"AsXml": True})])[0]
    if result.ok:
        current = result.objects[0] if result.objects else None
        current = current if isinstance(current, str) else None
    elif _no_cms(result.error):
        current = None
    else:
        module.fail_json_from_error(result.error, cmdlet="Get-CsTopology")
    extra = {"central_management_store": store} if store is not None else {}
    if current is not None and canonical(current) == wanted:
        return dict(changed=bool(store_cmdlets), published=False, first_topology=False, cmdlets=store_cmdlets, **extra)
    if current is not None:
        signature = _SIGNATURE.search(current)
        if signature:
            document = _SIGNATURE.sub(lambda m: m.group(1) + signature.group(2) + m.group(3), document, count=1)
    cmdlets = store_cmdlets + ["Publish-CsTopology -Document <document>"] + (
        ["Enable-CsTopology"] if module.params["enable"] else [])
    out = dict(changed=True, published=True, first_topology=current is None, cmdlets=cmdlets, **extra)
    if module._diff:
        out["diff"] = dict(before=current or "", after=document, before_header="published topology",
                           after_header="topology document")
    if module.check_mode:
        return out
    module.call_or_fail("Publish-CsTopology", {"Document": document})
    if module.params["enable"]:
        module.call_or_fail("Enable-CsTopology")
    check = module.call_or_fail("Get-CsTopology", {"AsXml": True})
    if not check or canonical(check[0]) != wanted:
        module.fail_json(msg="Publish-CsTopology returned, but the published topology read back differs from the document",
                         **out)
    return out


def main():
    store_spec = dict(sql_server_fqdn=dict(type="str", required=True), sql_instance=dict(type="str", default="rtc"))
    module = LyncModule(argument_spec=dict(document=dict(type="str", required=True),
                                           enable=dict(type="bool", default=True),
                                           central_management_store=dict(type="dict", options=store_spec)),
                        supports_check_mode=True)
    module.exit_json(**topology(module))


if __name__ == "__main__":
    main()
