"""The Lync Server 2013 topology as the lab keeps it, and the lookups other parts of the lab use.

Store kinds written here (keys lower-cased by the store):
  "topology"  key "cms": {"xml": published document, "enabled_xml": document last enabled}
  "pool"      key pool FQDN: the Get-CsPool view of each cluster of the published topology, plus
              ``legacy`` (in BackCompatSite), ``registrar``, ``site_id``, ``enabled`` (in the enabled topology)
  "site"      key site name: Get-CsSite's view
The pool and site kinds are an index rebuilt on every publish, so readers never parse XML.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import LabConfigError
from . import topology_xml as tx_xml
from .topology_xml import (
    BACKCOMPAT_SITE_NAME,
    LYNC_2013_VERSION,
    OCS_2007_R2_VERSION,
    Cluster,
    Service,
    Site,
    SqlInstance,
    Topology,
)

TOPOLOGY_KEY = "cms"
ANY_ADDRESS = "0.0.0.0"     # Topology Builder's "use all configured IP addresses"

# ------------------------------------------------------------------------------------------------------
# the scenario's topology: section

_SECTION_FIELDS = {
    "central_site": str,
    "sip_domains": list,
    "pilot_pool": dict,
    "legacy_pools": list,
    "legacy_edges": list,
    "lync_edge_pool": dict,
    "conference_directories": list,
    "response_groups": list,
    "dial_in_numbers": list,
    "exum_contacts": list,
}
_REQUIRED = {
    "pilot_pool": ("fqdn", "sql"),
    "legacy_pools": ("fqdn", "sql"),
    "legacy_edges": ("fqdn", "access_edge", "webconf_edge", "av_edge", "next_hop"),
    "lync_edge_pool": ("fqdn", "access_edge", "webconf_edge", "av_edge", "next_hop"),
    "conference_directories": ("id", "pool"),
    "response_groups": ("name", "pool", "sip_address"),
    "dial_in_numbers": ("sip_address", "display_name", "line_uri", "pool"),
    "exum_contacts": ("sip_address", "display_name", "type", "pool"),
}
SECTION_HELP = """topology:
  central_site: Redmond                # the Lync central site's name
  sip_domains: [contoso.net]           # first is the default SIP domain
  pilot_pool: {fqdn: pool02.contoso.net, sql: lync-sql01.contoso.net, file_share: lyncshare, collocated_mediation: true}
                                       # optional sql_instance (default rtc): the instance the CMS is installed on
  legacy_pools: [{fqdn: pool01.contoso.net, sql: ocs-sql01.contoso.net}]
  legacy_edges: [{fqdn: ocs-edge01.contoso.net, access_edge: sip.contoso.net, webconf_edge: webconf.contoso.net,
                  av_edge: av.contoso.net, next_hop: pool01.contoso.net, federation: true}]
                                       # optional: machines, internal_sip_port (5061), internal_webconf_port (8057),
                                       # external_webconf_port (443), version (OCS2007R2): the Edge input file's fields
  lync_edge_pool: {fqdn: edgepool02.contoso.net, access_edge: ..., webconf_edge: ..., av_edge: ..., next_hop: pool02.contoso.net}
  conference_directories: [{id: 3, pool: pool01.contoso.net}]
  response_groups: [{name: Help Desk, pool: pool01.contoso.net, sip_address: sip:helpdesk@contoso.net,
                     line_uri: "tel:+14255550100", agents: [sip:hao.chen@contoso.net]}]
  dial_in_numbers: [{sip_address: sip:dialin1@contoso.net, display_name: ..., line_uri: "tel:+1...", pool: ...}]
  exum_contacts: [{sip_address: sip:aa@contoso.net, display_name: ..., type: AA|SA, pool: ...}]"""


def validate_topology_section(section: Any, path: str) -> None:
    """Raise LabConfigError naming the file, the field path and the fix when the topology: section is wrong."""

    def fail(field: str, problem: str) -> None:
        raise LabConfigError(f"{path}: topology.{field}: {problem}. Expected shape:\n{SECTION_HELP}")

    if not isinstance(section, dict):
        fail("", "must be a mapping")
    for name, value in section.items():
        if name not in _SECTION_FIELDS:
            fail(name, f"unknown field (known: {', '.join(_SECTION_FIELDS)})")
        if not isinstance(value, _SECTION_FIELDS[name]):
            fail(name, f"must be a {_SECTION_FIELDS[name].__name__}")
    if "pilot_pool" not in section:
        fail("pilot_pool", "is required")
    for name, required in _REQUIRED.items():
        if name not in section:
            continue
        entries = [section[name]] if isinstance(section[name], dict) else section[name]
        for i, entry in enumerate(entries):
            where = name if isinstance(section[name], dict) else f"{name}[{i}]"
            if not isinstance(entry, dict):
                fail(where, "must be a mapping")
            for r in required:
                if entry.get(r) in (None, ""):
                    fail(f"{where}.{r}", "is required")
    pools = {section["pilot_pool"]["fqdn"].lower()} | {p["fqdn"].lower() for p in section.get("legacy_pools", [])}
    for name in ("conference_directories", "response_groups", "dial_in_numbers", "exum_contacts"):
        for i, entry in enumerate(section.get(name, [])):
            if str(entry["pool"]).lower() not in pools:
                fail(f"{name}[{i}].pool", f"{entry['pool']!r} is not the pilot pool or a legacy pool")
    seen: set[str] = set()
    for i, entry in enumerate(section.get("conference_directories", [])):
        if not isinstance(entry["id"], int) or entry["id"] < 1:
            fail(f"conference_directories[{i}].id", "must be a positive whole number")
        if str(entry["id"]) in seen:
            fail(f"conference_directories[{i}].id", f"{entry['id']} is used twice")
        seen.add(str(entry["id"]))
    feds = [i for i, e in enumerate(section.get("legacy_edges", [])) if e.get("federation")]
    if len(feds) > 1:
        fail(f"legacy_edges[{feds[1]}].federation", "only one Edge can be used for federation")
    for i, entry in enumerate(section.get("exum_contacts", [])):
        if entry["type"] not in ("AA", "SA"):
            fail(f"exum_contacts[{i}].type", "must be AA (auto attendant) or SA (subscriber access)")


def section_of(scenario: Any) -> dict:
    return (getattr(scenario, "raw", None) or {}).get("topology") or {}


# ------------------------------------------------------------------------------------------------------
# building the topology documents the scenario's stages need


def _servers(scenario: Any, *roles: str, pool: str | None = None) -> list[str]:
    return [s.fqdn for s in scenario.servers
            if s.role in roles and (pool is None or (s.pool or "").lower() == pool.lower())]


def _domain(scenario: Any, section: dict) -> list[str]:
    domains = section.get("sip_domains") or []
    if not domains:
        raw = getattr(scenario, "raw", {}) or {}
        dom = raw.get("domain") or raw.get("dns_domain")
        if isinstance(dom, dict):
            dom = dom.get("fqdn") or dom.get("name")
        if not dom:
            dom = section["pilot_pool"]["fqdn"].split(".", 1)[1]
        domains = [dom]
    return list(domains)


def _central(topo: Topology, site_id: int) -> bool:
    site = topo.site(site_id)
    return site is not None and not site.backcompat


def _add_service(topo: Topology, site_id: int, role: str, cluster: Cluster, version: int = LYNC_2013_VERSION,
                 depends: list[tuple[str, tuple[int, str, int]]] | None = None, sql: str | None = None,
                 **settings: str) -> Service:
    """A service as Topology Builder defines it: a Lync Server 2013 service in a central site gets its role's
    ports, and the computers of its cluster the network interfaces those ports are on."""
    lync = version == LYNC_2013_VERSION and _central(topo, site_id)
    svc = Service(site_id, role, topo.next_instance(site_id, role), version, (cluster.site_id, cluster.number),
                  sql, depends or [], dict(settings), tx_xml.default_ports(role) if lync and not sql else [])
    topo.services.append(svc)
    if lync:
        sides = tx_xml.interface_sides({role})
        for m in cluster.machines:
            have = cluster.interfaces.setdefault(m.lower(), [])
            for side in sides:
                if not any(h[0] == side for h in have):
                    have.append((side, 1, ANY_ADDRESS))
            have.sort(key=lambda h: tx_xml.INTERFACE_SIDES.index(h[0]))
    return svc


def _add_cluster(topo: Topology, site_id: int, fqdn: str, machines: list[str], replicate: bool = True) -> Cluster:
    """A pool; in a central site each computer gets the Primary NetInterface Topology Builder writes (IPAddress
    0.0.0.0: use all configured addresses)."""
    c = Cluster(site_id, topo.next_cluster_number(site_id), fqdn, machines, requires_replication=replicate,
                requires_setup=replicate)
    if _central(topo, site_id):
        c.interfaces = {m.lower(): [("Primary", 1, ANY_ADDRESS)] for m in machines}
    topo.clusters.append(c)
    return c


def pilot_topology(scenario: Any) -> Topology:
    """What Phase 3 publishes: the central site with the pilot pool, its SQL store and the CMS on it."""
    section = section_of(scenario)
    pilot = section["pilot_pool"]
    domains = _domain(scenario, section)
    topo = Topology(default_domain=domains[0], domains=domains,
                    signature="5a1c7f0e-2b6d-4c1e-9f3a-13b0c2d4e5f6")
    site_id = 1
    topo.sites.append(Site(site_id, section.get("central_site", "Redmond")))
    fes = _servers(scenario, "lync_frontend", pool=pilot["fqdn"]) or [pilot["fqdn"]]
    # store and file clusters hold no CMS replica, which RequiresReplication="false" says
    sql = _add_cluster(topo, site_id, pilot["sql"], [pilot["sql"]], replicate=False)
    topo.sql_instances.append(SqlInstance(site_id, sql.number, pilot.get("sql_instance", "rtc")))
    pool = _add_cluster(topo, site_id, pilot["fqdn"], fes)
    file_server = pilot.get("file_server") or pilot["sql"]
    fs_cluster = sql if file_server.lower() == sql.fqdn.lower() else _add_cluster(topo, site_id, file_server,
                                                                                  [file_server], replicate=False)
    instance = pilot.get("sql_instance", "rtc")
    user_store = _add_service(topo, site_id, "UserStore", sql, sql=instance)
    app_store = _add_service(topo, site_id, "ApplicationStore", sql, sql=instance)
    cms_store = _add_service(topo, site_id, "CentralMgmtStore", sql, sql=instance)
    file_store = _add_service(topo, site_id, "FileStore", fs_cluster, ShareName=pilot.get("file_share", "lyncshare"))
    user = _add_service(topo, site_id, "UserServices", pool,
                        depends=[("Default", user_store.key), ("Default", file_store.key)])
    web = _add_service(topo, site_id, "WebServices", pool,
                       depends=[("Default", file_store.key), ("Default", user.key)])
    reg = _add_service(topo, site_id, "Registrar", pool, depends=[("Default", user.key), ("Default", web.key)],
                       IsDirector="false")
    _add_service(topo, site_id, "ConfServices", pool, depends=[("Default", file_store.key), ("Default", web.key),
                                                               ("Default", user.key)])
    _add_service(topo, site_id, "ApplicationServer", pool,
                 depends=[("Default", reg.key), ("Default", file_store.key), ("Default", app_store.key)])
    if pilot.get("collocated_mediation", True):
        _add_service(topo, site_id, "MediationServer", pool, depends=[("Default", reg.key)])
    _add_service(topo, site_id, "CentralMgmt", pool,
                 depends=[("Default", cms_store.key), ("Default", file_store.key)], IsActive="true")
    return topo


def legacy_side(scenario: Any) -> tuple[list[dict], list[str]]:
    """The OCS 2007 R2 pools ({fqdn, frontends}) and Mediation Servers, as the OCS side (its WMI provider, AD)
    knows them: the scenario's legacy: section, else the topology: section and the servers list."""
    raw = getattr(scenario, "raw", None) or {}
    legacy = raw.get("legacy") or {}
    pools = []
    for lp in legacy.get("pools") or section_of(scenario).get("legacy_pools", []):
        fes = (list(lp.get("frontends") or [])
               or _servers(scenario, "ocs_frontend", "ocs_standard", pool=lp["fqdn"]) or [lp["fqdn"]])
        pools.append({"fqdn": lp["fqdn"], "frontends": fes})
    mediation = list(legacy.get("mediation") or _servers(scenario, "ocs_mediation"))
    return pools, mediation


