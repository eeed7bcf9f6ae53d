"""Topology cmdlets: Get-/Publish-/Enable-CsTopology, Get-CsSite, Get-CsPool, Get-CsService, Get-CsComputer and
Merge-CsLegacyTopology."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..engine import what_if
from ..errors import PSError
from ..model import cms_bootstrap, servers, vfs
from ..model import topology as topo_model
from .cs_support import (
    cmdlet_class,
    filter_matches,
    invalid,
    not_found,
    public,
    require_topology,
    strip_prefix,
)
from ..model.topology_xml import DISPLAY_ROLE, ROLE_DISPLAY, TopologyInvalid, parse_topology
from ..powershell.values import XElementValue
from . import cmdlet

# ------------------------------------------------------------------------------------------------------
# Get-CsTopology


@cmdlet("Get-CsTopology", requires="lync")
def get_cs_topology(ctx, params, tx):
    topo = require_topology(tx, "Get-CsTopology")
    if params.get("AsXml"):
        # An XElement, not a string (Publish-CsTopology.md types -Document as System.Xml.Linq.XElement and
        # converts this result with .ToString()).
        return [XElementValue.of_document(topo_model.current_xml(tx))]
    return [{
        "Sites": [topo_model.site_identity(s) for s in topo.sites],
        "InternalDomains": list(topo.domains),
        "Clusters": [f"{c.site_id}-{c.number}" for c in topo.clusters],
        "Machines": [m for c in topo.clusters for m in c.machines],
        "SqlInstances": [f"{q.site_id}-{q.cluster_number}-{q.name}" for q in topo.sql_instances],
        "Services": [topo.service_identity(s) for s in topo.services],
    }]


# ------------------------------------------------------------------------------------------------------
# Publish-CsTopology / Enable-CsTopology


def _publish_checks(tx, old, new) -> list[str]:
    """What Publish-CsTopology refuses beyond the document's own validity: moving the CMS by publishing, and
    removing a pool that still homes conference directories or users."""
    problems = []
    if old is not None:
        old_cms, new_cms = old.cms_service(), new.cms_service()
        if old_cms and new_cms and old.service_identity(old_cms).lower() != new.service_identity(new_cms).lower():
            problems.append("The Central Management Server location cannot be changed by publishing a topology; "
                            "use Move-CsManagementServer")
        new_fqdns = {c.fqdn.lower() for c in new.clusters}
        for c in old.clusters:
            if c.fqdn.lower() in new_fqdns:
                continue
            homed = [d["Identity"] for _k, d in tx.query("confdir")
                     if d.get("imported") and d["pool"].lower() == c.fqdn.lower()]
            if homed:
                problems.append(f"The pool {c.fqdn} cannot be removed: conference directories "
                                f"{', '.join(homed)} are still homed on it (Move-CsConferenceDirectory first)")
            users = [k for k, d in tx.query("user")
                     if str(d.get("RegistrarPool") or "").lower() == c.fqdn.lower()]
            if users and not (old.site(c.site_id) and old.site(c.site_id).backcompat):
                problems.append(f"The pool {c.fqdn} cannot be removed: {len(users)} users are still homed on it")
    return problems


def _require_cms_store(tx) -> None:
    """Publish-CsTopology writes into the Central Management store that Active Directory's service control point
    names: the store must have been installed (Install-CsDatabase -CentralManagementDatabase) and located
    (Set-CsConfigurationStoreLocation) first (model/cms_bootstrap.py has the sources). The errors' wording is
    assumed: Microsoft documents the sequence, not what Publish-CsTopology says without it."""
    loc = cms_bootstrap.location(tx)
    if loc is None:
        raise PSError("Cannot publish the topology: Active Directory does not contain the location of the Central "
                      "Management store. Install the store with Install-CsDatabase -CentralManagementDatabase "
                      "-SqlServerFqdn <SQL Server> -SqlInstanceName <instance>, set its location with "
                      "Set-CsConfigurationStoreLocation, then publish.",
                      f"NoCentralManagementStore,{cmdlet_class('Publish-CsTopology')}", category="ResourceUnavailable",
                      exception="Microsoft.Rtc.Management.ManagementException")
    if cms_bootstrap.located_database(tx) is None:
        where = cms_bootstrap.path(loc["SqlServerFqdn"], loc["SqlInstanceName"])
        raise PSError(f"Cannot publish the topology: the Central Management store was not found on {where}, where "
                      "Active Directory locates it. Install it there with Install-CsDatabase "
                      "-CentralManagementDatabase.",
                      f"CentralManagementStoreNotFound,{cmdlet_class('Publish-CsTopology')}",
                      category="ObjectNotFound", target=where,
                      exception="Microsoft.Rtc.Management.ManagementException")


def _first_publish_checks(tx, new) -> list[str]:
    """The first topology must place its Central Management store (the CentralMgmtStore service the active
    CentralMgmt depends on) on the SQL Server instance where the store was installed and located, as Topology
    Builder's "Select Central Management Server" page ties the two (lync-server-2013-publish-the-topology topic).
    The rule's wording is the lab's."""
    loc = cms_bootstrap.location(tx)
    cms = new.cms_service()
    if loc is None or cms is None:
        return []
    stores = [new.service(dep) for _u, dep in cms.depends_on if dep[1] == "CentralMgmtStore"]
    placed = []
    for store in stores:
        cluster = new.cluster(*store.installed_on) if store else None
        if cluster is not None:
            placed.append(cms_bootstrap.path(cluster.fqdn, store.sql_instance or None).lower())
    wanted = cms_bootstrap.path(loc["SqlServerFqdn"], loc["SqlInstanceName"]).lower()
    if wanted in placed:
        return []
    return [f"The topology places the Central Management store on {', '.join(placed) or 'no SQL Server instance'}, "
            f"but the store was installed and located on {wanted} (Install-CsDatabase -CentralManagementDatabase, "
            "Set-CsConfigurationStoreLocation)"]


@cmdlet("Publish-CsTopology", requires="lync")
def publish_cs_topology(ctx, params, tx):
    if params.get("FinalizeUninstall"):
        require_topology(tx, "Publish-CsTopology")   # nothing to finalise: the lab models no uninstall
        return [what_if("Publish-CsTopology", "FinalizeUninstall")] if params.get("WhatIf") else []
    if "Document" in params:
        text = params["Document"] if isinstance(params["Document"], str) else str(params["Document"])
        source = "Document"
    else:
        text = vfs.read_text(tx, ctx, params["FileName"], "Publish-CsTopology", "FileName")
        source = vfs.full_path(ctx, params["FileName"])
    _require_cms_store(tx)
    try:
        new = parse_topology(text)
    except TopologyInvalid as exc:
        raise PSError("Topology validation failed. The topology was not published: " + "; ".join(exc.problems),
                      f"TopologyValidationFailed,{cmdlet_class('Publish-CsTopology')}", category="InvalidData",
                      target=source, exception="Microsoft.Rtc.Management.Deployment.DeploymentException") from None
    old = topo_model.current(tx)
    problems = _publish_checks(tx, old, new)
    if old is None:
        problems += _first_publish_checks(tx, new)
    if problems:
        raise PSError("Topology validation failed. The topology was not published: " + "; ".join(problems),
                      f"TopologyValidationFailed,{cmdlet_class('Publish-CsTopology')}", category="InvalidOperation",
                      target=source, exception="Microsoft.Rtc.Management.Deployment.DeploymentException")
    if params.get("BackupFileName") and old is not None:
        vfs.write_text(tx, ctx, params["BackupFileName"], topo_model.current_xml(tx))
    published = topo_model.publish(tx, text, enable=False)
    from .replication import topology_changed

    topology_changed(tx, published)
    if params.get("Report"):
        vfs.write_text(tx, ctx, params["Report"], _report("Publish-CsTopology", "Success"))
    if params.get("WhatIf"):
        return [what_if("Publish-CsTopology", source)]
    return []


def _report(cmdlet: str, status: str, lines: list[str] | None = None) -> str:
    body = "".join(f"<Entry>{ET_escape(x)}</Entry>" for x in (lines or []))
    return f'<?xml version="1.0" encoding="utf-8"?>\n<DeploymentReport Cmdlet="{cmdlet}" Status="{status}">{body}</DeploymentReport>\n'


def ET_escape(text: str) -> str:  # noqa: N802 - the ElementTree escape, named for what it is
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@cmdlet("Enable-CsTopology", requires="lync")
def enable_cs_topology(ctx, params, tx):
    require_topology(tx, "Enable-CsTopology")
    topo_model.enable(tx)
    if params.get("Report"):
        vfs.write_text(tx, ctx, params["Report"], _report("Enable-CsTopology", "Success"))
    if params.get("WhatIf"):
        return [what_if("Enable-CsTopology", "Topology")]
    return []


# ------------------------------------------------------------------------------------------------------
# Get-CsSite / Get-CsPool / Get-CsComputer / Get-CsService


@cmdlet("Get-CsSite", requires="lync")
def get_cs_site(ctx, params, tx):
    require_topology(tx, "Get-CsSite")
    sites = [d for _k, d in tx.query("site")]
    sites.sort(key=lambda d: d["SiteId"])
    ident = params.get("Identity")
    if ident:
        name = strip_prefix(str(ident), "Site:")
        hit = [d for d in sites if d["DisplayName"].lower() == name.lower() or str(d["SiteId"]) == name]
        if not hit:
            raise not_found("Get-CsSite", "site", str(ident))
        return hit
    pred = filter_matches(params.get("Filter"), "Get-CsSite")
    return [d for d in sites if pred(d)]


@cmdlet("Get-CsPool", requires="lync")
def get_cs_pool(ctx, params, tx):
    require_topology(tx, "Get-CsPool")
    pools = [d for _k, d in tx.query("pool")]
    pools.sort(key=lambda d: (d["site_id"], d["Fqdn"].lower()))
    if params.get("Site"):
        site = strip_prefix(str(params["Site"]), "Site:").lower()
        pools = [d for d in pools if d["Site"].lower() == f"site:{site}" or str(d["site_id"]) == site]
    ident = params.get("Identity")
    if ident:
        pool = topo_model.find_pool(tx, str(ident))
        if pool is None:
            raise not_found("Get-CsPool", "pool", str(ident))
        return [public(pool)]
    return [public(d) for d in pools]


@cmdlet("Get-CsComputer", requires="lync")
def get_cs_computer(ctx, params, tx):
    require_topology(tx, "Get-CsComputer")
    rows = []
    for _k, pool in tx.query("pool"):
        for m in pool["Computers"]:
            rows.append({"Identity": m, "Pool": pool["Fqdn"], "Fqdn": m})
    if params.get("Local"):
        rows = [r for r in rows if r["Fqdn"].lower() == ctx.server.fqdn.lower()]
    if params.get("Pool"):
        rows = [r for r in rows if r["Pool"].lower() == str(params["Pool"]).lower()]
    if params.get("Identity"):
        rows = [r for r in rows if r["Fqdn"].lower() == str(params["Identity"]).lower()]
        if not rows:
            raise not_found("Get-CsComputer", "computer", str(params["Identity"]))
    pred = filter_matches(params.get("Filter"), "Get-CsComputer")
    return [r for r in rows if pred(r)]


# Get-CsService's role switches -> the XML RoleName they select ("Director" is a Registrar with IsDirector).
_SERVICE_SWITCHES = {name: DISPLAY_ROLE[name] for name in ROLE_DISPLAY.values()}
_SERVICE_SWITCHES["Director"] = "Registrar"


def service_view(topo, svc) -> dict:
    cluster = topo.cluster(*svc.installed_on)
    site = topo.site(svc.site_id)
    view = {"Identity": topo.service_identity(svc)}
    for usage, dep in svc.depends_on:
        dsvc = topo.service(dep)
        if dsvc is not None:
            view[ROLE_DISPLAY.get(dsvc.role, dsvc.role)] = topo.service_identity(dsvc)
    if svc.role == "Registrar":
        view["IsDirector"] = svc.settings.get("IsDirector") == "true"
    if svc.role == "EdgeServer":
        view.update({
            "AccessEdgeExternalFqdn": svc.settings.get("AccessEdgeExternalFqdn"),
            "DataEdgeExternalFqdn": svc.settings.get("DataEdgeExternalFqdn"),
            "AVEdgeExternalFqdn": svc.settings.get("AVEdgeExternalFqdn"),
            "InternalInterfaceFqdn": cluster.fqdn if cluster else None,
            "InternalSipPort": int(svc.settings.get("InternalSipPort", "5061")),
            "NextHopFqdn": svc.settings.get("NextHopFqdn"),
            "IsFederationEnabled": svc.settings.get("FederationEnabled") == "true",
        })
    if svc.role == "FileStore":
        view["ShareName"] = svc.settings.get("ShareName")
        view["UncPath"] = f"\\\\{cluster.fqdn}\\{svc.settings.get('ShareName')}" if cluster else None
    if svc.role == "CentralMgmt":
        view["Active"] = svc.settings.get("IsActive") == "true"
    dependents = [topo.service_identity(s) for s in topo.services if any(d[1] == svc.key for d in s.depends_on)]
    view.update({
        "DependentServiceList": dependents,
        "ServiceId": f"{svc.site_id}-{svc.role}-{svc.instance}",
        "SiteId": topo_model.site_identity(site) if site else None,
        "PoolFqdn": cluster.fqdn if cluster else None,
        "Version": svc.version,
        "Role": ROLE_DISPLAY.get(svc.role, svc.role),
    })
    return view


@cmdlet("Get-CsService", requires="lync")
def get_cs_service(ctx, params, tx):
    topo = require_topology(tx, "Get-CsService")
    services = list(topo.services)
    chosen = [name for name in _SERVICE_SWITCHES if params.get(name)]
    if chosen:
        role = _SERVICE_SWITCHES[chosen[0]]
        services = [s for s in services if s.role == role]
        if chosen[0] == "Director":
            services = [s for s in services if s.settings.get("IsDirector") == "true"]
        elif chosen[0] == "Registrar":
            services = [s for s in services if s.settings.get("IsDirector") != "true"]
    if params.get("PoolFqdn"):
        want = str(params["PoolFqdn"]).lower()
        services = [s for s in services if topo.cluster(*s.installed_on).fqdn.lower() == want]
    views = [service_view(topo, s) for s in services]
    if params.get("Identity"):
        ident = strip_prefix(str(params["Identity"]), "service:").lower()
        views = [v for v in views if v["Identity"].lower() == ident]
        if not views:
            raise not_found("Get-CsService", "service", str(params["Identity"]))
    pred = filter_matches(params.get("Filter"), "Get-CsService")
    return [v for v in views if pred(v)]


# ------------------------------------------------------------------------------------------------------
# Merge-CsLegacyTopology

LEGACY_INPUT_NS = "urn:schema:Microsoft.Rtc.Management.Deploy.LegacyUserInput.2008"


def wmi_provider_error(cmdlet: str) -> PSError:
    """What the Lync cmdlets that read OCS 2007 R2 through WMI say when OCSWMIBC.msi is not on the computer."""
    return PSError(
        "Cannot access the Office Communications Server 2007 R2 WMI provider: Invalid class "
        '"MSFT_SIPPoolSetting". Install the Office Communications Server 2007 R2 WMI Backward Compatibility '
        "package (OCSWMIBC.msi, \\Setup\\amd64\\Setup\\OCSWMIBC.msi on the installation media) on this computer.",
        f"WmiProviderError,{cmdlet_class(cmdlet)}", category="NotInstalled",
        exception="System.Management.ManagementException")


# Microsoft's custom Edge Server input file (Lync Server 2010 deployment documentation, "Create a Custom Edge
# Server Input File", learn.microsoft.com/previous-versions/office/skype-server-2010/gg398097): a TopologyInput root
# in the LegacyUserInput.2008 namespace, EdgeClusters/EdgeCluster with the AP (Access Edge), MR (A/V Edge, the Media
# Relay) and DP (Web Conferencing Edge, the Data Proxy) switches and Version, then LoadBalancer, Machines/Machine,
# Ports and DirectorOrEdgeNextHop; an optional RegistrarClusterPort after EdgeClusters. The topic says the
# TopologyInput element is what makes the cmdlet validate the file against its schema. The schema itself is not
# published: which attributes the lab requires for which switch (below) is the lab's reading of the topic's example.
_EDGE_CLUSTER_ATTRS = {"AP", "MR", "DP", "Version", "FederationEnabled"}
_EDGE_CHILDREN = ("LoadBalancer", "Machines", "Ports", "DirectorOrEdgeNextHop")
_VERSIONS = ("OCS2007R2", "OCS2007")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}   # xs:boolean's lexical forms


class EdgeInputInvalid(ValueError):
    """The user input file does not validate against the Edge input schema."""


def read_edge_input(text: str) -> list[dict]:
    """Parse and validate the -UserInputFileName document; return the Edges it describes.

    Each Edge: ``fqdn`` (LoadBalancer InternalFqdn: the Edge's internal FQDN, its load balancer's for a pool),
    ``machines``, ``webconf_edge`` (LoadBalancer ExternalDPFqdn), ``internal_sip_port`` / ``internal_webconf_port``
    / ``external_webconf_port`` (Ports), ``next_hop`` (DirectorOrEdgeNextHop Fqdn), ``federation`` and
    ``version``. Raises EdgeInputInvalid with every reason."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise EdgeInputInvalid(f"the file is not well-formed XML: {exc}") from None
    q = lambda t: f"{{{LEGACY_INPUT_NS}}}{t}"  # noqa: E731
    if root.tag != q("TopologyInput"):
        raise EdgeInputInvalid(f"the root element must be TopologyInput in namespace {LEGACY_INPUT_NS} "
                               f"(found {root.tag})")
    problems: list[str] = []

    def value(el, attr, where, required=True):
        raw = el.get(attr)
        if raw is None or not raw.strip():
            if required:
                problems.append(f"{where}: attribute {attr} is required")
            return None
        return raw.strip()      # the topic's own example carries a trailing space in an FQDN

    def boolean(el, attr, where, required=True):
        raw = value(el, attr, where, required)
        if raw is None:
            return False
        if raw not in _BOOLEANS:
            problems.append(f"{where}: {attr}={raw!r} is not true or false")
            return False
        return _BOOLEANS[raw]

    def port(el, attr, where, required):
        raw = value(el, attr, where, required) if el is not None else None
        if raw is None:
            return None
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            problems.append(f"{where}: {attr}={raw!r} is not a port number")
            return None
        return int(raw)

    for child in root:
        if child.tag not in (q("EdgeClusters"), q("RegistrarClusterPort")):
            problems.append(f"TopologyInput: unexpected element {child.tag.split('}')[-1]}")
    registrar_port = root.find(q("RegistrarClusterPort"))
    if registrar_port is not None:
        boolean(registrar_port, "EnableAutoDiscoveryOfPorts", "RegistrarClusterPort")
        port(registrar_port, "Port", "RegistrarClusterPort", required=False)
    edges = []
    for n, el in enumerate(root.findall(f"{q('EdgeClusters')}/{q('EdgeCluster')}"), 1):
        where = f"EdgeCluster {n}"
        for attr in el.attrib:
            if attr not in _EDGE_CLUSTER_ATTRS:
                problems.append(f"{where}: attribute {attr} is not declared for EdgeCluster")
        for child in el:
            if child.tag not in {q(t) for t in _EDGE_CHILDREN}:
                problems.append(f"{where}: unexpected element {child.tag.split('}')[-1]}")
        roles = {r: boolean(el, r, where) for r in ("AP", "MR", "DP")}
        version = value(el, "Version", where)
        if version is not None and version not in _VERSIONS:
            problems.append(f"{where}: Version={version!r} is not one of {', '.join(_VERSIONS)}")
        lb = el.find(q("LoadBalancer"))
        if lb is None:
            problems.append(f"{where}: the LoadBalancer element is required")
        fqdn = value(lb, "InternalFqdn", f"{where} LoadBalancer") if lb is not None else None
        webconf = value(lb, "ExternalDPFqdn", f"{where} LoadBalancer", required=roles["DP"]) if lb is not None else None
        machines = [value(m, "InternalFqdn", f"{where} Machine")
                    for m in el.findall(f"{q('Machines')}/{q('Machine')}")]
        if not machines:
            problems.append(f"{where}: Machines must list at least one Machine")
        ports = el.find(q("Ports"))
        if ports is None:
            problems.append(f"{where}: the Ports element is required")
        hop = el.find(q("DirectorOrEdgeNextHop"))
        if hop is None:
            problems.append(f"{where}: the DirectorOrEdgeNextHop element is required")
        edge = {
            "fqdn": fqdn, "machines": [m for m in machines if m], "webconf_edge": webconf,
            "internal_sip_port": port(ports, "InternalAPPort", f"{where} Ports", required=roles["AP"]),
            "internal_webconf_port": port(ports, "InternalDPPort", f"{where} Ports", required=roles["DP"]),
            "external_webconf_port": port(ports, "ExternalDPPort", f"{where} Ports", required=roles["DP"]),
            "next_hop": value(hop, "Fqdn", f"{where} DirectorOrEdgeNextHop") if hop is not None else None,
            "federation": boolean(el, "FederationEnabled", where, required=False),
            "version": version, "roles": roles,
        }
        edges.append(edge)
    if problems:
        raise EdgeInputInvalid("; ".join(problems))
    for edge in edges:
        # The Merge wizard topic (Lync Server 2013, merge-using-topology-builder-merge-wizard.md, step 5): an
        # Expanded Edge is not supported and must first become a Single Edge Server or a Load-balanced
        # consolidated Edge, i.e. one cluster running all three Edge services. The refusal's wording is the lab's.
        if not all(edge["roles"].values()):
            off = ", ".join(r for r, on in edge["roles"].items() if not on)
            raise EdgeInputInvalid(f"the Edge {edge['fqdn']} does not run every Edge service ({off} is false): an "
                                   "Expanded Edge is not supported; convert it to a Single Edge Server or a "
                                   "Load-balanced consolidated Edge first")
    # Same topic, step 8: with several Edges, only one of them is enabled for federation.
    federating = [e["fqdn"] for e in edges if e["federation"]]
    if len(federating) > 1:
        raise EdgeInputInvalid("only one Edge can be used for federation and public IM connectivity "
                               f"({', '.join(federating)} have FederationEnabled=\"true\")")
    return edges


