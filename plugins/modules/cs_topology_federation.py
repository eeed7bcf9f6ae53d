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

import xml.etree.ElementTree as ET

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule

NS = "urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008"
NS_ROLES = "urn:schema:Microsoft.Rtc.Management.Deploy.ServiceRoles.2008"


def q(tag, ns=NS):
    return "{%s}%s" % (ns, tag)


def children(el):
    return list(el) if el is not None else []


class TopologyDocument:
    def __init__(self, text):
        ET.register_namespace("", NS)
        ET.register_namespace("sr", NS_ROLES)
        self.root = ET.fromstring(text.encode("utf-8"))

    def text(self):
        ET.indent(self.root, "  ")
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(self.root, encoding="unicode") + "\n"

    def sites(self):
        return [{"id": el.get("SiteId"), "name": (el.findtext(q("Name")) or "").strip(),
                 "backcompat": el.tag == q("BackCompatSite")} for el in children(self.root.find(q("Sites")))]

    def clusters(self):
        out = []
        for el in children(self.root.find(q("Clusters"))):
            cid = el.find(q("ClusterId"))
            out.append({"fqdn": el.get("Fqdn") or "", "where": (cid.get("SiteId"), cid.get("Number"))})
        return out

    def services(self):
        for el in children(self.root.find(q("Services"))):
            sid = el.find(q("ServiceId"))
            on = el.find(q("InstalledOn"))
            cid = on.find(".//" + q("ClusterId")) if on is not None else None
            yield el, sid, (cid.get("SiteId"), cid.get("Number")) if cid is not None else None

    def fqdn_at(self, where):
        return next((c["fqdn"] for c in self.clusters() if c["where"] == where), None)

    def service_on(self, fqdn, role):
        cluster = next((c for c in self.clusters() if c["fqdn"].lower() == fqdn.lower()), None)
        for el, sid, where in self.services() if cluster else []:
            if where == cluster["where"] and sid.get("RoleName") == role:
                return el, sid
        return None, None

    def fqdn_of_service(self, ref):
        key = (ref.get("SiteId"), ref.get("RoleName"), ref.get("Instance"))
        for _el, sid, where in self.services():
            if (sid.get("SiteId"), sid.get("RoleName"), sid.get("Instance")) == key:
                return self.fqdn_at(where)
        return None

    def summary(self, site):
        backcompat = [s["id"] for s in self.sites() if s["backcompat"]]
        media = {}
        for el, sid, where in self.services():
            if sid.get("RoleName") == "Registrar":
                for dep in el.findall("%s/%s" % (q("DependsOn"), q("Dependency"))):
                    if dep.get("Usage") == "EdgeServer":
                        media[self.fqdn_at(where)] = self.fqdn_of_service(dep.find(q("ServiceId")))
        return {"site": site["name"], "federation_route": self.route(site["id"]), "media_edges": media,
                "backcompat_pools": [c["fqdn"] for c in self.clusters() if c["where"][0] in backcompat]}

    def route(self, site_id):
        for r in children(self.root.find(q("FederationRoutes"))):
            if r.get("SiteId") == site_id and r.find(q("ServiceId")) is not None:
                return self.fqdn_of_service(r.find(q("ServiceId")))
        return None

    def set_route(self, site_id, ref):
        routes = self.root.find(q("FederationRoutes"))
        if routes is not None:
            for r in [r for r in routes if r.get("SiteId") == site_id]:
                routes.remove(r)
            if ref is None and not len(routes):
                self.root.remove(routes)
        if ref is not None:
            if routes is None or routes not in list(self.root):
                routes = ET.SubElement(self.root, q("FederationRoutes"))
            copy_ref(ET.SubElement(routes, q("SiteFederationRoute"), SiteId=site_id), ref)

    def set_media(self, registrar, ref):
        deps = registrar.find(q("DependsOn"))
        if deps is None:
            deps = ET.SubElement(registrar, q("DependsOn"))
        for dep in [d for d in deps if d.get("Usage") == "EdgeServer"]:
            deps.remove(dep)
        if ref is not None:
            copy_ref(ET.SubElement(deps, q("Dependency"), Usage="EdgeServer"), ref)


def copy_ref(parent, ref):
    ET.SubElement(parent, q("ServiceId"), SiteId=ref.get("SiteId"), RoleName=ref.get("RoleName"),
                  Instance=ref.get("Instance"))


def read_document(module):
    text = next((o for o in module.call_or_fail("Get-CsTopology", {"AsXml": True}) if isinstance(o, str)), None)
    if not text:
        module.fail_json(msg="no published topology (Phase 3 publishes the pilot pool's topology)")
    return TopologyDocument(text)


def federation(module):
    p = module.params
    doc = read_document(module)
    site = next((s for s in doc.sites() if not s["backcompat"]
                 and (p["site"] is None or s["name"].lower() == p["site"].lower())), None)
    if site is None:
        module.fail_json(msg="the topology has no central site%s" % (" named %s" % p["site"] if p["site"] else ""))
    before = doc.summary(site)
    if p["federation_route"] is not None:
        target = p["federation_route"].strip()
        ref = None
        if target:
            edge, edge_ref = doc.service_on(target, "EdgeServer")
            director, director_ref = doc.service_on(target, "Registrar")
            if edge is None and director is None:
                module.fail_json(msg="federation_route %s is neither an Edge pool nor a Director of the topology (a "
                                     "legacy Edge appears once merged with its Edge input, Phase 4)" % target)
            if edge is not None:
                flags = edge.find(q("EdgeService", NS_ROLES))
                if flags is None or (flags.get("FederationEnabled") or "").lower() != "true":
                    module.fail_json(msg="the Edge %s is not enabled for federation: merge it again with This Edge "
                                         "pool is used for federation and public IM connectivity (Phase 4) first"
                                         % target)
            ref = edge_ref if edge is not None else director_ref
        doc.set_route(site["id"], ref)
    if p["media_edge"] is not None:
        registrar, _ref = doc.service_on(p["pool"] or "", "Registrar")
        if registrar is None:
            module.fail_json(msg="pool %s is not a Front End pool of the topology" % p["pool"])
        ref = None
        if p["media_edge"].strip():
            edge, ref = doc.service_on(p["media_edge"].strip(), "EdgeServer")
            if edge is None:
                module.fail_json(msg="media_edge %s is not an Edge pool of the topology" % p["media_edge"])
        doc.set_media(registrar, ref)
    after = doc.summary(site)
    changed = after != before
    work = p["work_dir"].rstrip("\\")
    files = {"document": work + "\\FederationTopology.xml", "Publish-CsTopology": work + "\\Publish-CsTopology.html",
             "Enable-CsTopology": work + "\\Enable-CsTopology.html"}
    plan = [Call("Set-Content", {"Path": files["document"], "Value": doc.text(), "Encoding": "UTF8"}),
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
        found = read_document(module).summary(site)
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
