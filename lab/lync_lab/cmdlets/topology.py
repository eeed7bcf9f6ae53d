"""Topology cmdlets: Get-/Publish-/Enable-CsTopology, Get-CsSite, Get-CsPool, Get-CsService, Get-CsComputer and
Merge-CsLegacyTopology."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..engine import what_if
from ..errors import PSError
from ..model import servers, vfs
from ..model import topology as topo_model
from ..model.cs_support import (
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
    try:
        new = parse_topology(text)
    except TopologyInvalid as exc:
        raise PSError("Topology validation failed. The topology was not published: " + "; ".join(exc.problems),
                      f"TopologyValidationFailed,{cmdlet_class('Publish-CsTopology')}", category="InvalidData",
                      target=source, exception="Microsoft.Rtc.Management.Deployment.DeploymentException") from None
    old = topo_model.current(tx)
    problems = _publish_checks(tx, old, new)
    if problems:
        raise PSError("Topology validation failed. The topology was not published: " + "; ".join(problems),
                      f"TopologyValidationFailed,{cmdlet_class('Publish-CsTopology')}", category="InvalidOperation",
                      target=source, exception="Microsoft.Rtc.Management.Deployment.DeploymentException")
    if params.get("BackupFileName") and old is not None:
        vfs.write_text(tx, ctx, params["BackupFileName"], topo_model.current_xml(tx))
    if old is None and not params.get("WhatIf"):
        from ..model.cms_bootstrap import create_cms

        create_cms(tx)    # the first publish creates the CMS (Install-CsDatabase -CentralManagementDatabase)
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


def read_edge_input(text: str) -> tuple[list[dict], int]:
    """Parse the -UserInputFileName document: the legacy Edges as the Merge wizard asks for them.

    <TopologyInput xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.LegacyUserInput.2008" InternalSipPort="5061">
      <EdgeClusters>
        <EdgeCluster EdgeType="SingleEdgeServer" InternalFqdn="ocs-edge01.contoso.net"
                     AccessEdgeExternalFqdn="sip.contoso.net" DataEdgeExternalFqdn="webconf.contoso.net"
                     AVEdgeExternalFqdn="av.contoso.net" NextHopFqdn="pool01.contoso.net" FederationEnabled="true">
          <Machine Fqdn="ocs-edge01.contoso.net" />
        </EdgeCluster>
      </EdgeClusters>
    </TopologyInput>
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"the user input file is not well-formed XML: {exc}") from None
    q = lambda t: f"{{{LEGACY_INPUT_NS}}}{t}"  # noqa: E731
    if root.tag != q("TopologyInput"):
        raise ValueError(f"the root element must be TopologyInput in namespace {LEGACY_INPUT_NS}")
    port = root.get("InternalSipPort", "5061")
    if not port.isdigit():
        raise ValueError(f"InternalSipPort {port!r} is not a port number")
    edges = []
    for el in root.findall(f"{q('EdgeClusters')}/{q('EdgeCluster')}"):
        edge_type = el.get("EdgeType", "SingleEdgeServer")
        fqdn = el.get("InternalFqdn") or ""
        if edge_type not in ("SingleEdgeServer", "LoadBalancedConsolidatedEdge"):
            raise ValueError(f"Edge {fqdn}: EdgeType {edge_type!r} is not supported; an Expanded Edge must be "
                             "converted to a Single Edge Server or a Load-balanced consolidated Edge first")
        edge = {"fqdn": fqdn, "edge_type": edge_type,
                "access_edge": el.get("AccessEdgeExternalFqdn"), "webconf_edge": el.get("DataEdgeExternalFqdn"),
                "av_edge": el.get("AVEdgeExternalFqdn"), "next_hop": el.get("NextHopFqdn"),
                "federation": (el.get("FederationEnabled") or "false").lower() == "true",
                "machines": [m.get("Fqdn") for m in el.findall(q("Machine")) if m.get("Fqdn")] or [fqdn]}
        missing = [k for k in ("fqdn", "access_edge", "webconf_edge", "av_edge", "next_hop") if not edge[k]]
        if missing:
            raise ValueError(f"EdgeCluster {fqdn or '(no InternalFqdn)'} lacks {', '.join(missing)}")
        edges.append(edge)
    if sum(1 for e in edges if e["federation"]) > 1:
        raise ValueError("only one Edge can be used for federation and public IM connectivity")
    return edges, int(port)


@cmdlet("Merge-CsLegacyTopology", requires="lync")
def merge_cs_legacy_topology(ctx, params, tx):
    name = "Merge-CsLegacyTopology"
    if not servers.installed(tx, ctx.server.fqdn, servers.OCSWMIBC):
        raise wmi_provider_error(name)
    topo = require_topology(tx, name)
    edges: list[dict] = []
    port = 5061
    if params.get("UserInputFileName"):
        text = vfs.read_text(tx, ctx, params["UserInputFileName"], name, "UserInputFileName")
        try:
            edges, port = read_edge_input(text)
        except ValueError as exc:
            raise invalid(name, f"The user input file {params['UserInputFileName']} cannot be used: {exc}.",
                          target=params["UserInputFileName"], category="InvalidData") from None
    if "TopologyXmlFileName" not in params:
        raise invalid(name, "TopologyXmlFileName is required: the merged topology is written to that file and "
                            "published with Publish-CsTopology.", category="InvalidArgument")
    def still_installed(fqdn: str) -> bool:
        doc = servers.get(tx, fqdn)
        return doc is None or servers.has(tx, fqdn, "ocs")   # servers the lab keeps no state for count as present

    merged = topo_model.merge_legacy(topo, ctx.lab.scenario, edges, internal_sip_port=port,
                                     still_installed=still_installed)
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