def edge_input(entry: dict) -> dict:
    """A scenario's legacy_edges entry as the admin writes it in the custom Edge input file (what
    Merge-CsLegacyTopology's -UserInputFileName gives, cmdlets.topology.read_edge_input): the Edge's internal
    FQDN, its computers, the Web Conferencing Edge's external FQDN, the ports (the file's example values: 5061,
    8057, 443), the next hop and the federation flag. The file carries no Access Edge or A/V Edge external FQDN."""
    return {"fqdn": entry["fqdn"], "machines": list(entry.get("machines") or [entry["fqdn"]]),
            "webconf_edge": entry["webconf_edge"], "internal_sip_port": int(entry.get("internal_sip_port", 5061)),
            "internal_webconf_port": int(entry.get("internal_webconf_port", 8057)),
            "external_webconf_port": int(entry.get("external_webconf_port", 443)),
            "next_hop": entry["next_hop"], "federation": bool(entry.get("federation")),
            "version": entry.get("version", "OCS2007R2")}


def merge_legacy(topo: Topology, scenario: Any, edges: list[dict], still_installed: Any = None) -> Topology:
    """What Merge-CsLegacyTopology writes: BackCompatSite with the legacy pools, Mediation Servers and the given
    Edges (the Edges come only from the caller, i.e. the user input file, never from discovery; each as
    ``edge_input`` describes it).

    ``still_installed(fqdn) -> bool`` leaves out OCS servers that have been uninstalled (a re-run at the end of
    the migration), and pools none of whose Front Ends remain."""
    topo = copy.deepcopy(topo)
    keep = still_installed or (lambda _fqdn: True)
    old = topo.backcompat_site()
    if old:
        topo.remove_site(old.site_id)   # a re-run of the merge replaces the legacy view
    site_id = 1 + max((s.site_id for s in topo.sites), default=0)
    topo.sites.append(Site(site_id, BACKCOMPAT_SITE_NAME, backcompat=True))
    pools, mediation = legacy_side(scenario)
    for lp in pools:
        fes = [f for f in lp["frontends"] if keep(f)]
        if not fes:
            continue
        cluster = _add_cluster(topo, site_id, lp["fqdn"], fes, replicate=False)
        user = _add_service(topo, site_id, "UserServices", cluster, version=OCS_2007_R2_VERSION)
        reg = _add_service(topo, site_id, "Registrar", cluster, version=OCS_2007_R2_VERSION,
                           depends=[("Default", user.key)], IsDirector="false")
        _add_service(topo, site_id, "WebServices", cluster, version=OCS_2007_R2_VERSION)
        _add_service(topo, site_id, "ApplicationServer", cluster, version=OCS_2007_R2_VERSION,
                     depends=[("Default", reg.key)])
    for med in mediation:
        if not keep(med):
            continue
        cluster = _add_cluster(topo, site_id, med, [med], replicate=False)
        _add_service(topo, site_id, "MediationServer", cluster, version=OCS_2007_R2_VERSION)
    for edge in edges:
        cluster = _add_cluster(topo, site_id, edge["fqdn"], edge.get("machines") or [edge["fqdn"]], replicate=False)
        settings = {"DataEdgeExternalFqdn": edge["webconf_edge"], "InternalSipPort": edge["internal_sip_port"],
                    "InternalDataPort": edge["internal_webconf_port"], "ExternalDataPort": edge["external_webconf_port"],
                    "NextHopFqdn": edge["next_hop"], "FederationEnabled": bool(edge.get("federation"))}
        _add_service(topo, site_id, "EdgeServer", cluster, version=OCS_2007_R2_VERSION,
                     **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.items()
                        if v is not None})
    return topo


