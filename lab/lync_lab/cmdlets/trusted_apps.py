"""Trusted application pools and applications, static routes.

A trusted application pool is part of the topology (a cluster with an ExternalServer service), so
New-/Remove-CsTrustedApplicationPool change the published topology directly; as the reference says, the change
takes effect after Enable-CsTopology. Trusted applications: kind "trusted_app", key "<pool>/urn:application:<id>".
Static routes: the global StaticRoutingConfiguration in the CMS.
"""

from __future__ import annotations

from ..engine import what_if
from ..errors import PSError
from ..model import pool_objects
from ..model import topology as topo_model
from ..model.topology_xml import Service
from .cs_support import cmdlet_class, invalid, not_found, require_pool, require_topology, strip_prefix
from . import cmdlet
from .topology import service_view


def _app_pool_views(topo) -> list[dict]:
    rows = []
    for svc in topo.services:
        if svc.role != "ExternalServer":
            continue
        view = service_view(topo, svc)
        view.update({
            "ThrottleAsServer": svc.settings.get("ThrottleAsServer") == "true",
            "TreatAsAuthenticated": svc.settings.get("TreatAsAuthenticated") == "true",
            "OutboundOnly": svc.settings.get("OutboundOnly") == "true",
            "RequiresReplication": topo.cluster(*svc.installed_on).requires_replication,
        })
        rows.append(view)
    return rows


@cmdlet("Get-CsTrustedApplicationPool", requires="lync")
def get_cs_trusted_application_pool(ctx, params, tx):
    topo = require_topology(tx, "Get-CsTrustedApplicationPool")
    rows = _app_pool_views(topo)
    if params.get("Identity"):
        want = strip_prefix(str(params["Identity"]), "TrustedApplicationPool:").lower()
        rows = [r for r in rows if r["PoolFqdn"].lower() == want]
        if not rows:
            raise not_found("Get-CsTrustedApplicationPool", "trusted application pool", str(params["Identity"]))
    return rows


def _bool(value, default: bool) -> str:
    return str(default if value is None else bool(value)).lower()


def _registrar_service(topo, registrar: dict):
    """The Registrar service of the pool ``registrar`` (a require_pool result): a trusted pool's next hop."""
    return next(s for s in topo.services
                if s.role == "Registrar" and topo.cluster(*s.installed_on).fqdn.lower() == registrar["Fqdn"].lower())


def _app_urn(app: str) -> str:
    return app if app.lower().startswith("urn:application:") else f"urn:application:{app}"


def _refuse_port_clash(tx, cmdlet_name: str, pool_fqdn: str, port: int, own_identity: str | None = None) -> None:
    """An application's port is unique within its pool (``own_identity``: the application being changed)."""
    clash = [d for _k, d in tx.query("trusted_app", prefix=f"{pool_fqdn}/")
             if d["Port"] == port and d["Identity"] != own_identity]
    if clash:
        raise invalid(cmdlet_name, f"Port {port} is already used by {clash[0]['Identity']} on {pool_fqdn}.",
                      target=str(port), category="ResourceExists")


