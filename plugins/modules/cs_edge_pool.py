#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_edge_pool
short_description: Define a Lync Server 2013 Edge pool in the topology, and switch its federation on or off
description:
  - Topology Builder's I(New Edge pool) (migration guide P7.1) and the Edge pool's I(Enable federation for this
    Edge pool (Port 5061)) (P8.1.e), done on the topology document. Reads it with C(Get-CsTopology -AsXml), edits
    it as XML data on the controller and, when something differs, publishes it with C(Publish-CsTopology
    -Document) and C(Enable-CsTopology).
  - A new Edge pool is defined with federation off, no XMPP and no Front End pool associated (P7.1), since federation
    and media still go through the legacy Edge until Phase 8. Associate pools with M(lync.migration.cs_topology_federation).
  - Federation can be enabled on only one Edge pool (P8.1.e); the module refuses a second one.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  fqdn:
    description: Internal FQDN of the Edge pool.
    type: str
    required: true
  machines:
    description: The Edge Servers of the pool (a single computer pool has one; the FQDN when omitted).
    type: list
    elements: str
  access_edge:
    description: External FQDN of the Access Edge service (required to define the pool).
    type: str
  webconf_edge:
    description: External FQDN of the Web Conferencing Edge service (required to define the pool).
    type: str
  av_edge:
    description: External FQDN of the A/V Edge service (required to define the pool).
    type: str
  next_hop:
    description: The next hop pool, a Lync Server 2013 Front End pool or Director (required to define the pool).
    type: str
  site:
    description: Central site to define the pool in (the first central site when omitted).
    type: str
  federation:
    description: Whether the Edge pool carries SIP federation (unset leaves it as it is; a new pool starts off).
    type: bool
attributes:
  check_mode:
    support: full
    description: Reports the edits and the publish it would run.
  diff_mode:
    support: full
    description: The Edge pool's settings before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: P7.1 - the Lync Edge pool, idle
  lync.migration.cs_edge_pool:
    fqdn: edgepool02.contoso.net
    machines: [lync-edge01.contoso.net]
    access_edge: sip2.contoso.net
    webconf_edge: webconf2.contoso.net
    av_edge: av2.contoso.net
    next_hop: pool02.contoso.net

- name: P8.1.e - enable federation on the Lync Edge pool
  lync.migration.cs_edge_pool:
    fqdn: edgepool02.contoso.net
    federation: true
"""

RETURN = r"""
edge_pool:
  description: The Edge pool after the task (fqdn, machines, external FQDNs, next_hop, federation).
  returned: always
  type: dict
created:
  description: The pool was (or would be) defined.
  returned: always
  type: bool
cmdlets:
  description: The changing cmdlets run (or that would run).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.topology import TopologyDocument

DEFINITION = ("access_edge", "webconf_edge", "av_edge", "next_hop")


def edge_pool(module):
    p = module.params
    doc = TopologyDocument.read(module)
    published = doc.canonical()
    before = doc.edge_view(p["fqdn"])
    created = before is None
    if created:
        missing = [o for o in DEFINITION if not p[o]]
        if missing:
            module.fail_json(msg="the Edge pool %s is not in the topology; to define it give %s"
                             % (p["fqdn"], ", ".join(missing)))
        if doc.cluster_by_fqdn(p["next_hop"]) is None:
            module.fail_json(msg="the next hop %s is not a pool of the topology" % p["next_hop"])
        doc.add_edge_pool(dict((k, p[k]) for k in DEFINITION + ("fqdn", "machines")), p["site"])
    elif not before["lync2013"]:
        module.fail_json(msg="%s is a legacy (OCS 2007 R2) Edge in BackCompatSite; its settings come from the merge "
                             "(lync.migration.cs_legacy_topology_merge)" % p["fqdn"])
    if p["federation"] is not None:
        if p["federation"]:
            this = doc.edge_service(p["fqdn"])["el"]
            if [s for s in doc.federating_edges() if s["el"] is not this]:
                module.fail_json(msg="federation can be enabled on only one Edge pool, and another Lync Edge pool "
                                     "already has it (P8.1.e)")
        doc.set_edge_federation(p["fqdn"], p["federation"])
    after = doc.edge_view(p["fqdn"])
    changed = doc.canonical() != published
    cmdlets = ["Publish-CsTopology -Document <topology>", "Enable-CsTopology"] if changed else []
    if changed and not module.check_mode:
        doc.publish(module)
        after = TopologyDocument.read(module).edge_view(p["fqdn"])
    out = dict(changed=changed, edge_pool=after, created=created, cmdlets=cmdlets)
    if module._diff:
        out["diff"] = {"before": before or {}, "after": after}
    return out


def main():
    module = LyncModule(
        argument_spec=dict(
            fqdn=dict(type="str", required=True),
            machines=dict(type="list", elements="str"),
            access_edge=dict(type="str"),
            webconf_edge=dict(type="str"),
            av_edge=dict(type="str"),
            next_hop=dict(type="str"),
            site=dict(type="str"),
            federation=dict(type="bool"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**edge_pool(module))


if __name__ == "__main__":
    main()