def _edge_service(topo: Topology, fqdn: str) -> Service | None:
    cluster = topo.cluster_by_fqdn(fqdn)
    if cluster is None:
        return None
    return next((s for s in topo.services_on(cluster) if s.role == "EdgeServer"), None)


def _pilot_registrar(topo: Topology, pilot_fqdn: str) -> Service:
    cluster = topo.cluster_by_fqdn(pilot_fqdn)
    return next(s for s in topo.services_on(cluster) if s.role == "Registrar")


def route_through_edge(topo: Topology, pilot_fqdn: str, edge_fqdn: str) -> None:
    """Site federation route and the pilot pool's media association both point at this Edge (P5.1, P8.1)."""
    edge = _edge_service(topo, edge_fqdn)
    reg = _pilot_registrar(topo, pilot_fqdn)
    reg.depends_on = [d for d in reg.depends_on if d[0] != "EdgeServer"] + [("EdgeServer", edge.key)]
    topo.federation_route = edge.key
    for svc in topo.services:
        if svc.role == "EdgeServer":
            svc.settings["FederationEnabled"] = "true" if svc is edge else "false"


def add_lync_edge_pool(topo: Topology, scenario: Any) -> None:
    """Phase 7: the Lync Edge pool in the central site, not federating and associated with no pool."""
    ep = section_of(scenario)["lync_edge_pool"]
    site = next(s for s in topo.sites if not s.backcompat)
    machines = _servers(scenario, "lync_edge", pool=ep["fqdn"]) or [ep["fqdn"]]
    cluster = _add_cluster(topo, site.site_id, ep["fqdn"], machines)
    _add_service(topo, site.site_id, "EdgeServer", cluster, AccessEdgeExternalFqdn=ep["access_edge"],
                 DataEdgeExternalFqdn=ep["webconf_edge"], AVEdgeExternalFqdn=ep["av_edge"], InternalSipPort="5061",
                 NextHopFqdn=ep["next_hop"], FederationEnabled="false", EdgeType=ep.get("edge_type", "SingleEdgeServer"))


