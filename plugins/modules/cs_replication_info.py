#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_replication_info
short_description: Central Management Store replication status of every replica
description:
  - Runs C(Get-CsManagementStoreReplicationStatus) and reports which replicas are not up to date, the check the
    migration guide asks for after each topology change (for example Phase 7's validation of the Edge).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
  - lync.migration.attributes.info_module
options: {}
"""

EXAMPLES = r"""
- name: Wait until every replica is up to date
  lync.migration.cs_replication_info:
  register: replication
  until: replication.all_up_to_date
  retries: 10
  delay: 30
"""

RETURN = r"""
replicas:
  description: One entry per replica.
  returned: always
  type: list
  elements: dict
  contains:
    replica_fqdn: {description: Replica FQDN, type: str}
    up_to_date: {description: The replica has the latest configuration, type: bool}
    last_status_report: {description: When the replica last reported, type: str}
    last_update_creation: {description: When the last update for it was created, type: str}
all_up_to_date:
  description: Every replica is up to date (false when there are none).
  returned: always
  type: bool
stale:
  description: FQDNs of the replicas that are not up to date.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule, as_bool

PROPERTIES = ["ReplicaFqdn", "UpToDate", "LastStatusReport", "LastUpdateCreation"]


def replication_info(module):
    objects = module.call_or_fail("Get-CsManagementStoreReplicationStatus", {}, select=PROPERTIES)
    replicas = [{
        "replica_fqdn": o.get("ReplicaFqdn"),
        "up_to_date": as_bool(o.get("UpToDate")),
        "last_status_report": o.get("LastStatusReport"),
        "last_update_creation": o.get("LastUpdateCreation"),
    } for o in objects]
    stale = [r["replica_fqdn"] for r in replicas if not r["up_to_date"]]
    return dict(changed=False, replicas=replicas, stale=stale, all_up_to_date=bool(replicas) and not stale)


def main():
    module = LyncModule(argument_spec=dict(), supports_check_mode=True)
    module.exit_json(**replication_info(module))


if __name__ == "__main__":
    main()
