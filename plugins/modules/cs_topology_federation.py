#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_topology_federation
short_description: Set a site's federation route and a pool's media Edge association in the topology, and publish
description:
  - Topology Builder's site I(Federation route) and pool I(Associations) dialogs (migration guide P5.1; P8.1.a/e/f).
    Reads the published document with C(Get-CsTopology -AsXml), edits only these two settings as XML data on the
    controller, and when something differs writes the edited document into O(work_dir) on the Lync server
    (C(Set-Content), the text travels as data), publishes it with C(Publish-CsTopology -FileName -Report) and
    C(Enable-CsTopology -Report) (what Topology Builder's Publish Topology runs), then reads it back.
  - When nothing differs nothing is written or published, so a second run reports no change.
  - A file rather than C(-Document) because C(-Document) takes an C(XElement), which a string parameter sent as
    data does not bind to.
  - For whole documents (defining pools), use M(lync.migration.cs_topology).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  site:
    description: Name of the central site whose federation route is set; the first central site when omitted.
    type: str
  federation_route:
    description:
      - FQDN of the Edge pool (or Director pool) the site federates through. An Edge must be enabled for federation
        (merged with I(This Edge pool is used for federation and public IM connectivity), Phase 4).
      - An empty string removes the route (P8.1.a, clear I(Enable SIP federation)).
    type: str
  pool:
    description: FQDN of the Front End pool whose media association C(media_edge) sets.
    type: str
  media_edge:
    description: FQDN of the Edge pool the pool uses for media; an empty string removes the association.
    type: str
  work_dir:
    description:
      - Existing folder on the Lync server for the edited document (C(FederationTopology.xml)) and the C(-Report)
        files of C(Publish-CsTopology) and C(Enable-CsTopology).
    type: str
    default: C:\LyncMigration
attributes:
  check_mode:
    support: full
    description: Reads the topology and reports the change; publishes nothing.
  diff_mode:
    support: full
    description: The federation route and media associations before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: P5.1 - the pilot site federates, and the pilot pool sends media, through the legacy Edge
  lync.migration.cs_topology_federation:
    federation_route: ocs-edge01.contoso.net
    pool: pool02.contoso.net
    media_edge: ocs-edge01.contoso.net
"""

RETURN = r"""
site:
  description: The central site the federation route belongs to.
  returned: always
  type: str
federation_route:
  description: FQDN of the pool the site federates through after the task (null when none).
  returned: always
  type: str
media_edges:
  description: Front End pool FQDN -> the Edge pool FQDN it uses for media, after the task.
  returned: always
  type: dict
backcompat_pools:
  description: FQDNs of the clusters in BackCompatSite (the merged OCS 2007 R2 topology).
  returned: always
  type: list
  elements: str
cmdlets:
  description: The cmdlets that ran (or would run, in check mode).
  returned: always
  type: list
  elements: str
reports:
  description: The C(-Report) files of C(Publish-CsTopology) and C(Enable-CsTopology) when they ran, cmdlet -> text.
  returned: always
  type: dict
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.topology import NS_ROLES, TopologyDocument, q


def federation(module):
    p = module.params
    doc = TopologyDocument.read(module)
    site = next((s for s in doc.sites() if not s["backcompat"]
                 and (p["site"] is None or s["name"].lower() == p["site"].lower())), None)
    if site is None:
        module.fail_json(msg="the topology has no central site%s" % (" named %s" % p["site"] if p["site"] else ""))
    before = doc.federation_summary(site)
    if p["federation_route"] is not None:
        target = p["federation_route"].strip()
        ref = None
        if target:
            edge = doc.service_on(target, "EdgeServer")
            director = doc.service_on(target, "Registrar")
            if edge is None and director is None:
                module.fail_json(msg="federation_route %s is neither an Edge pool nor a Director of the topology (a "
                                     "legacy Edge appears once merged with its Edge input, Phase 4)" % target)
            if edge is not None:
                flags = edge["el"].find(q("EdgeService", NS_ROLES))
                if flags is None or (flags.get("FederationEnabled") or "").lower() != "true":
                    module.fail_json(msg="the Edge %s is not enabled for federation: merge it again with This Edge "
                                         "pool is used for federation and public IM connectivity (Phase 4) first"
                                         % target)
            ref = (edge if edge is not None else director)["sid"]
        doc.set_route(site["id"], ref)
    if p["media_edge"] is not None:
        registrar = doc.service_on(p["pool"] or "", "Registrar")
        if registrar is None:
            module.fail_json(msg="pool %s is not a Front End pool of the topology" % p["pool"])
        ref = None
        if p["media_edge"].strip():
            edge = doc.service_on(p["media_edge"].strip(), "EdgeServer")
            if edge is None:
                module.fail_json(msg="media_edge %s is not an Edge pool of the topology" % p["media_edge"])
            ref = edge["sid"]
        doc.set_media(registrar["el"], ref)
    after = doc.federation_summary(site)
    changed = after != before
    work = p["work_dir"].rstrip("\\")
    files = {"document": work + "\\FederationTopology.xml", "Publish-CsTopology": work + "\\Publish-CsTopology.html",
             "Enable-CsTopology": work + "\\Enable-CsTopology.html"}
    plan = [Call("Set-Content", {"Path": files["document"], "Value": doc.text(indent=True), "Encoding": "UTF8"}),
            Call("Publish-CsTopology", {"FileName": files["document"], "Report": files["Publish-CsTopology"]}),
            Call("Enable-CsTopology", {"Report": files["Enable-CsTopology"]})]
    cmdlets = [describe(c) for c in plan] if changed else []
    reports = {}
    if changed and not module.check_mode:
        for call in plan:
            res = module.run_calls([call])[0]
            if not res.ok:
                module.fail_json_from_error(res.error, cmdlet=call.cmdlet)
            if call.cmdlet in files:
                reports[call.cmdlet] = read_text(module, files[call.cmdlet])
        found = TopologyDocument.read(module).federation_summary(site)
        if found != after:
            module.fail_json(msg="the published topology read back does not show the change", expected=after,
                             found=found)
    out = dict(changed=changed, cmdlets=cmdlets, reports=reports, **after)
    if module._diff:
        out["diff"] = {"before": before, "after": after}
    return out


def describe(call):
    text = " ".join("-%s %s" % (k, "<edited topology>" if k == "Value" else v) for k, v in call.params.items())
    return "%s %s" % (call.cmdlet, text)


def read_text(module, path):
    res = module.run_calls([Call("Get-Content", {"Path": path, "Raw": True})])[0]
    return next((o for o in res.objects if isinstance(o, str)), None) if res.ok else None


def main():
    module = LyncModule(
        argument_spec=dict(site=dict(type="str"), federation_route=dict(type="str"), pool=dict(type="str"),
                           media_edge=dict(type="str"), work_dir=dict(type="str", default="C:\\LyncMigration")),
        required_by={"media_edge": ("pool",)},
        supports_check_mode=True,
    )
    module.exit_json(**federation(module))


if __name__ == "__main__":
    main()
