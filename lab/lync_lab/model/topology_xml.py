"""The Lync Server 2013 topology document: a Python model, its XML form, and publish-time validation.

The Central Management store keeps the topology as an XML document in the namespace
urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008, with the element and attribute names Topology
Builder writes (InternalDomains, Sites/CentralSite, Clusters/Cluster/ClusterId/Machine, SqlInstances,
Services/Service/ServiceId/DependsOn/InstalledOn). The lab keeps that document as text in the store and
parses it back whenever it needs the parts it models; the subset modelled is listed in ``parse_topology``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

NS = "urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008"
NS_ROLES = "urn:schema:Microsoft.Rtc.Management.Deploy.ServiceRoles.2008"
BACKCOMPAT_SITE_NAME = "BackCompatSite"

# ServiceVersion Topology Builder writes: 6 for Lync Server 2013, 4 for OCS 2007 R2 services merged in.
LYNC_2013_VERSION = 6
OCS_2007_R2_VERSION = 4

# RoleName in the XML -> the role name Get-CsService/Get-CsPool show in a service identity ("Registrar:pool").
ROLE_DISPLAY = {
    "Registrar": "Registrar",
    "UserServices": "UserServer",
    "WebServices": "WebServer",
    "ConfServices": "ConferencingServer",
    "ApplicationServer": "ApplicationServer",
    "MediationServer": "MediationServer",
    "EdgeServer": "EdgeServer",
    "FileStore": "FileStore",
    "CentralMgmt": "CentralManagement",
    "CentralMgmtStore": "CentralManagementDatabase",
    "UserStore": "UserDatabase",
    "ApplicationStore": "ApplicationDatabase",
    "ArchivingStore": "ArchivingDatabase",
    "MonitoringStore": "MonitoringDatabase",
    "WacService": "WacServer",
    "PstnGateway": "PstnGateway",
    "ExternalServer": "TrustedApplicationPool",
}
DISPLAY_ROLE = {v: k for k, v in ROLE_DISPLAY.items()}

# The Type attribute Topology Builder puts on services that carry a role-specific child element.
_ROLE_TYPE = {
    "Registrar": "Microsoft.Rtc.Management.Deploy.Internal.ServiceRoles.RegistrarService",
    "WebServices": "Microsoft.Rtc.Management.Deploy.Internal.ServiceRoles.WebService",
    "ConfServices": "Microsoft.Rtc.Management.Deploy.Internal.ServiceRoles.ConfService",
    "ApplicationServer": "Microsoft.Rtc.Management.Deploy.Internal.ServiceRoles.ApplicationServerService",
    "MediationServer": "Microsoft.Rtc.Management.Deploy.Internal.ServiceRoles.MediationService",
    "EdgeServer": "Microsoft.Rtc.Management.Deploy.Internal.ServiceRoles.EdgeService",
    "FileStore": "Microsoft.Rtc.Management.Deploy.Internal.ServiceRoles.FileStoreService",
    "CentralMgmt": "Microsoft.Rtc.Management.Deploy.Internal.ServiceRoles.CentralMgmtService",
    "ExternalServer": "Microsoft.Rtc.Management.Deploy.Internal.ServiceRoles.ExternalService",
}
# The role-specific child element (ServiceRoles namespace) and the attributes the lab reads from it.
_ROLE_ELEMENT = {
    "Registrar": ("RegistrarService", ("IsDirector",)),
    "EdgeServer": ("EdgeService", ("AccessEdgeExternalFqdn", "DataEdgeExternalFqdn", "AVEdgeExternalFqdn",
                                   "InternalSipPort", "InternalDataPort", "ExternalDataPort", "NextHopFqdn",
                                   "FederationEnabled", "EdgeType")),
    "FileStore": ("FileStoreService", ("ShareName",)),
    "CentralMgmt": ("CentralMgmtService", ("IsActive",)),
    "ExternalServer": ("ExternalService", ("ThrottleAsServer", "TreatAsAuthenticated", "OutboundOnly")),
}
SQL_ROLES = {"CentralMgmtStore", "UserStore", "ApplicationStore", "ArchivingStore", "MonitoringStore"}

# ------------------------------------------------------------------------------------------------------
# Network interfaces and ports, as Topology Builder writes them: every Machine carries NetInterface elements
# (InterfaceSide Primary/External, InterfaceNumber, IPAddress; 0.0.0.0 = "use all configured IP addresses"), and
# every service a Ports element (ServiceRoles namespace) with one Port per listening component: Owner (a
# urn:component: or urn:application: name), Usage, InterfaceSide, InterfaceNumber, Port, Protocol, UrlPath,
# AuthorizesRequests, and GruuType / ConfiguredPort / Range where the component has them. The names and the
# Front End components' values are those of a real Topology Builder export (the only one in the public code
# index is a Skype for Business Server 2015 one, ServiceVersion 8: RoleVersion 2 on UserServices and Registrar;
# the lab keeps RoleVersion 1 and ServiceVersion 6 for Lync Server 2013, and leaves out the components that came
# with Skype for Business). The Mediation Server's and the Edge's ports, absent from that export, are assumed
# from the ports Lync documents for those roles.
PORT_ATTRS = ("Owner", "Usage", "InterfaceSide", "InterfaceNumber", "Port", "Protocol", "UrlPath",
              "AuthorizesRequests", "GruuType", "ConfiguredPort", "Range")
INTERFACE_SIDES = ("Primary", "External")
PROTOCOLS = ("Tcp", "Udp", "TcpOrUdp", "Tls", "Mtls", "Http", "Https")


def _p(owner, usage, side, port, protocol, url="/", authorizes="false", **extra):
    doc = {"Owner": owner, "Usage": usage, "InterfaceSide": side, "InterfaceNumber": "1", "Port": str(port),
           "Protocol": protocol, "UrlPath": url, "AuthorizesRequests": authorizes}
    doc.update({k: str(v) for k, v in extra.items()})
    return doc


_MEDIA = [_p("urn:component:MediaComp", "AudioCommunication", "Primary", 49152, "TcpOrUdp", Range=8348),
          _p("urn:component:MediaComp", "VideoCommunication", "Primary", 57501, "TcpOrUdp", Range=8034),
          _p("urn:component:MediaComp", "AppSharingCommunication", "Primary", 49152, "TcpOrUdp", Range=16383)]
LYNC_2013_PORTS: dict[str, list[dict[str, str]]] = {
    "UserServices": [
        _p("urn:component:McuFactory", "WebServer", "Primary", 444, "Mtls", "/LiveServer/McuFactory/"),
        _p("urn:component:PresenceFocus", "UserPinManagement", "Primary", 443, "Https", "/LiveServer/UserPinManagement/"),
        _p("urn:component:McuFactory", "WcfServer", "Primary", 9001, "Tcp", "/LiveServer/ConfDirMgmt/"),
    ],
    "Registrar": [
        _p("urn:component:Registrar", "SipServer", "Primary", 5061, "Mtls", authorizes="true", GruuType="HomeServer"),
        _p("urn:component:Registrar", "WebServer", "Primary", 444, "Mtls", "/LiveServer/Focus/"),
        _p("urn:component:WinFab", "WinFabFederation", "Primary", 5090, "Tcp"),
        _p("urn:component:WinFab", "WinFabLeaseAgent", "Primary", 5091, "Tcp"),
        _p("urn:component:WinFab", "WinFabClientConnection", "Primary", 5092, "Tcp"),
        _p("urn:component:WinFab", "WinFabIPC", "Primary", 5093, "Tcp"),
        _p("urn:component:WinFab", "WinFabReplication", "Primary", 5094, "Tcp"),
        _p("urn:component:QoE", "SipServer", "Primary", 5061, "Mtls", "/LiveServer/QoE/", "true", GruuType="QoS"),
        _p("urn:component:Lyss", "WcfMtls", "Primary", 5077, "Mtls"),
        _p("urn:component:XmppFederation", "SipServer", "Primary", 5098, "Mtls", authorizes="true",
           GruuType="XmppFederation"),
    ],
    "WebServices": [
        _p("urn:component:OCSWebSite", "WebSite", "External", 8080, "Http", ConfiguredPort=80),
        _p("urn:component:OCSWebSite", "WebSite", "External", 4443, "Https", ConfiguredPort=443),
        _p("urn:component:OCSWebSite", "WebSite", "Primary", 80, "Http"),
        _p("urn:component:OCSWebSite", "WebSite", "Primary", 443, "Https"),
        _p("urn:component:Reach", "PsomServer", "Primary", 8060, "Mtls"),
        _p("urn:component:Reach", "PsomServer", "External", 8061, "Mtls"),
        _p("urn:component:MediaComp", "AppSharingCommunication", "Primary", 49152, "TcpOrUdp", Range=16383),
        _p("urn:component:McxService", "SipServer", "Primary", 5086, "Mtls", authorizes="true", GruuType="McxInternal"),
        _p("urn:component:McxServiceExternal", "SipServer", "Primary", 5087, "Mtls", authorizes="true",
           GruuType="McxExternal"),
        _p("urn:component:PersistentChatWebManager", "SipServer", "Primary", 5095, "Mtls", authorizes="true",
           GruuType="PersistentChatRMWebInternal"),
        _p("urn:component:PersistentChatWebManagerExternal", "SipServer", "Primary", 5096, "Mtls", authorizes="true",
           GruuType="PersistentChatRMWebExternal"),
        _p("urn:component:UcwaService", "SipServer", "Primary", 5088, "Mtls", authorizes="true", GruuType="UcwaInternal"),
        _p("urn:component:UcwaServiceExternal", "SipServer", "Primary", 5089, "Mtls", authorizes="true",
           GruuType="UcwaExternal"),
    ],
    "ConfServices": [
        _p("urn:component:IMConf", "SipServer", "Primary", 5062, "Mtls", GruuType="chat"),
        _p("urn:component:IMConf", "WebServer", "Primary", 444, "Mtls", "/LiveServer/IMMcu/"),
        _p("urn:component:DataConf", "PsomClient", "Primary", 8057, "Tls"),
        _p("urn:component:AVConf", "SipServer", "Primary", 5063, "Mtls", GruuType="audio-video"),
        _p("urn:component:AppSharingConf", "SipServer", "Primary", 5065, "Mtls", GruuType="applicationsharing"),
        _p("urn:component:DataConf", "WebServer", "Primary", 444, "Mtls", "/LiveServer/DataMcu/"),
        _p("urn:component:AVConf", "WebServer", "Primary", 444, "Mtls", "/LiveServer/AVMcu/"),
        _p("urn:component:AppSharingConf", "WebServer", "Primary", 444, "Mtls", "/LiveServer/ASMcu/"),
    ] + _MEDIA,
    "ApplicationServer": [
        _p("urn:application:testbot", "SipServer", "Primary", 5076, "Mtls", authorizes="true",
           GruuType="Microsoft.Rtc.Applications.TestBot"),
    ] + _MEDIA,
    # assumed: the collocated Mediation Server's SIP listener (5070) and gateway listener (5067)
    "MediationServer": [
        _p("urn:component:MediationServer", "SipServer", "Primary", 5070, "Mtls", authorizes="true",
           GruuType="MediationServer"),
        _p("urn:component:MediationServer", "GatewayPeer", "Primary", 5067, "Tls"),
        _MEDIA[0],
    ],
    # assumed: a Lync Server 2013 Edge pool with one IP per side (Access Edge 5061 in and out, Web Conferencing
    # Edge 8057 in and 444 out, A/V Edge 443/3478 both sides and its authentication service on 5062)
    "EdgeServer": [
        _p("urn:component:AccessEdge", "SipServer", "Primary", 5061, "Mtls", authorizes="true"),
        _p("urn:component:AccessEdge", "SipServer", "External", 5061, "Mtls", authorizes="true"),
        _p("urn:component:DataEdge", "PsomServer", "Primary", 8057, "Tls"),
        _p("urn:component:DataEdge", "PsomClient", "External", 444, "Tls"),
        _p("urn:component:MediaRelayAuthEdge", "MRASServer", "Primary", 5062, "Mtls"),
        _p("urn:component:MediaRelay", "MediaRelay", "Primary", 443, "Tcp"),
        _p("urn:component:MediaRelay", "MediaRelay", "Primary", 3478, "Udp"),
        _p("urn:component:MediaRelay", "MediaRelay", "External", 443, "Tcp"),
        _p("urn:component:MediaRelay", "MediaRelay", "External", 3478, "Udp"),
    ],
}
# Roles whose Lync Server 2013 services listen: Topology Builder never writes them with an empty Ports element.
LISTENING_ROLES = tuple(LYNC_2013_PORTS)
# Usages served by HTTP.sys: several components share one port there, told apart by UrlPath.
_SHARED_HTTP_USAGES = {"WebServer", "WebSite", "UserPinManagement", "WcfServer"}


def default_ports(role: str) -> list[dict[str, str]]:
    return [dict(p) for p in LYNC_2013_PORTS.get(role, [])]


def interface_sides(roles: set[str]) -> tuple[str, ...]:
    """The NetInterfaces a computer of a cluster needs for the services it runs (External for web services'
    external site and the Edge's external side)."""
    sides = {p["InterfaceSide"] for r in roles for p in LYNC_2013_PORTS.get(r, [])}
    return tuple(side for side in INTERFACE_SIDES if side == "Primary" or side in sides)


class TopologyInvalid(Exception):
    """The document is not a topology Publish-CsTopology accepts; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Site:
    site_id: int
    name: str
    backcompat: bool = False
    description: str = ""


@dataclass
class Cluster:
    site_id: int
    number: int
    fqdn: str
    machines: list[str] = field(default_factory=list)
    requires_replication: bool = True
    requires_setup: bool = True
    # machine FQDN -> its NetInterface elements (InterfaceSide, InterfaceNumber, IPAddress)
    interfaces: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)


@dataclass
class SqlInstance:
    site_id: int
    cluster_number: int
    name: str


@dataclass
class Service:
    site_id: int
    role: str                                  # RoleName as written in the XML
    instance: int
    version: int
    installed_on: tuple[int, int]              # (SiteId, cluster Number)
    sql_instance: str | None = None            # set for the SQL store roles
    depends_on: list[tuple[str, tuple[int, str, int]]] = field(default_factory=list)  # (Usage, ServiceId)
    settings: dict[str, str] = field(default_factory=dict)                             # role element attributes
    ports: list[dict[str, str]] = field(default_factory=list)                          # Ports/Port attributes
    role_version: int = 1

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.site_id, self.role, self.instance)


@dataclass
class Topology:
    default_domain: str
    domains: list[str]
    sites: list[Site] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    sql_instances: list[SqlInstance] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    federation_route: tuple[int, str, int] | None = None   # ServiceId of the Edge/Director the site federates through
    signature: str = "00000000-0000-0000-0000-000000000000"

    # -- lookups ------------------------------------------------------------------------------------
    def site(self, site_id: int) -> Site | None:
        return next((s for s in self.sites if s.site_id == site_id), None)

    def backcompat_site(self) -> Site | None:
        return next((s for s in self.sites if s.backcompat), None)

    def cluster(self, site_id: int, number: int) -> Cluster | None:
        return next((c for c in self.clusters if c.site_id == site_id and c.number == number), None)

    def cluster_by_fqdn(self, fqdn: str) -> Cluster | None:
        return next((c for c in self.clusters if c.fqdn.lower() == fqdn.lower()), None)

    def service(self, key: tuple[int, str, int]) -> Service | None:
        return next((s for s in self.services if s.key == key), None)

    def services_on(self, cluster: Cluster) -> list[Service]:
        return [s for s in self.services if s.installed_on == (cluster.site_id, cluster.number)]

    def service_identity(self, svc: Service) -> str:
        cluster = self.cluster(*svc.installed_on)
        return f"{ROLE_DISPLAY.get(svc.role, svc.role)}:{cluster.fqdn if cluster else '?'}"

    def next_cluster_number(self, site_id: int) -> int:
        return 1 + max((c.number for c in self.clusters if c.site_id == site_id), default=0)

    def next_instance(self, site_id: int, role: str) -> int:
        return 1 + max((s.instance for s in self.services if s.site_id == site_id and s.role == role), default=0)

    def cms_service(self) -> Service | None:
        return next((s for s in self.services if s.role == "CentralMgmt" and s.settings.get("IsActive") == "true"),
                    None)

    def remove_site(self, site_id: int) -> None:
        self.sites = [s for s in self.sites if s.site_id != site_id]
        self.clusters = [c for c in self.clusters if c.site_id != site_id]
        self.services = [s for s in self.services if s.site_id != site_id]
        for svc in self.services:
            svc.depends_on = [d for d in svc.depends_on if d[1][0] != site_id]
        if self.federation_route and self.federation_route[0] == site_id:
            self.federation_route = None


# ------------------------------------------------------------------------------------------------------
# writing


def _q(tag: str, ns: str = NS) -> str:
    return f"{{{ns}}}{tag}"


def _service_id(parent: ET.Element, key: tuple[int, str, int]) -> None:
    ET.SubElement(parent, _q("ServiceId"), SiteId=str(key[0]), RoleName=key[1], Instance=str(key[2]))


def to_xml(topo: Topology) -> str:
    ET.register_namespace("", NS)
    ET.register_namespace("sr", NS_ROLES)
    root = ET.Element(_q("Topology"), Signature=topo.signature)
    domains = ET.SubElement(root, _q("InternalDomains"), AllowAllDomains="false", DefaultDomain=topo.default_domain)
    for d in topo.domains:
        ET.SubElement(domains, _q("InternalDomain"), Name=d, Authoritative="false", AllowSubDomains="false")
    sites = ET.SubElement(root, _q("Sites"))
    for s in topo.sites:
        el = ET.SubElement(sites, _q("BackCompatSite" if s.backcompat else "CentralSite"), SiteId=str(s.site_id))
        ET.SubElement(el, _q("Name")).text = s.name
        if not s.backcompat:
            ET.SubElement(el, _q("Location"))
    clusters = ET.SubElement(root, _q("Clusters"))
    for c in topo.clusters:
        el = ET.SubElement(clusters, _q("Cluster"), RequiresReplication=str(c.requires_replication).lower(),
                           RequiresSetup=str(c.requires_setup).lower(), Fqdn=c.fqdn)
        ET.SubElement(el, _q("ClusterId"), SiteId=str(c.site_id), Number=str(c.number))
        for i, m in enumerate(c.machines, 1):
            mel = ET.SubElement(el, _q("Machine"), OrdinalInCluster=str(i), Fqdn=m, FaultDomain=m, UpgradeDomain=m)
            for side, number, address in c.interfaces.get(m.lower(), []):
                ET.SubElement(mel, _q("NetInterface"), InterfaceSide=side, InterfaceNumber=str(number),
                              IPAddress=address)
    sqls = ET.SubElement(root, _q("SqlInstances"))
    for q in topo.sql_instances:
        el = ET.SubElement(ET.SubElement(sqls, _q("SqlInstance")), _q("SqlInstanceId"), Name=q.name)
        ET.SubElement(el, _q("ClusterId"), SiteId=str(q.site_id), Number=str(q.cluster_number))
    services = ET.SubElement(root, _q("Services"))
    for svc in topo.services:
        attrs = {"RoleVersion": str(svc.role_version), "ServiceVersion": str(svc.version)}
        if svc.role in _ROLE_TYPE:
            attrs["Type"] = _ROLE_TYPE[svc.role]
        el = ET.SubElement(services, _q("Service"), attrs)
        _service_id(el, svc.key)
        deps = ET.SubElement(el, _q("DependsOn"))
        for usage, key in svc.depends_on:
            _service_id(ET.SubElement(deps, _q("Dependency"), Usage=usage), key)
        on = ET.SubElement(el, _q("InstalledOn"))
        if svc.sql_instance:
            sid = ET.SubElement(on, _q("SqlInstanceId"), Name=svc.sql_instance)
            ET.SubElement(sid, _q("ClusterId"), SiteId=str(svc.installed_on[0]), Number=str(svc.installed_on[1]))
        else:
            ET.SubElement(on, _q("ClusterId"), SiteId=str(svc.installed_on[0]), Number=str(svc.installed_on[1]))
        ports = ET.SubElement(el, _q("Ports", NS_ROLES))
        for port in svc.ports:
            ET.SubElement(ports, _q("Port", NS_ROLES), {k: port[k] for k in PORT_ATTRS if k in port})
        if svc.role in _ROLE_ELEMENT:
            tag, _names = _ROLE_ELEMENT[svc.role]
            ET.SubElement(el, _q(tag, NS_ROLES), {k: v for k, v in svc.settings.items()})
    if topo.federation_route:
        routes = ET.SubElement(root, _q("FederationRoutes"))
        central = next((s for s in topo.sites if not s.backcompat), None)
        route = ET.SubElement(routes, _q("SiteFederationRoute"), SiteId=str(central.site_id if central else 1))
        _service_id(route, topo.federation_route)
    ET.indent(root, "  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ------------------------------------------------------------------------------------------------------
# reading and validating


def _int(el: ET.Element, attr: str, where: str, problems: list[str]) -> int:
    raw = el.get(attr)
    try:
        return int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        problems.append(f"{where}: attribute {attr} is missing or not a number (found {raw!r})")
        return -1


def _read_service_id(el: ET.Element | None, where: str, problems: list[str]) -> tuple[int, str, int] | None:
    if el is None:
        problems.append(f"{where}: ServiceId element is missing")
        return None
    role = el.get("RoleName") or ""
    if not role:
        problems.append(f"{where}: ServiceId has no RoleName")
    return (_int(el, "SiteId", where, problems), role, _int(el, "Instance", where, problems))


def _is_ipv4(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


def _check_lync_2013_deployment(topo: Topology, problems: list[str]) -> None:
    """What Topology Builder checks of the Lync Server 2013 part (the central sites) before it publishes, for the
    parts the lab models: every computer has a Primary NetInterface; services are Lync Server 2013 ones
    (ServiceVersion 6); a listening role's Ports is not empty and every Port is complete, on an interface each
    computer of its cluster has; the Registrar listens for SIP; no two services of a cluster claim the same
    interface, port and protocol (HTTP.sys-shared web ports told apart by UrlPath, and a component listed by
    several services, excepted). BackCompatSite (what the merge writes for OCS 2007 R2) is not checked. The
    exact rules Topology Builder applies are not published; these follow what its exports always carry."""
    central = {s.site_id for s in topo.sites if not s.backcompat}
    for c in topo.clusters:
        if c.site_id not in central:
            continue
        for m in c.machines:
            if not any(side == "Primary" for side, _n, _a in c.interfaces.get(m.lower(), [])):
                problems.append(f"Cluster {c.fqdn}: Machine {m} has no Primary NetInterface (Topology Builder "
                                "writes one for every computer)")
    claimed: dict[tuple, tuple[Service, dict]] = {}
    for svc in topo.services:
        if svc.site_id not in central:
            continue
        where = f"Service {svc.role} {svc.site_id}-{svc.instance}"
        if svc.version != LYNC_2013_VERSION:
            problems.append(f"{where}: ServiceVersion {svc.version} is not Lync Server 2013's "
                            f"({LYNC_2013_VERSION})")
        if svc.role in LISTENING_ROLES and not svc.ports:
            problems.append(f"{where}: the Ports element lists no Port; the role's components must be given "
                            "their ports")
        if svc.role == "Registrar" and not any(p.get("Usage") == "SipServer" and p.get("Owner") ==
                                               "urn:component:Registrar" for p in svc.ports):
            problems.append(f"{where}: the Registrar has no SipServer port")
        cluster = topo.cluster(*svc.installed_on)
        for port in svc.ports:
            missing = [k for k in PORT_ATTRS[:6] if not port.get(k)]
            if missing:
                problems.append(f"{where}: a Port lacks {', '.join(missing)}")
                continue
            if port["InterfaceSide"] not in INTERFACE_SIDES:
                problems.append(f"{where}: Port {port['Port']} has InterfaceSide {port['InterfaceSide']!r}")
            if not port["Port"].isdigit() or not 0 < int(port["Port"]) < 65536:
                problems.append(f"{where}: Port {port['Port']!r} is not a port number")
                continue
            if port["Protocol"] not in PROTOCOLS:
                problems.append(f"{where}: Port {port['Port']} has Protocol {port['Protocol']!r} "
                                f"(expected one of {', '.join(PROTOCOLS)})")
            if cluster is None:
                continue
            side = (port["InterfaceSide"], port["InterfaceNumber"])
            lacking = [m for m in cluster.machines
                       if side not in {(s_, str(n)) for s_, n, _a in cluster.interfaces.get(m.lower(), [])}]
            if lacking:
                problems.append(f"{where}: Port {port['Port']} is on the {side[0]} interface {side[1]}, which "
                                f"{', '.join(lacking)} does not have (add that NetInterface to the computer)")
            transports = {"Udp"} if port["Protocol"] == "Udp" else (
                {"Tcp", "Udp"} if port["Protocol"] == "TcpOrUdp" else {"Tcp"})
            for transport in transports:
                key = (svc.installed_on, side, int(port["Port"]), transport)
                other = claimed.get(key)
                if other is None:
                    claimed[key] = (svc, port)
                    continue
                osvc, oport = other
                shared_http = (port.get("Usage") in _SHARED_HTTP_USAGES and oport.get("Usage") in _SHARED_HTTP_USAGES
                               and port.get("UrlPath") != oport.get("UrlPath"))
                if osvc is svc or oport.get("Owner") == port.get("Owner") or shared_http:
                    continue
                problems.append(f"{where}: Port {port['Port']} ({port['Protocol']}, {side[0]} interface) is already "
                                f"used by {oport.get('Owner')} of {osvc.role} {osvc.site_id}-{osvc.instance} on "
                                f"{cluster.fqdn}")


def parse_topology(text: str | bytes) -> Topology:
    """Parse and validate a topology document as Publish-CsTopology does for the parts the lab models.

    Checked: well-formed XML; root Topology in the 2008 topology namespace; InternalDomains with a
    DefaultDomain that is one of its InternalDomain names; Sites with exactly one name each and unique
    SiteIds, at most one BackCompatSite; Clusters with an Fqdn, a ClusterId that names an existing site and
    Machines with an Fqdn; no FQDN used twice (a one-machine cluster may carry its machine's FQDN);
    SqlInstances on existing clusters; Services with a known RoleName, unique ServiceIds, installed on an
    existing cluster or SQL instance, dependencies that resolve; one active Central Management service.
    """
    problems: list[str] = []
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise TopologyInvalid([f"The document is not well-formed XML: {exc}"]) from None
    if root.tag != _q("Topology"):
        raise TopologyInvalid([f"The root element must be Topology in namespace {NS}; found {root.tag}"])

    doms = root.find(_q("InternalDomains"))
    domains: list[str] = []
    default_domain = ""
    if doms is None:
        problems.append("InternalDomains element is missing")
    else:
        default_domain = doms.get("DefaultDomain") or ""
        domains = [d.get("Name") or "" for d in doms.findall(_q("InternalDomain"))]
        if not domains or not all(domains):
            problems.append("InternalDomains must list at least one InternalDomain with a Name")
        if default_domain.lower() not in {d.lower() for d in domains}:
            problems.append(f"InternalDomains DefaultDomain {default_domain!r} is not one of the InternalDomain names")

    topo = Topology(default_domain=default_domain, domains=domains, signature=root.get("Signature") or "")
    sites_el = root.find(_q("Sites"))
    if sites_el is None:
        problems.append("Sites element is missing")
    else:
        for el in sites_el:
            if el.tag not in (_q("CentralSite"), _q("BackCompatSite")):
                problems.append(f"Sites: unexpected element {el.tag.split('}')[-1]}")
                continue
            sid = _int(el, "SiteId", "Site", problems)
            name = (el.findtext(_q("Name")) or "").strip()
            if not name:
                problems.append(f"Site {sid}: Name is missing")
            if topo.site(sid):
                problems.append(f"SiteId {sid} is used by more than one site")
            topo.sites.append(Site(sid, name, backcompat=el.tag == _q("BackCompatSite")))
        if not any(not s.backcompat for s in topo.sites):
            problems.append("The topology must define at least one central site")
        if sum(1 for s in topo.sites if s.backcompat) > 1:
            problems.append("There can be only one BackCompatSite")

    fqdn_owner: dict[str, str] = {}

    def claim(fqdn: str, owner: str) -> None:
        key = fqdn.lower()
        if key in fqdn_owner and fqdn_owner[key] != owner:
            problems.append(f"The FQDN {fqdn} is used more than once (by {fqdn_owner[key]} and {owner}); "
                            "every pool and computer FQDN must be unique")
        fqdn_owner.setdefault(key, owner)

    clusters_el = root.find(_q("Clusters"))
    for el in clusters_el if clusters_el is not None else []:
        fqdn = el.get("Fqdn") or ""
        cid = el.find(_q("ClusterId"))
        where = f"Cluster {fqdn or '(no Fqdn)'}"
        if not fqdn:
            problems.append("A Cluster has no Fqdn attribute")
        if cid is None:
            problems.append(f"{where}: ClusterId is missing")
            continue
        c = Cluster(_int(cid, "SiteId", where, problems), _int(cid, "Number", where, problems), fqdn,
                    requires_replication=el.get("RequiresReplication", "true") == "true",
                    requires_setup=el.get("RequiresSetup", "true") == "true")
        if topo.site(c.site_id) is None:
            problems.append(f"{where}: ClusterId SiteId {c.site_id} names no site")
        if topo.cluster(c.site_id, c.number):
            problems.append(f"{where}: ClusterId {c.site_id}/{c.number} is used by more than one cluster")
        for m in el.findall(_q("Machine")):
            mf = m.get("Fqdn") or ""
            if not mf:
                problems.append(f"{where}: a Machine has no Fqdn")
                continue
            c.machines.append(mf)
            for ni in m.findall(_q("NetInterface")):
                side = ni.get("InterfaceSide") or ""
                number = _int(ni, "InterfaceNumber", f"{where} Machine {mf} NetInterface", problems)
                address = ni.get("IPAddress") or ""
                if side not in INTERFACE_SIDES:
                    problems.append(f"{where}: Machine {mf} has a NetInterface with InterfaceSide {side!r} "
                                    f"(expected {' or '.join(INTERFACE_SIDES)})")
                if not _is_ipv4(address):
                    problems.append(f"{where}: Machine {mf} NetInterface {side} {number}: IPAddress {address!r} "
                                    "is not an IPv4 address (0.0.0.0 uses every configured address)")
                c.interfaces.setdefault(mf.lower(), []).append((side, number, address))
        if not c.machines:
            problems.append(f"{where}: the cluster has no Machine")
        owner = f"{where} (ClusterId {c.site_id}/{c.number})"
        claim(fqdn, owner)
        for mf in c.machines:
            # a single-computer pool (Standard Edition, a SQL server) carries its computer's FQDN
            if mf.lower() != fqdn.lower() or len(c.machines) > 1:
                claim(mf, owner)
        topo.clusters.append(c)

    sqls_el = root.find(_q("SqlInstances"))
    for el in sqls_el.findall(_q("SqlInstance")) if sqls_el is not None else []:
        sid = el.find(_q("SqlInstanceId"))
        cid = sid.find(_q("ClusterId")) if sid is not None else None
        if sid is None or cid is None:
            problems.append("SqlInstance: SqlInstanceId/ClusterId is missing")
            continue
        q = SqlInstance(_int(cid, "SiteId", "SqlInstance", problems), _int(cid, "Number", "SqlInstance", problems),
                        sid.get("Name") or "")
        if topo.cluster(q.site_id, q.cluster_number) is None:
            problems.append(f"SqlInstance {q.name}: ClusterId {q.site_id}/{q.cluster_number} names no cluster")
        topo.sql_instances.append(q)

    services_el = root.find(_q("Services"))
    for el in services_el.findall(_q("Service")) if services_el is not None else []:
        key = _read_service_id(el.find(_q("ServiceId")), "Service", problems)
        if key is None:
            continue
        where = f"Service {key[1]} {key[0]}-{key[2]}"
        if key[1] not in ROLE_DISPLAY:
            problems.append(f"{where}: unknown RoleName {key[1]!r}")
        on = el.find(_q("InstalledOn"))
        installed: tuple[int, int] = (-1, -1)
        sql_name = None
        if on is None or len(on) == 0:
            problems.append(f"{where}: InstalledOn is missing")
        else:
            target = on[0]
            if target.tag == _q("SqlInstanceId"):
                sql_name = target.get("Name") or ""
                target = target.find(_q("ClusterId"))
            if target is None or target.tag != _q("ClusterId"):
                problems.append(f"{where}: InstalledOn names no ClusterId")
            else:
                installed = (_int(target, "SiteId", where, problems), _int(target, "Number", where, problems))
                if topo.cluster(*installed) is None:
                    problems.append(f"{where}: InstalledOn ClusterId {installed[0]}/{installed[1]} names no cluster")
        deps = []
        for d in el.findall(f"{_q('DependsOn')}/{_q('Dependency')}"):
            dk = _read_service_id(d.find(_q("ServiceId")), where + " dependency", problems)
            if dk:
                deps.append((d.get("Usage") or "Default", dk))
        settings: dict[str, str] = {}
        if key[1] in _ROLE_ELEMENT:
            tag, names = _ROLE_ELEMENT[key[1]]
            rel = el.find(_q(tag, NS_ROLES))
            if rel is not None:
                settings = {n: rel.get(n) for n in names if rel.get(n) is not None}
        version = _int(el, "ServiceVersion", where, problems) if el.get("ServiceVersion") else LYNC_2013_VERSION
        role_version = _int(el, "RoleVersion", where, problems) if el.get("RoleVersion") else 1
        ports_el = el.find(_q("Ports", NS_ROLES))
        if ports_el is None:
            problems.append(f"{where}: the Ports element is missing")
        ports = [{k: pe.get(k) for k in PORT_ATTRS if pe.get(k) is not None}
                 for pe in (ports_el.findall(_q("Port", NS_ROLES)) if ports_el is not None else [])]
        svc = Service(key[0], key[1], key[2], version, installed, sql_name, deps, settings, ports, role_version)
        if topo.service(svc.key):
            problems.append(f"{where}: the ServiceId is used by more than one service")
        topo.services.append(svc)
    for svc in topo.services:
        for _usage, dk in svc.depends_on:
            if topo.service(dk) is None:
                problems.append(f"Service {svc.role} {svc.site_id}-{svc.instance} depends on "
                                f"{dk[1]} {dk[0]}-{dk[2]}, which the topology does not define")

    routes = root.find(_q("FederationRoutes"))
    if routes is not None:
        route = routes.find(_q("SiteFederationRoute"))
        if route is not None:
            rk = _read_service_id(route.find(_q("ServiceId")), "SiteFederationRoute", problems)
            if rk and topo.service(rk) is None:
                problems.append(f"SiteFederationRoute names {rk[1]} {rk[0]}-{rk[2]}, which the topology does not define")
            topo.federation_route = rk

    _check_lync_2013_deployment(topo, problems)

    active_cms = [s for s in topo.services if s.role == "CentralMgmt" and s.settings.get("IsActive") == "true"]
    if not active_cms:
        problems.append("The topology has no Central Management Server location: exactly one CentralMgmt "
                        "service with IsActive=\"true\" is required")
    elif len(active_cms) > 1:
        problems.append("More than one CentralMgmt service is marked active")
    if problems:
        raise TopologyInvalid(problems)
    return topo
