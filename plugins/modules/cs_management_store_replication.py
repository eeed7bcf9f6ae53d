#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_management_store_replication
short_description: Bring every Central Management store replica up to date, waiting a bounded time
description:
  - Reads C(Get-CsManagementStoreReplicationStatus). When a replica is not up to date (a first reading of
    C(False) after a publish is normal, migration guide P5.3 and P7.4) runs C(Invoke-CsManagementStoreReplication)
    and reads the status again every C(interval) seconds until every replica is up to date or C(timeout)
    seconds have passed, which fails the task and names the replicas still behind.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  replica_fqdn:
    description: Check and replicate only this computer (C(-ReplicaFqdn)).
    type: str
  timeout:
    description: Seconds to wait for the replicas after invoking replication (Microsoft expects two to three minutes).
    type: int
    default: 300
  interval:
    description: Seconds between two readings of the status.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    description: Reports the stale replicas; invokes nothing.
  diff_mode:
    support: none
    description: Reports what it found and did; there is no document to compare.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: P5.3 - replication up to date
  lync.migration.cs_management_store_replication:
    timeout: 300
"""

RETURN = r"""
stale_before:
  description: Replicas that were not up to date when the task started.
  returned: always
  type: list
  elements: str
replicas:
  description: Replica FQDN -> up to date, after the task.
  returned: always
  type: dict
waited:
  description: Seconds spent waiting after C(Invoke-CsManagementStoreReplication).
  returned: always
  type: float
"""

import time

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule, as_bool


def status(module):
    params = {"ReplicaFqdn": module.params["replica_fqdn"]} if module.params["replica_fqdn"] else {}
    rows = module.call_or_fail("Get-CsManagementStoreReplicationStatus", params, select=["ReplicaFqdn", "UpToDate"])
    return dict((r.get("ReplicaFqdn"), as_bool(r.get("UpToDate"))) for r in rows)


def replicate(module):
    p = module.params
    replicas = status(module)
    stale = sorted(f for f, ok in replicas.items() if not ok)
    out = dict(changed=bool(stale), stale_before=stale, replicas=replicas, waited=0.0)
    if not stale or module.check_mode:
        return out
    params = {"ReplicaFqdn": p["replica_fqdn"]} if p["replica_fqdn"] else {}
    module.call_or_fail("Invoke-CsManagementStoreReplication", params)
    started = time.monotonic()
    while True:
        replicas = status(module)
        behind = sorted(f for f, ok in replicas.items() if not ok)
        waited = time.monotonic() - started
        if not behind:
            out.update(replicas=replicas, waited=round(waited, 1))
            return out
        if waited + p["interval"] > p["timeout"]:
            module.fail_json(msg="replication did not complete within %d seconds; not up to date: %s (is the Lync "
                                 "Server Replica Replicator Agent running there?)" % (p["timeout"], ", ".join(behind)),
                             replicas=replicas)
        time.sleep(p["interval"])


def main():
    module = LyncModule(
        argument_spec=dict(replica_fqdn=dict(type="str"), timeout=dict(type="int", default=300),
                           interval=dict(type="int", default=10)),
        supports_check_mode=True,
    )
    module.exit_json(**replicate(module))


if __name__ == "__main__":
    main()
