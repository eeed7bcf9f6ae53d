# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Lync Server 2013 topology document (what Get-CsTopology -AsXml returns and Publish-CsTopology takes), read
and edited as XML data on the controller: sites, clusters, services, BackCompatSite, Edge pools, federation
routes. Every module that reads or edits the topology goes through TopologyDocument; the lab's counterpart is
lab/lync_lab/model/topology_xml.py."""

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
NO_TOPOLOGY = ("Get-CsTopology -AsXml returned no topology document: publish the pilot pool's topology first "
               "(Phase 3)")


def q(tag, ns=NS):
    return "{%s}%s" % (ns, tag)


def _children(el):
    return list(el) if el is not None else []


def _parse(text):
    return ET.fromstring(text if isinstance(text, bytes) else text.encode("utf-8"))


def _canon(el):
    attrs = sorted((k, v) for k, v in el.attrib.items() if k != "Signature")
    return "<%s %s>%s%s</>" % (el.tag, attrs, (el.text or "").strip(), "".join(sorted(_canon(c) for c in el)))


def canonical(text):
    """A topology document as a comparable string: whitespace, the order of elements and the Topology's Signature
    (which each publish renews) do not count. Raises ET.ParseError for text that is not XML."""
    return _canon(_parse(text))


def first_string(objects):
    return next((o for o in objects or [] if isinstance(o, str)), None)


class TopologyDocument:
    def __init__(self, text):
        self.root = _parse(text)

    @classmethod
    def read(cls, module):
        """The published topology (Get-CsTopology -AsXml); fails the task when there is none."""
        text = first_string(module.call_or_fail("Get-CsTopology", {"AsXml": True}))
        if not text:
            module.fail_json(msg=NO_TOPOLOGY)
        return cls(text)

    def text(self, indent=False):
        ET.register_namespace("", NS)
        ET.register_namespace("sr", NS_ROLES)
        if indent:
            ET.indent(self.root, "  ")
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(self.root, encoding="unicode") + (
            "\n" if indent else "")

    def canonical(self):
        return _canon(self.root)

    def publish(self, module):
        """Publish-CsTopology -Document, then Enable-CsTopology: what Topology Builder's Publish Topology runs."""
        results = module.run_calls([Call("Publish-CsTopology", {"Document": self.text()}), Call("Enable-CsTopology")])
        for r in results:
            if not r.ok:
                module.fail_json_from_error(r.error, cmdlet=r.call.cmdlet)

    # -- what the document holds ------------------------------------------------------------------------------
    def sites(self):
        return [{"id": el.get("SiteId"), "name": (el.findtext(q("Name")) or "").strip(),
                 "backcompat": el.tag == q("BackCompatSite"), "el": el}
                for el in _children(self.root.find(q("Sites")))]

    def remove_site(self, site):
        self.root.find(q("Sites")).remove(site["el"])

    def clusters(self):
        out = []
        for el in _children(self.root.find(q("Clusters"))):
            cid = el.find(q("ClusterId"))
            out.append({"fqdn": el.get("Fqdn") or "", "site": cid.get("SiteId"), "number": cid.get("Number"),
                        "where": (cid.get("SiteId"), cid.get("Number")), "el": el,
                        "machines": [m.get("Fqdn") for m in el.findall(q("Machine"))]})
        return out

    def cluster_by_fqdn(self, fqdn):
        return next((c for c in self.clusters() if c["fqdn"].lower() == (fqdn or "").lower()), None)

    def fqdn_at(self, where):
        return next((c["fqdn"] for c in self.clusters() if c["where"] == where), None)

    def services(self):
        out = []
        for el in _children(self.root.find(q("Services"))):
            sid = el.find(q("ServiceId"))
            on = el.find(q("InstalledOn"))
            cid = on.find(".//" + q("ClusterId")) if on is not None else None
            out.append({"site": sid.get("SiteId"), "role": sid.get("RoleName"), "instance": sid.get("Instance"),
                        "cluster": (cid.get("SiteId"), cid.get("Number")) if cid is not None else None, "el": el,
                        "sid": sid, "lync2013": el.get("ServiceVersion") == LYNC_2013_SERVICE_VERSION})
        return out

    def service_on(self, fqdn, role):
        """The service of ``role`` (RoleName) installed on the cluster ``fqdn``, or None."""
        cluster = self.cluster_by_fqdn(fqdn)
        if cluster is None:
            return None
        return next((s for s in self.services() if s["cluster"] == cluster["where"] and s["role"] == role), None)

    def fqdn_of_service(self, ref):
        """The cluster FQDN of the service a ServiceId reference names."""
        key = (ref.get("SiteId"), ref.get("RoleName"), ref.get("Instance"))
        for svc in self.services():
            if (svc["site"], svc["role"], svc["instance"]) == key:
                return self.fqdn_at(svc["cluster"])
        return None

    # -- BackCompatSite (the merged OCS 2007 R2 topology) -----------------------------------------------------
    def backcompat_site(self):
        return next((s for s in self.sites() if s["backcompat"]), None)

    def backcompat_view(self):
        """{"exists", "pools": [fqdn], "edges": {internal fqdn: settings}} of BackCompatSite."""
        ids = [s["id"] for s in self.sites() if s["backcompat"]]
        clusters = dict((c["where"], c) for c in self.clusters() if c["site"] in ids)
        edges = {}
        for svc in self.services():
            if svc["role"] != "EdgeServer" or svc["cluster"] not in clusters:
                continue
            settings = svc["el"].find(q("EdgeService", NS_ROLES))
            get = settings.get if settings is not None else (lambda _k, d=None: d)
            cluster = clusters[svc["cluster"]]
            edges[cluster["fqdn"].lower()] = {
                "webconf_edge_fqdn": (get("DataEdgeExternalFqdn") or "").lower(),
                "next_hop_fqdn": (get("NextHopFqdn") or "").lower(),
                "federation": (get("FederationEnabled") or "false").lower() == "true",
                "internal_sip_port": int(get("InternalSipPort") or 5061),
                "internal_webconf_port": int(get("InternalDataPort") or 8057),
                "external_webconf_port": int(get("ExternalDataPort") or 443),
                "machines": sorted((m or "").lower() for m in cluster["machines"])}
        return {"exists": bool(ids), "pools": sorted(c["fqdn"].lower() for c in clusters.values()), "edges": edges}

    # -- Edge pools (P7.1, P8.1.e) ----------------------------------------------------------------------------
    def edge_service(self, fqdn):
        return self.service_on(fqdn, "EdgeServer")

    def edge_view(self, fqdn):
        svc = self.edge_service(fqdn)
        if svc is None:
            return None
        st = svc["el"].find(q("EdgeService", NS_ROLES))
        c = self.cluster_by_fqdn(fqdn)
        return {"fqdn": c["fqdn"], "machines": c["machines"], "lync2013": svc["lync2013"],
                "access_edge": st.get("AccessEdgeExternalFqdn"), "webconf_edge": st.get("DataEdgeExternalFqdn"),
                "av_edge": st.get("AVEdgeExternalFqdn"), "next_hop": st.get("NextHopFqdn"),
                "internal_sip_port": int(st.get("InternalSipPort") or 5061),
                "federation": (st.get("FederationEnabled") or "false").lower() == "true"}

    def add_edge_pool(self, spec, site_name=None):
        """Define a Lync Server 2013 Edge pool in a central site: federation off, no pool associated (P7.1)."""
        central = [s for s in self.sites() if not s["backcompat"]]
        site = next((s for s in central if site_name and s["name"].lower() == site_name.lower()), None) or central[0]
        sid = site["id"]
        number = str(1 + max([int(c["number"]) for c in self.clusters() if c["site"] == sid] or [0]))
        cl = ET.SubElement(self.root.find(q("Clusters")), q("Cluster"), RequiresReplication="true",
                           RequiresSetup="true", Fqdn=spec["fqdn"])
        ET.SubElement(cl, q("ClusterId"), SiteId=sid, Number=number)
        for i, m in enumerate(spec.get("machines") or [spec["fqdn"]], 1):
            machine = ET.SubElement(cl, q("Machine"), OrdinalInCluster=str(i), Fqdn=m, FaultDomain=m, UpgradeDomain=m)
            for side in ("Primary", "External"):
                ET.SubElement(machine, q("NetInterface"), InterfaceSide=side, InterfaceNumber="1", IPAddress="0.0.0.0")
        instance = 1 + max([int(s["instance"]) for s in self.services() if s["site"] == sid
                            and s["role"] == "EdgeServer"] or [0])
        svc = ET.SubElement(self.root.find(q("Services")), q("Service"), RoleVersion="1",
                            ServiceVersion=LYNC_2013_SERVICE_VERSION, Type=EDGE_SERVICE_TYPE)
        ET.SubElement(svc, q("ServiceId"), SiteId=sid, RoleName="EdgeServer", Instance=str(instance))
        ET.SubElement(svc, q("DependsOn"))
        on = ET.SubElement(svc, q("InstalledOn"))
        ET.SubElement(on, q("ClusterId"), SiteId=sid, Number=number)
        ports = ET.SubElement(svc, q("Ports", NS_ROLES))
        for owner, usage, side, port, protocol, authorizes in EDGE_PORTS:
            ET.SubElement(ports, q("Port", NS_ROLES), Owner=owner, Usage=usage, InterfaceSide=side,
                          InterfaceNumber="1", Port=port, Protocol=protocol, UrlPath="/", AuthorizesRequests=authorizes)
        ET.SubElement(svc, q("EdgeService", NS_ROLES), AccessEdgeExternalFqdn=spec["access_edge"],
                      DataEdgeExternalFqdn=spec["webconf_edge"], AVEdgeExternalFqdn=spec["av_edge"],
                      InternalSipPort=str(spec.get("internal_sip_port") or 5061), NextHopFqdn=spec["next_hop"],
                      FederationEnabled="false", EdgeType="SingleEdgeServer")

    def federating_edges(self):
        """The Lync Server 2013 Edge services enabled for federation."""
        return [s for s in self.services() if s["role"] == "EdgeServer" and s["lync2013"]
                and (s["el"].find(q("EdgeService", NS_ROLES)).get("FederationEnabled") or "").lower() == "true"]

    def set_edge_federation(self, fqdn, enabled):
        """Edge pool Edit Properties > General > Enable federation for this Edge pool (port 5061) (P8.1.e)."""
        self.edge_service(fqdn)["el"].find(q("EdgeService", NS_ROLES)).set("FederationEnabled",
                                                                           "true" if enabled else "false")

    # -- federation route and media Edge of a site (P8.1) -----------------------------------------------------
    def federation_summary(self, site):
        backcompat = [s["id"] for s in self.sites() if s["backcompat"]]
        media = {}
        for svc in self.services():
            if svc["role"] == "Registrar":
                for dep in svc["el"].findall("%s/%s" % (q("DependsOn"), q("Dependency"))):
                    if dep.get("Usage") == "EdgeServer":
                        media[self.fqdn_at(svc["cluster"])] = self.fqdn_of_service(dep.find(q("ServiceId")))
        return {"site": site["name"], "federation_route": self.route(site["id"]), "media_edges": media,
                "backcompat_pools": [c["fqdn"] for c in self.clusters() if c["site"] in backcompat]}

    def route(self, site_id):
        for r in _children(self.root.find(q("FederationRoutes"))):
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
            _copy_ref(ET.SubElement(routes, q("SiteFederationRoute"), SiteId=site_id), ref)

    @staticmethod
    def set_media(registrar_el, ref):
        deps = registrar_el.find(q("DependsOn"))
        if deps is None:
            deps = ET.SubElement(registrar_el, q("DependsOn"))
        for dep in [d for d in deps if d.get("Usage") == "EdgeServer"]:
            deps.remove(dep)
        if ref is not None:
            _copy_ref(ET.SubElement(deps, q("Dependency"), Usage="EdgeServer"), ref)


def _copy_ref(parent, ref):
    ET.SubElement(parent, q("ServiceId"), SiteId=ref.get("SiteId"), RoleName=ref.get("RoleName"),
                  Instance=ref.get("Instance"))
