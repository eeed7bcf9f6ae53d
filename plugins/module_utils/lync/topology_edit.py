# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Edits of the Lync Server 2013 topology document (the XML Get-CsTopology -AsXml returns and Publish-CsTopology
takes), done as XML data on the controller: Edge pools (P7.1, P8.1.e) and BackCompatSite (P10.4)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

from .envelope import Call

NS = "urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008"
NS_ROLES = "urn:schema:Microsoft.Rtc.Management.Deploy.ServiceRoles.2008"
LYNC_2013_SERVICE_VERSION = "6"
EDGE_SERVICE_TYPE = "Microsoft.Rtc.Management.Deploy.Internal.ServiceRoles.EdgeService"
# What Topology Builder writes for a Lync Server 2013 Edge pool: each computer with a Primary (internal) and an
# External NetInterface (IPAddress 0.0.0.0: all configured addresses), and the Edge services' ports, one IP per
# side (Owner, Usage, InterfaceSide, Port, Protocol, AuthorizesRequests; InterfaceNumber 1, UrlPath /). A publish
# refuses a listening service without ports or a port on an interface the computers lack.
EDGE_PORTS = (
    ("urn:component:AccessEdge", "SipServer", "Primary", "5061", "Mtls", "true"),
    ("urn:component:AccessEdge", "SipServer", "External", "5061", "Mtls", "true"),
    ("urn:component:DataEdge", "PsomServer", "Primary", "8057", "Tls", "false"),
    ("urn:component:DataEdge", "PsomClient", "External", "444", "Tls", "false"),
    ("urn:component:MediaRelayAuthEdge", "MRASServer", "Primary", "5062", "Mtls", "false"),
    ("urn:component:MediaRelay", "MediaRelay", "Primary", "443", "Tcp", "false"),
    ("urn:component:MediaRelay", "MediaRelay", "Primary", "3478", "Udp", "false"),
    ("urn:component:MediaRelay", "MediaRelay", "External", "443", "Tcp", "false"),
    ("urn:component:MediaRelay", "MediaRelay", "External", "3478", "Udp", "false"),
)


def q(tag, ns=NS):
    return "{%s}%s" % (ns, tag)


def parse(text):
    return ET.fromstring(text.encode("utf-8") if not isinstance(text, bytes) else text)


def serialize(root):
    ET.register_namespace("", NS)
    ET.register_namespace("sr", NS_ROLES)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


def _canon(el):
    children = sorted(_canon(c) for c in el)
    return "<%s %s>%s%s</>" % (el.tag, sorted(el.attrib.items()), (el.text or "").strip(), "".join(children))


def same_document(a, b):
    """Equal ignoring whitespace and the order of elements."""
    return _canon(a) == _canon(b)


def sites(root):
    return [{"id": el.get("SiteId"), "name": (el.findtext(q("Name")) or "").strip(),
             "backcompat": el.tag == q("BackCompatSite"), "el": el} for el in root.find(q("Sites"))]


def clusters(root):
    out = []
    for el in root.find(q("Clusters")):
        cid = el.find(q("ClusterId"))
        out.append({"fqdn": el.get("Fqdn"), "site": cid.get("SiteId"), "number": cid.get("Number"), "el": el,
                    "machines": [m.get("Fqdn") for m in el.findall(q("Machine"))]})
    return out


def services(root):
    out = []
    for el in root.find(q("Services")):
        sid = el.find(q("ServiceId"))
        on = el.find(q("InstalledOn"))
        cid = on.find(q("ClusterId")) if on is not None else None
        out.append({"site": sid.get("SiteId"), "role": sid.get("RoleName"), "instance": sid.get("Instance"),
                    "cluster": (cid.get("SiteId"), cid.get("Number")) if cid is not None else None, "el": el,
                    "lync2013": el.get("ServiceVersion") == LYNC_2013_SERVICE_VERSION})
    return out


def cluster_by_fqdn(root, fqdn):
    return next((c for c in clusters(root) if (c["fqdn"] or "").lower() == fqdn.lower()), None)


def edge_service(root, fqdn):
    c = cluster_by_fqdn(root, fqdn)
    if c is None:
        return None
    return next((s for s in services(root) if s["cluster"] == (c["site"], c["number"]) and s["role"] == "EdgeServer"),
                None)


def edge_settings(svc):
    return svc["el"].find(q("EdgeService", NS_ROLES))


