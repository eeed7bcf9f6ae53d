#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_legacy_topology_merge
short_description: Merge the OCS 2007 R2 topology into Lync Server 2013 (the Merge wizard's cmdlet form) and publish it
description:
  - The scriptable form of Topology Builder's I(Merge Office Communications Server 2007 R2 Topology) wizard
    (migration guide P4.2). Edge Servers are not in Active Directory, so the legacy Edges are written to the
    server as Microsoft's custom Edge Server input file (C(Set-Content), the text travels as data; the format is
    the Lync Server 2010 deployment topic I(Create a Custom Edge Server Input File), with C(TopologyInput) in the
    C(urn:schema:Microsoft.Rtc.Management.Deploy.LegacyUserInput.2008) namespace, one C(EdgeCluster) per Edge
    with C(AP), C(MR), C(DP) and C(Version), C(LoadBalancer), C(Machines/Machine), C(Ports) and
    C(DirectorOrEdgeNextHop)), then
    C(Merge-CsLegacyTopology -TopologyXmlFileName -UserInputFileName -Report) writes the merged document, which is
    published with C(Publish-CsTopology -FileName -Report) and C(Enable-CsTopology -Report). The C(-Report) files
    are read back and returned.
  - Does nothing when BackCompatSite already holds every given legacy pool and exactly the given Edges with the
    given settings, unless C(force) is set (re-run the merge whenever the legacy topology changed).
  - Refuses an Expanded Edge; the migration guide supports only a Single Edge Server or a Load-balanced
    consolidated Edge, and an Expanded Edge must be converted first. At most one Edge may carry federation.
  - Needs the OCS 2007 R2 WMI Backward Compatibility Package (OCSWMIBC.msi) on the server it runs on.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  edges:
    description: The legacy Edges, as the wizard's Specify Edge pages ask for them.
    type: list
    elements: dict
    default: []
    suboptions:
      internal_fqdn:
        description: The Edge's internal FQDN (the internal load balancer's FQDN for a load-balanced Edge); the file's C(LoadBalancer InternalFqdn).
        type: str
        required: true
      edge_type:
        description: Edge configuration type.
        type: str
        choices: [SingleEdgeServer, LoadBalancedConsolidatedEdge, ExpandedEdge]
        default: SingleEdgeServer
      access_edge_fqdn:
        description:
          - External FQDN of the Access Edge service. Microsoft's input file has no place for it, so it is not
            written; accepted so that the inventory's shared Edge facts can be passed as they are.
        type: str
      webconf_edge_fqdn:
        description: External FQDN of the Web Conferencing Edge service (the file's C(LoadBalancer ExternalDPFqdn)).
        type: str
        required: true
      av_edge_fqdn:
        description: External FQDN of the A/V Edge service. Not part of Microsoft's input file (see O(edges[].access_edge_fqdn)).
        type: str
      next_hop_fqdn: {description: The Edge's next hop (the legacy Director or pool); the file's C(DirectorOrEdgeNextHop Fqdn)., type: str, required: true}
      federation: {description: This Edge pool is used for federation and public IM connectivity (C(FederationEnabled))., type: bool, default: false}
      machines: {description: The Edge computers (C(Machines/Machine InternalFqdn); the internal FQDN when omitted)., type: list, elements: str}
      internal_webconf_port: {description: The Web Conferencing Edge's internal port (C(Ports InternalDPPort))., type: int, default: 8057}
      external_webconf_port: {description: The Web Conferencing Edge's external port (C(Ports ExternalDPPort))., type: int, default: 443}
      version:
        description: The Edge's version (C(EdgeCluster Version)).
        type: str
        choices: [OCS2007R2, OCS2007]
        default: OCS2007R2
  legacy_pools:
    description: OCS 2007 R2 pool FQDNs that must appear in BackCompatSite after the merge (verification).
    type: list
    elements: str
    default: []
  internal_sip_port:
    description: The legacy Edges' internal SIP port, the Access Edge's C(Ports InternalAPPort) (the wizard's Specify Internal SIP port; the default is 5061).
    type: int
    default: 5061
  work_dir:
    description: Folder on the server for the user input file, the merged topology and the C(-Report) files.
    type: str
    default: C:\LyncMigration\Phase4
  force:
    description: Run the merge even when BackCompatSite already matches (the legacy topology changed).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Compares the published topology with the wanted one and lists the cmdlets it would run.
  diff_mode:
    support: full
    description: BackCompatSite's pools and Edges before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: P4.2 - merge the OCS 2007 R2 topology with its Edge
  lync.migration.cs_legacy_topology_merge:
    legacy_pools: [pool01.contoso.net]
    edges:
      - internal_fqdn: ocs-edge01.contoso.net
        access_edge_fqdn: sip.contoso.net
        webconf_edge_fqdn: webconf.contoso.net
        av_edge_fqdn: av.contoso.net
        next_hop_fqdn: pool01.contoso.net
        federation: true
"""

RETURN = r"""
backcompat:
  description: BackCompatSite after the task, C(pools) (FQDNs) and C(edges) (internal FQDN -> settings).
  returned: always
  type: dict
merged:
  description: The merge ran and its document was published and enabled.
  returned: always
  type: bool
user_input:
  description: The custom Edge Server input document given to C(-UserInputFileName).
  returned: always
  type: str
reports:
  description: The C(-Report) files of the cmdlets that ran, name -> text.
  returned: always
  type: dict
commands:
  description: The cmdlets that ran (or would run, in check mode).
  returned: always
  type: list
  elements: str
"""

from xml.sax.saxutils import quoteattr

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.topology import TopologyDocument, canonical, first_string

INPUT_NS = "urn:schema:Microsoft.Rtc.Management.Deploy.LegacyUserInput.2008"
SUPPORTED_EDGE_TYPES = ("SingleEdgeServer", "LoadBalancedConsolidatedEdge")


def edge_settings(edge, port):
    """An Edge as BackCompatSite records it: what decides whether the merge must run again."""
    return {"webconf_edge_fqdn": edge["webconf_edge_fqdn"].lower(), "next_hop_fqdn": edge["next_hop_fqdn"].lower(),
            "federation": bool(edge["federation"]), "internal_sip_port": int(port),
            "internal_webconf_port": int(edge["internal_webconf_port"]),
            "external_webconf_port": int(edge["external_webconf_port"]),
            "machines": sorted(m.lower() for m in (edge.get("machines") or [edge["internal_fqdn"]]))}


def user_input_document(edges, port):
    """The legacy Edges as Microsoft's custom Edge Server input file (-UserInputFileName). Each Edge is one
    consolidated cluster (AP, MR and DP all true: the migration supports no Expanded Edge). Values are
    XML-escaped attributes."""
    a = quoteattr
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<TopologyInput xmlns="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' % INPUT_NS,
             "  <EdgeClusters>"]
    for e in edges:
        lines.append('    <EdgeCluster AP="true" MR="true" DP="true" Version=%s FederationEnabled=%s>'
                     % (a(e["version"]), a("true" if e["federation"] else "false")))
        lines.append("      <LoadBalancer InternalFqdn=%s ExternalDPFqdn=%s />"
                     % (a(e["internal_fqdn"]), a(e["webconf_edge_fqdn"])))
        lines.append("      <Machines>")
        for m in e.get("machines") or [e["internal_fqdn"]]:
            lines.append("        <Machine InternalFqdn=%s />" % a(m))
        lines.append("      </Machines>")
        lines.append("      <Ports InternalAPPort=%s InternalDPPort=%s ExternalDPPort=%s />"
                     % (a(str(port)), a(str(e["internal_webconf_port"])), a(str(e["external_webconf_port"]))))
        lines.append("      <DirectorOrEdgeNextHop Fqdn=%s />" % a(e["next_hop_fqdn"]))
        lines.append("    </EdgeCluster>")
    lines += ["  </EdgeClusters>", "</TopologyInput>"]
    return "\r\n".join(lines)


def merge(module):
    p = module.params
    edges = p["edges"]
    expanded = [e["internal_fqdn"] for e in edges if e["edge_type"] not in SUPPORTED_EDGE_TYPES]
    if expanded:
        module.fail_json(msg="Expanded Edge is not supported by the migration (guide P4.2): convert %s to a Single Edge "
                             "Server or a Load-balanced consolidated Edge first, then describe it as such"
                             % ", ".join(expanded))
    federating = [e["internal_fqdn"] for e in edges if e["federation"]]
    if len(federating) > 1:
        module.fail_json(msg="only one Edge can be used for federation and public IM connectivity; %s are marked"
                             % ", ".join(federating))
    wanted_edges = dict((e["internal_fqdn"].lower(), edge_settings(e, p["internal_sip_port"])) for e in edges)
    wanted_pools = sorted(x.lower() for x in p["legacy_pools"])
    current_text = first_string(module.call_or_fail("Get-CsTopology", {"AsXml": True}))
    if not current_text:
        module.fail_json(msg="no published topology: Phase 3 publishes the pilot pool's topology before the merge")
    before = TopologyDocument(current_text).backcompat_view()
    up_to_date = (before["exists"] and before["edges"] == wanted_edges
                  and all(x in before["pools"] for x in wanted_pools))

    work = p["work_dir"].rstrip("\\")
    files = {"input": work + "\\LegacyEdges.xml", "topology": work + "\\MergedTopology.xml",
             "merge_report": work + "\\Merge-CsLegacyTopology.html",
             "publish_report": work + "\\Publish-CsTopology.html", "enable_report": work + "\\Enable-CsTopology.html"}
    document = user_input_document(edges, p["internal_sip_port"])
    plan = [Call("Set-Content", {"Path": files["input"], "Value": document}),
            Call("Merge-CsLegacyTopology", {"TopologyXmlFileName": files["topology"],
                                            "UserInputFileName": files["input"], "Report": files["merge_report"]}),
            Call("Publish-CsTopology", {"FileName": files["topology"], "Report": files["publish_report"]}),
            Call("Enable-CsTopology", {"Report": files["enable_report"]})]
    commands = ["%s %s" % (c.cmdlet, " ".join("-%s %s" % (k, v if k != "Value" else "<Edge input>")
                                              for k, v in c.params.items())) for c in plan]
    result = dict(changed=False, merged=False, user_input=document, reports={}, commands=[], backcompat=before)
    if up_to_date and not p["force"]:
        return result
    result["commands"] = commands
    if module.check_mode:
        result["changed"] = not up_to_date
        return result

    for call in plan[:2]:
        res = module.run_calls([call])[0]
        if not res.ok:
            module.fail_json_from_error(res.error, cmdlet=call.cmdlet)
    merged_text = first_string(module.call_or_fail("Get-Content", {"Path": files["topology"], "Raw": True}))
    result["reports"]["Merge-CsLegacyTopology"] = read_report(module, files["merge_report"])
    if merged_text and canonical(merged_text) == canonical(current_text):
        result["commands"] = commands[:2]
        return result   # the merge produced the published document again: nothing to publish
    for call in plan[2:]:
        res = module.run_calls([call])[0]
        if not res.ok:
            module.fail_json_from_error(res.error, cmdlet=call.cmdlet)
        result["reports"][call.cmdlet] = read_report(module, call.params["Report"])
    after = TopologyDocument.read(module).backcompat_view()
    missing = [x for x in wanted_pools if x not in after["pools"]] + [e for e in wanted_edges if e not in after["edges"]]
    if not after["exists"] or missing:
        module.fail_json(msg="the published topology lacks %s in BackCompatSite after the merge"
                             % (", ".join(missing) or "BackCompatSite"), backcompat=after)
    result.update(changed=True, merged=True, backcompat=after)
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    return result


def read_report(module, path):
    res = module.run_calls([Call("Get-Content", {"Path": path, "Raw": True})])[0]
    return first_string(res.objects) if res.ok else None


def main():
    edge_spec = dict(
        internal_fqdn=dict(type="str", required=True),
        edge_type=dict(type="str", choices=["SingleEdgeServer", "LoadBalancedConsolidatedEdge", "ExpandedEdge"],
                       default="SingleEdgeServer"),
        access_edge_fqdn=dict(type="str"),
        webconf_edge_fqdn=dict(type="str", required=True),
        av_edge_fqdn=dict(type="str"),
        next_hop_fqdn=dict(type="str", required=True),
        federation=dict(type="bool", default=False),
        machines=dict(type="list", elements="str"),
        internal_webconf_port=dict(type="int", default=8057),
        external_webconf_port=dict(type="int", default=443),
        version=dict(type="str", choices=["OCS2007R2", "OCS2007"], default="OCS2007R2"),
    )
    module = LyncModule(
        argument_spec=dict(
            edges=dict(type="list", elements="dict", options=edge_spec, default=[]),
            legacy_pools=dict(type="list", elements="str", default=[]),
            internal_sip_port=dict(type="int", default=5061),
            work_dir=dict(type="str", default="C:\\LyncMigration\\Phase4"),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**merge(module))


if __name__ == "__main__":
    main()