def topology_for_stage(scenario: Any, stage: int) -> Topology | None:
    """The published topology just before phase ``stage`` (None before Phase 3 has published one)."""
    if stage < 4:
        return None
    section = section_of(scenario)
    pilot_fqdn = section["pilot_pool"]["fqdn"]
    topo = pilot_topology(scenario)
    if stage >= 5:
        topo = merge_legacy(topo, scenario, [edge_input(e) for e in section.get("legacy_edges", [])])
    legacy_fed = next((e for e in section.get("legacy_edges", []) if e.get("federation")), None)
    if stage >= 6 and legacy_fed:
        route_through_edge(topo, pilot_fqdn, legacy_fed["fqdn"])
    if stage >= 8 and section.get("lync_edge_pool"):
        add_lync_edge_pool(topo, scenario)
    if stage >= 9 and section.get("lync_edge_pool"):
        route_through_edge(topo, pilot_fqdn, section["lync_edge_pool"]["fqdn"])
    if stage >= 11 and topo.backcompat_site():
        topo.remove_site(topo.backcompat_site().site_id)
    return topo


# ------------------------------------------------------------------------------------------------------
# the published topology in the store


def current_xml(tx: Any) -> str | None:
    doc = tx.get("topology", TOPOLOGY_KEY)
    return doc["xml"] if doc else None


