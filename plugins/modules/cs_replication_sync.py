#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_replication_sync
short_description: Bring Central Management store replicas up to date, with a bounded wait
description:
  - Reads C(Get-CsManagementStoreReplicationStatus). When a requested replica reads False, runs
    C(Invoke-CsManagementStoreReplication -ReplicaFqdn) for it and polls until it reads True or the wait runs out
    (migration guide P5.3, P7.4, and after each publish).
version_added: 0.1.0
author: lync.migration maintainers
extends_documentation_fragment:
  - lync.migration.connection
options:
  replicas:
    description: Replica FQDNs that must be up to date (every replica when empty).
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for the replicas after invoking replication.
    type: int
    default: 120
  poll_interval:
    description: Seconds between two readings.
    type: int
    default: 5
attributes:
  check_mode:
    support: full
    description: Reads the status only and reports the replicas it would replicate to.
  diff_mode:
    support: none
  platform:
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: The Edge is up to date in replication (P7.4)
  lync.migration.cs_replication_sync:
    replicas: [lync-edge01.contoso.net]
    timeout: 300
"""

RETURN = r"""
status:
  description: Each requested replica with up_to_date after the task.
  returned: always
  type: list
  elements: dict
invoked:
  description: The replicas Invoke-CsManagementStoreReplication was run for (or would be, in check mode).
  returned: always
  type: list
  elements: str
"""

import time

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule, as_bool


def read(module, wanted):
    rows = module.call_or_fail("Get-CsManagementStoreReplicationStatus", {},
                               select=["ReplicaFqdn", "UpToDate", "LastStatusReport"])
    status = [{"replica": r["ReplicaFqdn"], "up_to_date": as_bool(r.get("UpToDate"))} for r in rows]
    if wanted:
        known = dict((s["replica"].lower(), s) for s in status)
        missing = [w for w in wanted if w.lower() not in known]
        if missing:
            module.fail_json(msg="not a replica of the Central Management store (is it in the published topology?): "
                             + ", ".join(missing), status=status)
        status = [known[w.lower()] for w in wanted]
    return status


def sync(module):
    p = module.params
    status = read(module, p["replicas"])
    stale = [s["replica"] for s in status if not s["up_to_date"]]
    if not stale or module.check_mode:
        return dict(changed=bool(stale), status=status, invoked=stale)
    for fqdn in stale:
        module.call_or_fail("Invoke-CsManagementStoreReplication", {"ReplicaFqdn": fqdn})
    deadline = time.time() + p["timeout"]
    while True:
        status = read(module, p["replicas"])
        left = [s["replica"] for s in status if not s["up_to_date"]]
        if not left:
            return dict(changed=True, status=status, invoked=stale)
        if time.time() >= deadline:
            module.fail_json(msg="still not up to date after %ss: %s (is the Replica Replicator Agent running there?)"
                             % (p["timeout"], ", ".join(left)), status=status, invoked=stale)
        time.sleep(p["poll_interval"])


def main():
    module = LyncModule(
        argument_spec=dict(
            replicas=dict(type="list", elements="str", default=[]),
            timeout=dict(type="int", default=120),
            poll_interval=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**sync(module))


if __name__ == "__main__":
    main()