@cmdlet("Merge-CsLegacyTopology", requires="lync")
def merge_cs_legacy_topology(ctx, params, tx):
    name = "Merge-CsLegacyTopology"
    if not servers.installed(tx, ctx.server.fqdn, servers.OCSWMIBC):
        raise wmi_provider_error(name)
    topo = require_topology(tx, name)
    edges: list[dict] = []
    if params.get("UserInputFileName"):
        text = vfs.read_text(tx, ctx, params["UserInputFileName"], name, "UserInputFileName")
        try:
            edges = read_edge_input(text)
        except EdgeInputInvalid as exc:
            # wording assumed: Microsoft documents that the file is schema-validated, not what the error says
            raise invalid(name, f"The user input file {params['UserInputFileName']} failed schema validation: "
                                f"{exc}.", target=params["UserInputFileName"], category="InvalidData") from None
    if "TopologyXmlFileName" not in params:
        raise invalid(name, "TopologyXmlFileName is required: the merged topology is written to that file and "
                            "published with Publish-CsTopology.", category="InvalidArgument")
    def still_installed(fqdn: str) -> bool:
        doc = servers.get(tx, fqdn)
        return doc is None or servers.has(tx, fqdn, "ocs")   # servers the lab keeps no state for count as present

    merged = topo_model.merge_legacy(topo, ctx.lab.scenario, edges, still_installed=still_installed)
    from ..model.topology_xml import to_xml

    out = vfs.write_text(tx, ctx, params["TopologyXmlFileName"], to_xml(merged))
    if params.get("Report"):
        lines = [f"Merged legacy pool {c.fqdn}" for c in merged.clusters
                 if merged.site(c.site_id).backcompat]
        if not edges:
            lines.append("No Edge Server was merged: Edge Servers are not stored in Active Directory and must be "
                         "given with -UserInputFileName; external access and federation may not work.")
        vfs.write_text(tx, ctx, params["Report"], _report(name, "Success", lines))
    if params.get("WhatIf"):
        return [what_if(name, out["Path"])]
    return []