@cmdlet("New-CsTrustedApplicationPool", requires="lync")
def new_cs_trusted_application_pool(ctx, params, tx):
    name = "New-CsTrustedApplicationPool"
    topo = require_topology(tx, name)
    fqdn = strip_prefix(str(params["Identity"]), "TrustedApplicationPool:")
    if topo.cluster_by_fqdn(fqdn) or any(fqdn.lower() == m.lower() for c in topo.clusters for m in c.machines):
        raise invalid(name, f'The FQDN "{fqdn}" is already used in the topology; pool and computer FQDNs must be '
                            "unique.", target=fqdn, category="ResourceExists")
    registrar = require_pool(tx, name, str(params.get("Registrar") or ""), "Registrar", registrar=True)
    site_name = strip_prefix(str(params.get("Site") or registrar["Site"]), "Site:")
    site = next((s for s in topo.sites if s.name.lower() == site_name.lower() or str(s.site_id) == site_name), None)
    if site is None or site.backcompat:
        raise not_found(name, "site", site_name)
    from ..model.topology import _add_cluster

    replicate = params.get("RequiresReplication")
    cluster = _add_cluster(topo, site.site_id, fqdn, [str(params.get("ComputerFqdn") or fqdn)],
                           replicate=True if replicate is None else bool(replicate))
    reg_svc = _registrar_service(topo, registrar)
    svc = Service(site.site_id, "ExternalServer", topo.next_instance(site.site_id, "ExternalServer"), 6,
                  (cluster.site_id, cluster.number), None, [("Registrar", reg_svc.key)],
                  {"ThrottleAsServer": _bool(params.get("ThrottleAsServer"), True),
                   "TreatAsAuthenticated": _bool(params.get("TreatAsAuthenticated"), True),
                   "OutboundOnly": _bool(params.get("OutboundOnly"), False)})
    topo.services.append(svc)
    topo_model.publish(tx, topo, enable=False)
    if params.get("WhatIf"):
        return [what_if(name, fqdn)]
    return [r for r in _app_pool_views(topo) if r["PoolFqdn"].lower() == fqdn.lower()]


@cmdlet("Remove-CsTrustedApplicationPool", requires="lync")
def remove_cs_trusted_application_pool(ctx, params, tx):
    name = "Remove-CsTrustedApplicationPool"
    topo = require_topology(tx, name)
    fqdn = strip_prefix(str(params["Identity"]), "TrustedApplicationPool:")
    cluster = topo.cluster_by_fqdn(fqdn)
    if cluster is None or not any(s.role == "ExternalServer" for s in topo.services_on(cluster)):
        raise not_found(name, "trusted application pool", fqdn)
    topo.services = [s for s in topo.services if s.installed_on != (cluster.site_id, cluster.number)]
    topo.clusters.remove(cluster)
    topo_model.publish(tx, topo, enable=False)
    for key, _d in tx.query("trusted_app", prefix=f"{fqdn}/"):
        tx.delete("trusted_app", key)
    return [what_if(name, fqdn)] if params.get("WhatIf") else []


@cmdlet("Get-CsTrustedApplication", requires="lync")
def get_cs_trusted_application(ctx, params, tx):
    require_topology(tx, "Get-CsTrustedApplication")
    rows = [d for _k, d in tx.query("trusted_app")]
    if params.get("Identity"):
        rows = [d for d in rows if d["Identity"].lower() == str(params["Identity"]).lower()]
        if not rows:
            raise not_found("Get-CsTrustedApplication", "trusted application", str(params["Identity"]))
    return rows


@cmdlet("New-CsTrustedApplication", requires="lync",
        prompts=lambda params: bool(params.get("EnableTcp")) and not params.get("Force"),
        prompt_source="office-docs-powershell New-CsTrustedApplication.md, -EnableTcp: without -Force you'll "
                      "receive a confirmation prompt before the new trusted application is created")
def new_cs_trusted_application(ctx, params, tx):
    name = "New-CsTrustedApplication"
    topo = require_topology(tx, name)
    if params.get("Identity"):
        pool_fqdn, _, app = str(params["Identity"]).partition("/")
    else:
        pool_fqdn, app = str(params["TrustedApplicationPoolFqdn"]), str(params["ApplicationId"])
    app_id = _app_urn(app)
    pools = {r["PoolFqdn"].lower(): r for r in _app_pool_views(topo)}
    if pool_fqdn.lower() not in pools:
        raise not_found(name, "trusted application pool", pool_fqdn)
    port = int(params["Port"])
    key = f"{pool_fqdn}/{app_id}"
    if tx.get("trusted_app", key):
        raise invalid(name, f'The trusted application "{key}" already exists.', target=key, category="ResourceExists")
    _refuse_port_clash(tx, name, pool_fqdn, port)
    doc = {"Identity": f"{pool_fqdn}/{app_id}", "ComputerGruus": [], "ServiceGruu": None,
           "Protocol": "Tcp" if params.get("EnableTcp") else "Mtls", "ApplicationId": app_id,
           "TrustedApplicationPoolFqdn": pool_fqdn, "Port": port,
           "LegacyApplicationName": params.get("LegacyApplicationName")}
    tx.put("trusted_app", key, doc)
    return [what_if(name, key)] if params.get("WhatIf") else [doc]