def current(tx: Any) -> Topology | None:
    text = current_xml(tx)
    return tx_xml.parse_topology(text) if text else None


def publish(tx: Any, topo_or_xml: Topology | str, enable: bool = False) -> Topology:
    """Store a validated document as the published topology and rebuild the pool/site index.

    Raises topology_xml.TopologyInvalid (via parse) when the document is not acceptable."""
    text = tx_xml.to_xml(topo_or_xml) if isinstance(topo_or_xml, Topology) else topo_or_xml
    topo = tx_xml.parse_topology(text)
    doc = tx.get("topology", TOPOLOGY_KEY) or {"enabled_xml": None}
    doc = {"xml": text, "enabled_xml": text if enable else doc.get("enabled_xml")}
    tx.put("topology", TOPOLOGY_KEY, doc)
    _reindex(tx, topo, doc["enabled_xml"])
    return topo


def enable(tx: Any) -> Topology | None:
    """Enable-CsTopology: the published document becomes the enabled one."""
    doc = tx.get("topology", TOPOLOGY_KEY)
    if not doc:
        return None
    doc = dict(doc, enabled_xml=doc["xml"])
    tx.put("topology", TOPOLOGY_KEY, doc)
    topo = tx_xml.parse_topology(doc["xml"])
    _reindex(tx, topo, doc["enabled_xml"])
    return topo


