#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_backcompat_site
short_description: Delete BackCompatSite from the Lync Server 2013 topology once it lists no server (P10.4)
description:
  - The last step of the migration guide (P10.4, I(Remove BackCompatSite)) on the topology document. Reads it with
    C(Get-CsTopology -AsXml); when BackCompatSite exists and lists no server, removes it and publishes with
    C(Publish-CsTopology -Document) and C(Enable-CsTopology).
  - Refuses while BackCompatSite still lists any pool or server, since the guide first re-runs the Merge wizard with an
    empty legacy Edge list after the legacy servers are uninstalled (M(lync.migration.cs_legacy_topology_merge)
    with no edges).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  state:
    description: Only C(absent) is supported (BackCompatSite is created by the merge).
    type: str
    choices: [absent]
    default: absent
attributes:
  check_mode:
    support: full
    description: Reports whether it would delete BackCompatSite, or what still blocks it.
  diff_mode:
    support: full
    description: The topology's sites before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: P10.4 - delete BackCompatSite
  lync.migration.cs_backcompat_site:
    state: absent
"""

RETURN = r"""
servers_listed:
  description: The pools and servers BackCompatSite lists (the task fails when there are any).
  returned: always
  type: list
  elements: str
sites:
  description: The topology's site names after the task.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.topology import TopologyDocument


def backcompat(module):
    doc = TopologyDocument.read(module)
    before = [s["name"] for s in doc.sites()]
    site = doc.backcompat_site()
    if site is None:
        return dict(changed=False, servers_listed=[], sites=before)
    listed = [c["fqdn"] for c in doc.clusters() if c["site"] == site["id"]]
    if listed:
        module.fail_json(msg="BackCompatSite still lists %s; the guide deletes it only when it lists no server: "
                             "uninstall the legacy servers (P10.3), then re-run the merge with an empty legacy Edge "
                             "list" % ", ".join(listed), servers_listed=listed, sites=before)
    doc.remove_site(site)
    after = [s["name"] for s in doc.sites()]
    if not module.check_mode:
        doc.publish(module)
        after = [s["name"] for s in TopologyDocument.read(module).sites()]
    out = dict(changed=True, servers_listed=[], sites=after)
    if module._diff:
        out["diff"] = {"before": {"sites": before}, "after": {"sites": after}}
    return out


def main():
    module = LyncModule(argument_spec=dict(state=dict(type="str", choices=["absent"], default="absent")),
                        supports_check_mode=True)
    module.exit_json(**backcompat(module))


if __name__ == "__main__":
    main()
