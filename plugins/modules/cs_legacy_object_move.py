#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_legacy_object_move
short_description: Move the pool-level objects that do not move with users from a legacy pool to a Lync pool
description:
  - Lists the objects of one kind still homed on the source (OCS 2007 R2) pool, moves each with the cmdlet the
    migration guide names, and reads them back to verify that none remain on the source.
  - C(response_groups) (P9.1) runs C(Move-CsRgsConfiguration -Source <pool FQDN> -Destination <pool FQDN>) (the
    cmdlet's -Source and -Destination are pool FQDNs, as its reference and the guide's example show) when a
    Response Group contact object is still on the source, then checks with C(Get-CsRgsWorkflow), C(Get-CsRgsQueue) and C(Get-CsRgsAgentGroup)
    that every workflow, queue and agent group is on the destination, and exports the moved configuration with
    C(Export-CsRgsConfiguration) as the guide's safety copy ("export the response groups right after migrating").
  - C(dial_in_numbers) (P9.2) runs C(Move-CsApplicationEndpoint -Identity <SIP URI> -TargetApplicationPool) per
    access number (read with C(Get-CsDialInConferencingAccessNumber)).
  - C(exum_contacts) (P9.11) runs C(Move-CsExUmContact -Identity -Target -Confirm:$false) per contact.
  - C(conference_directories) (P10.1) moves each directory with C(Move-CsConferenceDirectory -Identity -TargetPool),
    never with C(-Force) (which loses the dial-in codes of existing meetings). A failed move is retried once in a
    new PowerShell session, the guide's fix for the Management Shell's stale permissions. It writes no backup;
    C(Export-CsUserData), which the Move-CsConferenceDirectory reference recommends, exports Lync Server pools only,
    and an OCS 2007 R2 pool's directories live in that pool's back-end database, backed up with the OCS 2007 R2
    procedures (the decommission role's guided step C(P10.1-confdir-backup) asks for that backup first).
  - C(rgs_contacts_rollback) is the guide's Response Group rollback, in which the Response Group contact objects go back to
    the legacy pool with C(Move-CsApplicationEndpoint) (the legacy configuration stays there).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  object_type:
    description: Which objects to move.
    type: str
    required: true
    choices: [response_groups, dial_in_numbers, exum_contacts, conference_directories, rgs_contacts_rollback]
  source_pool:
    description: FQDN of the pool the objects leave (the legacy pool; the Lync pool for a rollback).
    type: str
    required: true
  target_pool:
    description: FQDN of the pool the objects go to.
    type: str
    required: true
  backup_dir:
    description: Folder on the Lync server for the Response Group export (C(response_groups)).
    type: str
    default: C:\LyncMigration\backup
attributes:
  check_mode:
    support: full
    description: Lists what would move and the cmdlets it would run; runs only Get- cmdlets.
  diff_mode:
    support: full
    description: The objects on the source pool before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: Move the Exchange UM contacts to the Lync pool (P9.11)
  lync.migration.cs_legacy_object_move:
    object_type: exum_contacts
    source_pool: pool01.contoso.net
    target_pool: pool02.contoso.net

- name: Move the conference directories (P10.1; back up the legacy pool's back-end database first)
  lync.migration.cs_legacy_object_move:
    object_type: conference_directories
    source_pool: pool01.contoso.net
    target_pool: pool02.contoso.net
"""

RETURN = r"""
on_source_before:
  description: The objects (SIP URI, or directory identity) homed on the source pool before the task.
  returned: always
  type: list
  elements: str
moved:
  description: The objects moved (or, in check mode, that would move).
  returned: always
  type: list
  elements: str
remaining:
  description: The objects still on the source pool after the task (empty on success; the plan in check mode).
  returned: always
  type: list
  elements: str
cmdlets:
  description: The changing cmdlets run (or that would run), one line each.
  returned: always
  type: list
  elements: str
backups:
  description: Files written on the Lync server (the Response Group export).
  returned: always
  type: list
  elements: str
verified:
  description: For response_groups, the workflows, queues and agent groups found on the target pool.
  returned: when object_type is response_groups
  type: dict
"""

import ntpath
import time

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule

RGS_URN = "urn:application:rgs"


def same(a, b):
    return str(a or "").lower() == str(b or "").lower()


def service_pool(value):
    """'UserServer:pool01.contoso.net' -> 'pool01.contoso.net'."""
    text = str(value or "")
    return text.split(":", 1)[1] if ":" in text else text


def list_on(module, object_type, pool):
    """[(key shown to users, identity the move cmdlet takes)] homed on ``pool``."""
    if object_type in ("response_groups", "rgs_contacts_rollback"):
        objs = module.call_or_fail("Get-CsTrustedApplicationEndpoint", {},
                                   select=["SipAddress", "RegistrarPool", "OwnerUrn"])
        return [(o["SipAddress"], o["SipAddress"]) for o in objs
                if same(o.get("OwnerUrn"), RGS_URN) and same(o.get("RegistrarPool"), pool)]
    if object_type == "dial_in_numbers":
        objs = module.call_or_fail("Get-CsDialInConferencingAccessNumber", {}, select=["PrimaryUri", "Pool"])
        return [(o["PrimaryUri"], o["PrimaryUri"]) for o in objs if same(o.get("Pool"), pool)]
    if object_type == "exum_contacts":
        objs = module.call_or_fail("Get-CsExUmContact", {}, select=["Identity", "SipAddress", "RegistrarPool"])
        return [(o["SipAddress"], o["Identity"]) for o in objs if same(o.get("RegistrarPool"), pool)]
    objs = module.call_or_fail("Get-CsConferenceDirectory", {}, select=["Identity", "ServiceId"])
    return [(str(o["Identity"]), str(o["Identity"])) for o in objs if same(service_pool(o.get("ServiceId")), pool)]


def run_or_fail(module, cmdlet, params, cmdlets, retry_in_new_session=False):
    cmdlets.append("%s %s" % (cmdlet, " ".join("-%s %s" % (k, v) for k, v in params.items())))
    if module.check_mode:
        return []
    result = module.run_calls([Call(cmdlet, params)])[0]
    if not result.ok and retry_in_new_session:
        # P10.1: the Management Shell may need refreshed permissions from AD; the guide's fix is a new shell.
        module.close_client()
        result = module.run_calls([Call(cmdlet, params)])[0]
    if not result.ok:
        module.fail_json_from_error(result.error, cmdlet=cmdlet, cmdlets=cmdlets)
    return result.objects


def rgs_objects(module, pool):
    out = {}
    for cmdlet, key in (("Get-CsRgsWorkflow", "workflows"), ("Get-CsRgsQueue", "queues"),
                        ("Get-CsRgsAgentGroup", "agent_groups")):
        objs = module.call_or_fail(cmdlet, {"Identity": "service:ApplicationServer:%s" % pool}, select=["Name"])
        out[key] = sorted(o["Name"] for o in objs)
    return out


def move(module):
    p = module.params
    kind, source, target = p["object_type"], p["source_pool"], p["target_pool"]
    before = list_on(module, kind, source)
    cmdlets, backups, moved = [], [], []
    verified = None
    if kind == "response_groups" and before:
        # Pool FQDNs: the cmdlet's -Source/-Destination are strings naming pools, not service identities.
        run_or_fail(module, "Move-CsRgsConfiguration", {"Source": source, "Destination": target}, cmdlets)
        moved = [k for k, _i in before]
        # Export-CsRgsConfiguration fails when the file exists (its reference, -FileName): a name of this run's.
        backup = ntpath.join(p["backup_dir"], "rgs-%s-to-%s-%s.zip" % (
            source, target, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())))
        run_or_fail(module, "Export-CsRgsConfiguration", {"Source": "ApplicationServer:%s" % target,
                                                          "FileName": backup}, cmdlets)
        backups.append(backup)
    elif kind == "conference_directories":
        for key, ident in before:
            run_or_fail(module, "Move-CsConferenceDirectory", {"Identity": ident, "TargetPool": target}, cmdlets,
                        retry_in_new_session=True)
            moved.append(key)
    else:
        for key, ident in before if kind != "response_groups" else []:
            if kind == "exum_contacts":
                run_or_fail(module, "Move-CsExUmContact", {"Identity": ident, "Target": target, "Confirm": False},
                            cmdlets)
            else:   # dial-in numbers and the RGS rollback: contact objects
                run_or_fail(module, "Move-CsApplicationEndpoint", {"Identity": ident, "TargetApplicationPool": target},
                            cmdlets)
            moved.append(key)
    if module.check_mode:
        remaining = [k for k, _i in before]
    else:
        remaining = [k for k, _i in list_on(module, kind, source)] if moved else []
    if kind == "response_groups" and not module.check_mode:
        verified = rgs_objects(module, target)
    if remaining and not module.check_mode:
        module.fail_json(msg="still on %s after the move: %s" % (source, ", ".join(remaining)), moved=moved,
                         remaining=remaining, cmdlets=cmdlets)
    out = dict(changed=bool(moved), on_source_before=[k for k, _i in before], moved=moved, remaining=remaining,
               cmdlets=cmdlets, backups=backups)
    if verified is not None:
        out["verified"] = verified
    if module._diff:
        out["diff"] = {"before": {source: out["on_source_before"]}, "after": {source: remaining}}
    return out


def main():
    module = LyncModule(
        argument_spec=dict(
            object_type=dict(type="str", required=True,
                             choices=["response_groups", "dial_in_numbers", "exum_contacts", "conference_directories",
                                      "rgs_contacts_rollback"]),
            source_pool=dict(type="str", required=True),
            target_pool=dict(type="str", required=True),
            backup_dir=dict(type="str", default="C:\\LyncMigration\\backup"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**move(module))


if __name__ == "__main__":
    main()
