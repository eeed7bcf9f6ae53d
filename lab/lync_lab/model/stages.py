"""Stage seeding: the organisation's state just before phase N (N = 1..10; 11 = migration complete).

Seeding replays each phase's effects with the same model functions the cmdlets use, so the state a phase's
playbook reaches can be compared object by object with the next stage's seed (``dump_state``).
"""

from __future__ import annotations

from . import policies, servers, users

STAGES = range(1, 12)
# Fields that differ between two runs that did the same thing (clocks, event record numbers).
VOLATILE = {"TimeCreated", "RecordId", "LastStatusReport", "LastUpdateCreation", "WhenChanged", "runs", "reports"}


def seed(tx, scenario, stage: int) -> None:
    from ..errors import LabConfigError

    if isinstance(stage, bool) or not isinstance(stage, int) or stage not in STAGES:
        raise LabConfigError(f"--stage {stage!r}: use a number from 1 (before Phase 1) to 11 (migration complete)")
    tx.meta_put("scenario", scenario.ref)     # a name or a path: perform/registry.py scenario_of reloads it
    tx.meta_put("stage", stage)
    _seed_servers(tx, scenario, stage)
    legacy = scenario.raw.get("legacy") or {}
    policies.seed_legacy(tx, legacy)
    if stage >= 4:            # Phase 3 installed the CMS, set its location and published the pilot pool's topology
        from . import cms_bootstrap

        cms_bootstrap.seed(tx, scenario)
    if stage >= 5:            # Phase 4 imported the legacy configuration
        policies.import_legacy_configuration(tx)
    _seed_users(tx, scenario, stage)
    _seed_late_server_changes(tx, scenario, stage)
    from . import dns_records    # the zone: P2.2 adds the pilot pool's A record, P10.2 re-points the SRV record

    dns_records.seed(tx, scenario, stage)
    # The topology side: the published topology (pools, sites, services), then the pool-level objects and CMS-wide
    # settings that go with it.
    from . import pool_objects, topology

    published = topology.seed_stage(tx, scenario, stage)
    pool_objects.seed_stage(tx, scenario, stage, published)


def _seed_servers(tx, scenario, stage: int) -> None:
    for info in scenario.servers:
        doc = servers.new_server(info.fqdn, info.role)
        servers.put(tx, doc)
        role = info.role
        if role in ("ocs_frontend", "ocs_standard"):
            servers.install(tx, info.fqdn, servers.product(servers.OCS_FRONTEND, "ocs", "Setup.msi"),
                            servers.OCS_FRONTEND_SERVICES)
            servers.install(tx, info.fqdn, servers.product(servers.OCS_ADMIN_TOOLS, "ocs", "Admintools.msi"))
        elif role in ("ocs_edge",):
            servers.install(tx, info.fqdn, servers.product(servers.OCS_EDGE, "ocs", "Setup.msi"),
                            servers.OCS_EDGE_SERVICES)
        elif role in ("ocs_mediation",):
            servers.install(tx, info.fqdn, servers.product(servers.OCS_MEDIATION, "ocs", "Setup.msi"),
                            servers.OCS_MEDIATION_SERVICES)
        elif role.startswith("ocs_"):
            servers.install(tx, info.fqdn, servers.product(f"{servers.OCS_PREFIX}, {role[4:].title()} Server", "ocs",
                                                           "Setup.msi"))
        elif role == "lync_frontend" and stage >= 4:
            # Phase 3 installed Lync and started its services (P3.4; its exit: "the pilot pool is published,
            # installed and running"); the Front End's first start ran the User Replicator's sync (event 30024).
            servers.install(tx, info.fqdn, servers.product(servers.LYNC_CORE, "lync", "OCSCore.msi"))
            servers.install(tx, info.fqdn, servers.product(servers.LYNC_FRONTEND, "lync", "Server.msi"),
                            servers.LYNC_FRONTEND_SERVICES, status="Running")
            servers.user_replication_completed(tx, info.fqdn, scenario.domain, servers.SEED_TIME)
            if stage >= 5:    # Phase 4 (P4.1) installed the WMI Backward Compatibility Package
                servers.install(tx, info.fqdn, servers.product(servers.OCSWMIBC, "wmibc", "OCSWMIBC.msi"))
        elif role == "lync_edge" and stage >= 8:
            servers.install(tx, info.fqdn, servers.product(servers.LYNC_CORE, "lync", "OCSCore.msi"))
            servers.install(tx, info.fqdn, servers.product(servers.LYNC_EDGE, "lync", "Server.msi"),
                            servers.LYNC_EDGE_SERVICES)
        elif role == "dc":
            doc = servers.get(tx, info.fqdn)
            doc["Services"] += [servers.svc(n, d) for n, d in servers.DC_SERVICES]
            servers.put(tx, doc)


def _seed_late_server_changes(tx, scenario, stage: int) -> None:
    from . import late_phases

    for info in scenario.servers:
        if info.role == "ocs_edge" and stage >= 9:      # P8.1.i: legacy Access Edge stopped and disabled
            late_phases.stop_legacy_access_edge(tx, info.fqdn)
        if info.role.startswith("ocs_") and stage >= 11:   # P10.3: the OCS 2007 R2 servers are decommissioned
            late_phases.uninstall_ocs(tx, info.fqdn)


def _seed_users(tx, scenario, stage: int) -> None:
    docs = []
    confs = []
    for spec in scenario.users:
        if spec.get("from_stage", 1) > stage:
            continue
        doc = users.new_user(scenario, spec)
        docs.append(doc)
        for n in range(spec.get("meetings", 0) or 0):
            conf = users.new_conference(doc, n)
            confs.append((f"{doc['SamAccountName']}/{conf['ConferenceId']}", conf))
    users.seed_users(tx, docs, scenario.netbios)
    tx.put_many("conference", confs)
    pilot = ((scenario.raw.get("topology") or {}).get("pilot_pool") or {}).get("fqdn")
    if not pilot:
        return
    for spec in scenario.users:
        early = spec.get("moved_early")
        if early and stage >= early["stage"]:
            doc = tx.get("user", spec["sam"])
            if doc and doc["OnOcs"]:
                users.apply_legacy_move(tx, doc, early["pool"], scenario.domain, scenario.netbios, set())
    movable = []
    if stage >= 7:    # Phase 6 moved the test and pilot waves
        for wave in ("test", "pilot"):
            for name in scenario.waves.get(wave, []):
                movable += users.matches(tx, name, scenario.netbios, scenario.domain)
    if stage >= 9:    # Phase 8 moved everyone left, after correcting in AD the names Move-CsLegacyUser refuses
        from . import late_phases

        late_phases.fix_account_names(tx, scenario.netbios)
        movable += [d for _k, d in tx.query("user")]
    for doc in movable:
        doc = tx.get("user", doc["SamAccountName"].strip())
        # A phase's playbook can move only what Move-CsLegacyUser accepts: legacy users with clean names.
        if doc["OnOcs"] and users.leading_or_trailing_space(doc) is None:
            users.apply_legacy_move(tx, doc, pilot, scenario.domain, scenario.netbios, set())


def dump_state(store) -> dict:
    """The whole state in a canonical, comparable form: {kind: {key: doc}} plus meta, minus volatile fields."""
    with store.transaction(write=False) as tx:
        out = {kind: {k: _strip(d) for k, d in tx.query(kind)} for kind in tx.kinds()}
        out["_meta"] = {k: _strip(v) for k, v in tx.meta_all().items() if k not in VOLATILE}
    return out


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
