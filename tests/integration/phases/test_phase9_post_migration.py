"""Phase 9 (playbooks/phase9-post-migration.yml): Response Groups, dial-in numbers, UM contacts, and, switched on
for this lab through extra variables, the trusted application steps (P9.3 Exchange OWA, P9.5 remote call
control, P9.8 trusted application pools); rerun; the gate."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import yaml

import late_phases_lab as late
from phase_lab import seed_state

PLAYBOOK = "phase9-post-migration.yml"

full_run = late.full_run_marker()
lab = late.phase_lab("phase9", 9)

# The lab inventory's features (which keep these three off) with the three switched on, in every shape the
# inventory accepts: OWA not collocated with UM (pool + application), an RCC gateway over TCP, and P9.8 pools as
# a bare FQDN (the earlier form) and as a dict with an application.
OWA = {"cas_fqdn": "cas01.contoso.net", "site": "Redmond", "collocated_um": False, "application_id": "ExchangeOWA",
       "port": 5199}
RCC = {"gateway_fqdn": "rcc-gw01.contoso.net", "transport": "tcp", "port": 5060, "match_uri": "pbx.contoso.net"}
POOLS = ["ucma01.contoso.net",
         {"fqdn": "ucma02.contoso.net", "site": "Redmond", "applications": [{"application_id": "ivr", "port": 6000}]}]
NEW_POOLS = {"cas01.contoso.net", "rcc-gw01.contoso.net", "ucma01.contoso.net", "ucma02.contoso.net"}


def _features() -> dict:
    inventory = yaml.safe_load((late.REPO / "inventories" / "lab" / "group_vars" / "all" / "migration.yml").read_text())
    features = dict(inventory["lync_migration_features"])
    assert features["exchange_owa"] is None and features["remote_call_control"] is None   # the lab keeps them off
    features.update(exchange_owa=OWA, remote_call_control=RCC, trusted_application_pools=POOLS)
    return {"lync_migration_features": features}


FEATURES = _features()


def _clusters(xml: str) -> dict:
    return {el.get("Fqdn"): el for el in ET.fromstring(xml.encode()).iter() if el.tag.endswith("}Cluster")}


def _feature_objects(state: dict) -> dict:
    """The trusted application pools (clusters of the published topology), applications and static routes."""
    clusters = _clusters(state["topology"]["cms"]["xml"])
    routing = state["cmsconfig"]["staticroutingconfiguration:global"]["Route"]
    return {
        "pools": sorted(f for f in clusters if f in NEW_POOLS),
        "replication": {f: clusters[f].get("RequiresReplication") for f in clusters if f in NEW_POOLS},
        "applications": sorted((d["Identity"], d["Port"], d["Protocol"]) for d in state.get("trusted_app", {}).values()),
        "routes": [(r["MatchUri"], r["Transport"]["TransportType"], r["Transport"]["Fqdn"], r["Transport"]["Port"])
                   for r in routing],
    }


def _strip_topology(xml: str) -> str:
    """The topology document without the new pools' clusters and services, and without the signature a publish
    renews."""
    root = ET.fromstring(xml.encode())
    root.attrib.pop("Signature", None)
    gone = set()
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag.endswith("}Cluster") and child.get("Fqdn") in NEW_POOLS:
                cid = next(c for c in child if c.tag.endswith("}ClusterId"))
                gone.add((cid.get("SiteId"), cid.get("Number")))
                parent.remove(child)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag.endswith("}Service"):
                placed = {(c.get("SiteId"), c.get("Number")) for c in child.iter() if c.tag.endswith("}ClusterId")}
                if placed & gone:
                    parent.remove(child)
    return ET.tostring(root, encoding="unicode")


def _without_feature_objects(state: dict) -> dict:
    """The dump without what the three steps add (the new pools in the topology, Get-CsPool and Get-CsSite, the
    applications, the routes), to compare the rest with the stage-10 seed."""
    out = {k: dict(v) for k, v in state.items()}
    out.pop("trusted_app", None)
    out["pool"] = {k: v for k, v in out["pool"].items() if k not in NEW_POOLS}
    out["site"] = {k: dict(v, Services=[x for x in v["Services"] if x.split(":", 1)[-1] not in NEW_POOLS],
                           Pools=[x for x in v["Pools"] if x not in NEW_POOLS]) for k, v in out["site"].items()}
    routing = "staticroutingconfiguration:global"
    out["cmsconfig"][routing] = dict(out["cmsconfig"][routing], Route=[])
    out["topology"] = {k: {f: _strip_topology(x) if isinstance(x, str) else x for f, x in doc.items()}
                       for k, doc in out["topology"].items()}
    return out


@full_run
def test_check_mode_changes_nothing_and_plans_the_trusted_applications(lab):
    late.assert_check_mode_changes_nothing(lab, PLAYBOOK, extra=FEATURES)
    steps = {s["step"]: s for s in lab.latest_report("phase9")["steps"]}
    assert "New-CsTrustedApplicationPool cas01.contoso.net" in steps["P9.3 Exchange OWA IM integration"]["detail"]
    assert "New-CsStaticRoute pbx.contoso.net" in steps["P9.5 remote call control"]["detail"]
    assert "New-CsTrustedApplicationPool ucma02.contoso.net" in steps["P9.8 trusted application servers"]["detail"]


@full_run
def test_run_moves_the_pool_objects_creates_the_trusted_applications_and_matches_stage_10(lab, tmp_path):
    proc, calls = late.assert_run_succeeds(lab, PLAYBOOK, extra=FEATURES)
    # the safety copy right after the move (the guide), then per-object moves
    assert calls.index("Move-CsRgsConfiguration") < calls.index("Export-CsRgsConfiguration")
    assert calls.count("Move-CsApplicationEndpoint") == 2 and calls.count("Move-CsExUmContact") == 2
    assert calls.count("New-CsTrustedApplicationPool") == 4 and "Enable-CsTopology" in calls
    assert calls.index("New-CsStaticRoute") < calls.index("Set-CsStaticRoutingConfiguration")
    # P9.5: the legacy authorized host is removed (guided) before the Lync entries are created
    out = proc.stdout
    assert out.index("Guided step P9.5-rcc") < out.index("TASK [lync.migration.post_migration : P9.5 - the SIP/CSTA gateway")

    report = lab.latest_report("phase9")
    assert report["response_groups"][0]["workflows"] == ["Help Desk"]
    steps = {s["step"]: s for s in report["steps"]}
    for step in ("P9.3 Exchange OWA IM integration", "P9.5 remote call control", "P9.8 trusted application servers",
                 "P9.11/P9.12 Exchange UM contacts"):
        assert steps[step]["status"] == "run", steps[step]
    assert steps["P9.4 Address Book normalization"]["status"] == "skipped"
    assert report["static_route"]["destination"] == "rcc-gw01.contoso.net"
    assert sorted(p["pool"]["fqdn"] for p in report["trusted_application_pools"]) == sorted(NEW_POOLS)

    state = lab.dump()
    assert _feature_objects(state) == {
        "pools": sorted(NEW_POOLS),
        # P9.3: -RequiresReplication $false for the CAS; the others keep Lync's default
        "replication": {"cas01.contoso.net": "false", "rcc-gw01.contoso.net": "true", "ucma01.contoso.net": "true",
                        "ucma02.contoso.net": "true"},
        "applications": [("cas01.contoso.net/urn:application:ExchangeOWA", 5199, "Mtls"),
                         ("rcc-gw01.contoso.net/urn:application:rcc", 5060, "Tcp"),
                         ("ucma02.contoso.net/urn:application:ivr", 6000, "Mtls")],
        "routes": [("pbx.contoso.net", "TCP", "rcc-gw01.contoso.net", 5060)],
    }
    seed = seed_state(10, tmp_path)
    assert _feature_objects(seed) == {"pools": [], "replication": {}, "applications": [], "routes": []}
    assert late.state_differences(_without_feature_objects(state), _without_feature_objects(seed)) == []


@full_run
def test_second_run_changes_nothing(lab):
    late.assert_rerun_changes_nothing(lab, PLAYBOOK, extra=FEATURES)


def test_before_phase_8_the_gate_refuses_and_changes_nothing(tmp_path_factory):
    proc = late.assert_gate_refuses(tmp_path_factory, "phase9-gate", 8, PLAYBOOK)
    assert "users are still homed on OCS 2007 R2" in proc.stdout and "run Phase 8" in proc.stdout