# -- static routes ---------------------------------------------------------------------------------------


@cmdlet("New-CsStaticRoute", requires="lync")
def new_cs_static_route(ctx, params, tx):
    # An in-memory object, as in Lync: it is stored only when added to a StaticRoutingConfiguration.
    # TLS routes name the certificate they present: the server's default one (UseDefaultCertificate) or the
    # one given by TLSCertIssuer and TLSCertSerialNumber.
    tls = not params.get("TCPRoute")
    if tls and not params.get("UseDefaultCertificate") and not (params.get("TLSCertIssuer")
                                                                and params.get("TLSCertSerialNumber")):
        # The reference: with -UseDefaultCertificate $false, -TLSCertIssuer and -TLSCertSerialNumber are required.
        raise PSError("A TLS route needs a certificate: set -UseDefaultCertificate $true, or give both "
                      "-TLSCertIssuer and -TLSCertSerialNumber.",
                      f"InvalidArgument,{cmdlet_class('New-CsStaticRoute')}", category="InvalidArgument",
                      target=str(params.get("Destination")))
    transport = {"TransportType": "TLS" if tls else "TCP", "Fqdn": params["Destination"], "Port": int(params["Port"])}
    if tls:
        transport["UseDefaultCertificate"] = bool(params.get("UseDefaultCertificate", False))
    return [{
        "Transport": transport,
        "MatchUri": params["MatchUri"],
        "MatchOnlyPhoneUri": bool(params.get("MatchOnlyPhoneUri", False)),
        "Enabled": bool(params.get("Enabled", True)),
        "ReplaceHostInRequestUri": bool(params.get("ReplaceHostInRequestUri", False)),
        "TLSCertIssuer": params.get("TLSCertIssuer") if tls else None,
        "TLSCertSerialNumber": params.get("TLSCertSerialNumber") if tls else None,
    }]


def _routing(tx, cmdlet_name: str, identity) -> dict:
    require_topology(tx, cmdlet_name)
    if identity not in (None, "", "Global", "global"):
        raise not_found(cmdlet_name, "static routing configuration", str(identity))
    return pool_objects.cms_config(tx, "StaticRoutingConfiguration") or dict(pool_objects.STATIC_ROUTING_DEFAULT)


@cmdlet("Get-CsStaticRoutingConfiguration", requires="lync")
def get_cs_static_routing_configuration(ctx, params, tx):
    return [_routing(tx, "Get-CsStaticRoutingConfiguration", params.get("Identity"))]


def _as_routes(value) -> list[dict]:
    items = value if isinstance(value, list) else [value]
    return [r for r in items if isinstance(r, dict)]


@cmdlet("Set-CsStaticRoutingConfiguration", requires="lync")
def set_cs_static_routing_configuration(ctx, params, tx):
    name = "Set-CsStaticRoutingConfiguration"
    doc = _routing(tx, name, params.get("Identity"))
    routes = list(doc["Route"])
    mod = params.get("Route")
    if isinstance(mod, dict) and any(k.lower() in ("add", "remove", "replace") for k in mod):
        ops = {k.lower(): v for k, v in mod.items()}
        # PowerShell's PSListModifier.ApplyTo: Replace alone when given, else every Remove, then every Add (so
        # @{Remove=$old; Add=$new} swaps a route in one call).
        if "replace" in ops:
            routes = _as_routes(ops["replace"])
        else:
            for r in _as_routes(ops.get("remove", [])):
                routes = [x for x in routes if x["MatchUri"].lower() != r["MatchUri"].lower()]
            for r in _as_routes(ops.get("add", [])):
                if any(x["MatchUri"].lower() == r["MatchUri"].lower() for x in routes):
                    raise invalid(name, f"A static route for MatchUri {r['MatchUri']} already exists.",
                                  target=r["MatchUri"], category="ResourceExists")
                routes.append(r)
    elif mod is not None:
        routes = _as_routes(mod)
    else:
        raise PSError("Specify -Route with @{Add=...}, @{Remove=...} or @{Replace=...}.",
                      f"InvalidArgument,{cmdlet_class(name)}", category="InvalidArgument")
    doc["Route"] = routes
    pool_objects.put_cms_config(tx, "StaticRoutingConfiguration", doc)
    return [what_if(name, "Global")] if params.get("WhatIf") else []