def site_identity(site: Site) -> str:
    return f"Site:{site.name}"


def pool_view(topo: Topology, cluster: Cluster) -> dict:
    site = topo.site(cluster.site_id)
    services = topo.services_on(cluster)
    return {
        "Identity": cluster.fqdn,
        "Services": [topo.service_identity(s) for s in services],
        "Computers": list(cluster.machines),
        "Fqdn": cluster.fqdn,
        "BackupPoolFqdn": None,
        "Site": site_identity(site) if site else None,
        "legacy": bool(site and site.backcompat),
        "registrar": any(s.role == "Registrar" for s in services),
        "site_id": cluster.site_id,
    }


def _reindex(tx: Any, topo: Topology, enabled_xml: str | None) -> None:
    enabled_fqdns: set[str] = set()
    if enabled_xml:
        enabled_fqdns = {c.fqdn.lower() for c in tx_xml.parse_topology(enabled_xml).clusters}
    for kind in ("pool", "site"):
        for key, _doc in tx.query(kind):
            tx.delete(kind, key)
    for cluster in topo.clusters:
        view = pool_view(topo, cluster)
        view["enabled"] = cluster.fqdn.lower() in enabled_fqdns
        tx.put("pool", cluster.fqdn, view)
    for site in topo.sites:
        clusters = [c for c in topo.clusters if c.site_id == site.site_id]
        route = None
        if topo.federation_route and not site.backcompat:
            svc = topo.service(topo.federation_route)
            route = topo.service_identity(svc) if svc else None
        tx.put("site", site.name, {
            "Identity": site_identity(site),
            "SiteId": site.site_id,
            "Services": [topo.service_identity(s) for s in topo.services if s.site_id == site.site_id],
            "Pools": [c.fqdn for c in clusters],
            "FederationRoute": route,
            "XmppFederationRoute": None,
            "DefaultPersistentChatPool": None,
            "Description": site.description or None,
            "DisplayName": site.name,
            "SiteType": "BackCompatSite" if site.backcompat else "CentralSite",
            "ParentSite": None,
        })


def find_pool(tx: Any, fqdn: str) -> dict | None:
    """The pool with this FQDN in the published topology, as Get-CsPool shows it, plus ``legacy`` (True for an
    OCS 2007 R2 pool in BackCompatSite), ``registrar`` (it has a Registrar service) and ``enabled``.
    None when the topology does not know the pool (e.g. a legacy pool before the merge)."""
    if not fqdn:
        return None
    doc = tx.get("pool", fqdn)
    return dict(doc) if doc else None


def registrar_pools(tx: Any) -> list[dict]:
    return [doc for _key, doc in tx.query("pool") if doc.get("registrar")]


# ------------------------------------------------------------------------------------------------------
# seeding


def seed_stage(tx: Any, scenario: Any, stage: int) -> Topology | None:
    """Publish the topology of ``stage`` (the state just before phase ``stage``; 11 = finished) and return it: None
    before the first publish or when the scenario has no topology section. The pool-level objects that go with it
    are pool_objects.seed_stage's (model/stages.py calls both; this module does not import pool_objects, which
    reads the scenario's topology section through it)."""
    section = section_of(scenario)
    if not section:
        return None
    topo = topology_for_stage(scenario, stage)
    if topo is not None:
        publish(tx, topo, enable=True)
    return topo
