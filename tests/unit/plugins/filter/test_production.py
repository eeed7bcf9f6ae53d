"""The production role's filter (plugins/filter/production.py): the Phase 8 preflight gate's failures."""

from __future__ import annotations

from ansible_collections.lync.migration.plugins.filter import production as f

EDGE_POOL = {"fqdn": "edgepool02.contoso.net"}
POOLS = ["pool01.contoso.net", "pool02.contoso.net", "EdgePool02.contoso.net"]
RUNNING = {"item": "edge02.contoso.net", "objects": [{"DisplayName": "Lync Server Access Edge", "Status": "Running"}]}
LEGACY_EDGE = {"internal_fqdn": "ocsedge01.contoso.net", "access_edge_fqdn": "sip.contoso.net",
               "webconf_edge_fqdn": "webconf.contoso.net", "av_edge_fqdn": "av.contoso.net"}


def test_nothing_stops_phase_8_when_the_edge_is_published_running_and_the_legacy_edge_has_three_names():
    # The pool is matched whatever its case (the topology's Identity is an FQDN).
    assert f.production_gate_failures(EDGE_POOL, POOLS, [RUNNING], [LEGACY_EDGE]) == []
    assert f.production_gate_failures(EDGE_POOL, POOLS, [], []) == []


def test_an_edge_pool_missing_from_the_inventory_or_the_topology_says_to_run_phase_7():
    [missing] = f.production_gate_failures({}, POOLS, [], [])
    assert missing == ("The Lync Edge pool is not described in the inventory (lync_migration_lync_edge_pool): "
                       "describe it and run Phase 7 (phase7-add-edge.yml) first")
    assert f.production_gate_failures(None, POOLS, [], []) == [missing]
    # An Edge pool or a legacy Edge of the wrong shape is the inputs check's to report; the gate only says the
    # pool is not described.
    assert f.production_gate_failures("edgepool02.contoso.net", POOLS, [], ["ocsedge01"]) == [missing]
    [unpublished] = f.production_gate_failures(EDGE_POOL, ["pool01.contoso.net"], [], [])
    assert unpublished == ("The Lync Edge pool edgepool02.contoso.net is not in the topology: "
                           "run Phase 7 (phase7-add-edge.yml) first")


def test_each_edge_server_without_a_running_access_edge_service_is_named():
    stopped = {"item": "edge03.contoso.net",
               "objects": [{"DisplayName": "Lync Server Access Edge", "Status": "Stopped"}]}
    absent = {"item": "edge04.contoso.net", "objects": [{"DisplayName": "Print Spooler", "Status": "Running"}]}
    unread = {"item": "edge05.contoso.net", "failed": True}
    failures = f.production_gate_failures(EDGE_POOL, POOLS, [RUNNING, stopped, absent, unread], [])
    assert failures == ["Lync Server 2013 is not installed and running on the Edge Server %s: run Phase 7 "
                        "(phase7-add-edge.yml) first" % host
                        for host in ("edge03.contoso.net", "edge04.contoso.net", "edge05.contoso.net")]


def test_a_legacy_edge_with_one_fqdn_for_its_three_services_must_wait_for_every_user_to_move():
    one_name = {"internal_fqdn": "ocsedge09.contoso.net", "access_edge_fqdn": "edge.contoso.net",
                "webconf_edge_fqdn": "EDGE.contoso.net", "av_edge_fqdn": "edge.contoso.net"}
    two_names = dict(one_name, internal_fqdn="ocsedge10.contoso.net", av_edge_fqdn="av.contoso.net")
    [failure] = f.production_gate_failures(EDGE_POOL, POOLS, [RUNNING], [LEGACY_EDGE, one_name, two_names])
    assert failure.startswith("The legacy Edge ocsedge09.contoso.net uses one FQDN (edge.contoso.net) for its "
                              "Access, Web Conferencing and A/V Edge services")
    assert "move_users_all_legacy=true" in failure and failure.endswith("enable federation on the Lync Edge")


def test_the_filter_is_registered():
    assert f.FilterModule().filters() == {"production_gate_failures": f.production_gate_failures}