# -- changes to existing pools and applications (Set-/Remove-), as Microsoft's reference documents them ----


def _app_pool_service(topo, cmdlet_name: str, identity) -> tuple:
    fqdn = strip_prefix(str(identity or ""), "TrustedApplicationPool:", "ExtendedServer:")
    cluster = topo.cluster_by_fqdn(fqdn)
    svc = next((s for s in topo.services_on(cluster) if s.role == "ExternalServer"), None) if cluster else None
    if svc is None:
        raise not_found(cmdlet_name, "trusted application pool", fqdn)
    return cluster, svc


@cmdlet("Set-CsTrustedApplicationPool", requires="lync")
def set_cs_trusted_application_pool(ctx, params, tx):
    # The reference's parameters: Registrar, ThrottleAsServer, TreatAsAuthenticated, OutboundOnly,
    # RequiresReplication (and media port ranges, not modelled). The site and the computers cannot change here.
    name = "Set-CsTrustedApplicationPool"
    topo = require_topology(tx, name)
    cluster, svc = _app_pool_service(topo, name, params.get("Identity"))
    if params.get("Registrar"):
        registrar = require_pool(tx, name, str(params["Registrar"]), "Registrar", registrar=True)
        reg_svc = _registrar_service(topo, registrar)
        svc.depends_on = [d for d in svc.depends_on if d[0] != "Registrar"] + [("Registrar", reg_svc.key)]
    for setting in ("ThrottleAsServer", "TreatAsAuthenticated", "OutboundOnly"):
        if params.get(setting) is not None:
            svc.settings[setting] = _bool(params[setting], True)
    if params.get("RequiresReplication") is not None:
        cluster.requires_replication = bool(params["RequiresReplication"])
    if params.get("WhatIf"):
        return [what_if(name, cluster.fqdn)]
    topo_model.publish(tx, topo, enable=False)
    return []


def _trusted_app(tx, cmdlet_name: str, identity) -> tuple[str, dict]:
    pool_fqdn, _, app = str(identity or "").partition("/")
    key = f"{pool_fqdn}/{_app_urn(app)}"
    doc = next((d for k, d in tx.query("trusted_app") if k.lower() == key.lower()), None)
    if doc is None:
        raise not_found(cmdlet_name, "trusted application", str(identity))
    return doc["Identity"], doc


@cmdlet("Set-CsTrustedApplication", requires="lync")
def set_cs_trusted_application(ctx, params, tx):
    # Only the port can change (the reference's one property); the protocol is set by New-CsTrustedApplication.
    name = "Set-CsTrustedApplication"
    require_topology(tx, name)
    key, doc = _trusted_app(tx, name, params.get("Identity"))
    if params.get("Port") is not None:
        port = int(params["Port"])
        _refuse_port_clash(tx, name, doc["TrustedApplicationPoolFqdn"], port, own_identity=key)
        doc = dict(doc, Port=port)
    if params.get("WhatIf"):
        return [what_if(name, key)]
    tx.put("trusted_app", key, doc)
    return []


@cmdlet("Remove-CsTrustedApplication", requires="lync")
def remove_cs_trusted_application(ctx, params, tx):
    name = "Remove-CsTrustedApplication"
    require_topology(tx, name)
    key, _doc = _trusted_app(tx, name, params["Identity"])
    if params.get("WhatIf"):
        return [what_if(name, key)]
    tx.delete("trusted_app", key)
    return []
