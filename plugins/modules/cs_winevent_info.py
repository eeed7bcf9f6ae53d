#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_winevent_info
short_description: Read Windows event log entries from a Lync or OCS server
description:
  - Runs C(Get-WinEvent -FilterHashtable) with the given log, provider and event ID, for example to find
    LS User Replicator event 30024 (initial user replication completed, migration guide P6.1).
  - No events found is an empty result, not an error.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
  - lync.migration.attributes.info_module
options:
  log_name:
    description: Event log name, such as C(Lync Server).
    type: str
    required: true
  provider_name:
    description: Event source, such as C(LS User Replicator).
    type: str
  event_id:
    description: Event IDs to match.
    type: list
    elements: int
  max_events:
    description: Newest events to return at most (1 to 10000).
    type: int
    default: 50
"""

EXAMPLES = r"""
- name: Has the User Replicator finished its initial synchronization?
  lync.migration.cs_winevent_info:
    log_name: Lync Server
    provider_name: LS User Replicator
    event_id: [30024]
    max_events: 1
  register: replicator
  failed_when: replicator.count == 0
"""

RETURN = r"""
events:
  description: Matching events, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    id: {description: Event ID, type: int}
    provider: {description: Event source, type: str}
    time_created: {description: When it was logged, type: str}
    level: {description: "Level name (Information, Warning, Error)", type: str}
    message: {description: Event text, type: str}
count:
  description: Number of events returned.
  returned: always
  type: int
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.error_ids import error_id
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule

PROPERTIES = ["Id", "ProviderName", "TimeCreated", "LevelDisplayName", "Message"]


def filter_hashtable(params):
    table = {"LogName": params["log_name"]}
    if params["provider_name"]:
        table["ProviderName"] = params["provider_name"]
    if params["event_id"]:
        table["Id"] = params["event_id"]
    return table


def no_events(error):
    # Get-WinEvent reports an empty match as an error, FullyQualifiedErrorId
    # NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand (PowerShell/PowerShell issue #2327
    # shows it). Its message is localised (French on a French server), so only the id is tested.
    return error_id(error) == "NoMatchingEventsFound"


def winevent_info(module):
    params = module.params
    if not 1 <= params["max_events"] <= 10000:
        module.fail_json(msg="option max_events: must be between 1 and 10000, got %d" % params["max_events"])
    call = Call("Get-WinEvent", {"FilterHashtable": filter_hashtable(params), "MaxEvents": params["max_events"]},
                select=PROPERTIES)
    result = module.run_calls([call])[0]
    if not result.ok and not no_events(result.error):
        module.fail_json_from_error(result.error, cmdlet="Get-WinEvent")
    events = [{
        "id": o.get("Id"),
        "provider": o.get("ProviderName"),
        "time_created": o.get("TimeCreated"),
        "level": o.get("LevelDisplayName"),
        "message": o.get("Message"),
    } for o in (result.objects if result.ok else [])]
    return dict(changed=False, events=events, count=len(events))


def main():
    module = LyncModule(
        argument_spec=dict(
            log_name=dict(type="str", required=True),
            provider_name=dict(type="str"),
            event_id=dict(type="list", elements="int"),
            max_events=dict(type="int", default=50),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**winevent_info(module))


if __name__ == "__main__":
    main()