def edge_view(root, fqdn):
    svc = edge_service(root, fqdn)
    if svc is None:
        return None
    st = edge_settings(svc)
    c = cluster_by_fqdn(root, fqdn)
    return {"fqdn": c["fqdn"], "machines": c["machines"], "lync2013": svc["lync2013"],
            "access_edge": st.get("AccessEdgeExternalFqdn"), "webconf_edge": st.get("DataEdgeExternalFqdn"),
            "av_edge": st.get("AVEdgeExternalFqdn"), "next_hop": st.get("NextHopFqdn"),
            "internal_sip_port": int(st.get("InternalSipPort") or 5061),
            "federation": (st.get("FederationEnabled") or "false").lower() == "true"}


def add_edge_pool(root, spec, site_name=None):
    """Define a Lync Server 2013 Edge pool in a central site: federation off, no pool associated (P7.1)."""
    central = [s for s in sites(root) if not s["backcompat"]]
    site = next((s for s in central if site_name and s["name"].lower() == site_name.lower()), None) or central[0]
    sid = site["id"]
    number = str(1 + max([int(c["number"]) for c in clusters(root) if c["site"] == sid] or [0]))
    cl = ET.SubElement(root.find(q("Clusters")), q("Cluster"), RequiresReplication="true", RequiresSetup="true",
                       Fqdn=spec["fqdn"])
    ET.SubElement(cl, q("ClusterId"), SiteId=sid, Number=number)
    for i, m in enumerate(spec.get("machines") or [spec["fqdn"]], 1):
        machine = ET.SubElement(cl, q("Machine"), OrdinalInCluster=str(i), Fqdn=m, FaultDomain=m, UpgradeDomain=m)
        for side in ("Primary", "External"):
            ET.SubElement(machine, q("NetInterface"), InterfaceSide=side, InterfaceNumber="1", IPAddress="0.0.0.0")
    instance = 1 + max([int(s["instance"]) for s in services(root) if s["site"] == sid and s["role"] == "EdgeServer"]
                       or [0])
    svc = ET.SubElement(root.find(q("Services")), q("Service"), RoleVersion="1",
                        ServiceVersion=LYNC_2013_SERVICE_VERSION, Type=EDGE_SERVICE_TYPE)
    ET.SubElement(svc, q("ServiceId"), SiteId=sid, RoleName="EdgeServer", Instance=str(instance))
    ET.SubElement(svc, q("DependsOn"))
    on = ET.SubElement(svc, q("InstalledOn"))
    ET.SubElement(on, q("ClusterId"), SiteId=sid, Number=number)
    ports = ET.SubElement(svc, q("Ports", NS_ROLES))
    for owner, usage, side, port, protocol, authorizes in EDGE_PORTS:
        ET.SubElement(ports, q("Port", NS_ROLES), Owner=owner, Usage=usage, InterfaceSide=side, InterfaceNumber="1",
                      Port=port, Protocol=protocol, UrlPath="/", AuthorizesRequests=authorizes)
    ET.SubElement(svc, q("EdgeService", NS_ROLES), AccessEdgeExternalFqdn=spec["access_edge"],
                  DataEdgeExternalFqdn=spec["webconf_edge"], AVEdgeExternalFqdn=spec["av_edge"],
                  InternalSipPort=str(spec.get("internal_sip_port") or 5061), NextHopFqdn=spec["next_hop"],
                  FederationEnabled="false", EdgeType="SingleEdgeServer")


def set_edge_federation(root, fqdn, enabled):
    """Edge pool Edit Properties > General > Enable federation for this Edge pool (port 5061) (P8.1.e)."""
    svc = edge_service(root, fqdn)
    edge_settings(svc).set("FederationEnabled", "true" if enabled else "false")


def read_document(module):
    objs = module.call_or_fail("Get-CsTopology", {"AsXml": True})
    if not objs or not isinstance(objs[0], str):
        module.fail_json(msg="Get-CsTopology -AsXml returned no topology document: publish the pilot pool's "
                             "topology first (Phase 3)")
    return objs[0]


def publish(module, root):
    """Publish-CsTopology -Document, then Enable-CsTopology: what Topology Builder's Publish Topology runs."""
    results = module.run_calls([Call("Publish-CsTopology", {"Document": serialize(root)}), Call("Enable-CsTopology")])
    for r in results:
        if not r.ok:
            module.fail_json_from_error(r.error, cmdlet=r.call.cmdlet)
