"""`lync-lab perform` steps done in DNS Manager (registered by perform.py): P2.2 and P10.2."""

from __future__ import annotations

from .model import dns_records
from .perform import PerformError


def _scenario(tx):
    from .model.scenario import load_scenario

    return load_scenario(tx.meta_get("scenario"))


def create_dns_record(tx, name: str) -> dict:
    """P2.2: DNS Manager -> Forward Lookup Zones -> the domain -> New Host (A): the pilot pool's A record, with the
    address the scenario plans for it (its dns section's record for that name with from_stage 3)."""
    scenario = _scenario(tx)
    planned = [d for s, d in dns_records.scenario_records(scenario)
               if d["Name"] == name.lower().rstrip(".") and int(s.get("from_stage", 1)) == 3]
    if not planned:
        raise PerformError(f"the scenario {scenario.name} plans no DNS record for {name} in Phase 2 (P2.2); "
                           "its dns section lists the records with from_stage: 3")
    added = dns_records.add_planned(tx, scenario, name, 3)
    if not added:
        return {"changed": False, "detail": f"the A record of {name} already exists"}
    return {"changed": True, "detail": "created " + ", ".join(f"{d['Name']} {d['Type']} {d.get('Address')}" for d in added)}


def repoint_sip_internal_srv(tx, name: str | None) -> dict:  # noqa: ARG001 - same signature as the others
    """P10.2: re-point _sipinternaltls._tcp.<SIP domain> at the Lync Server 2013 pool (the scenario's records for
    stage 11 on)."""
    scenario = _scenario(tx)
    domains = ((scenario.raw.get("topology") or {}).get("sip_domains")) or [scenario.domain]
    removed, added = [], []
    for domain in domains:
        r, a = dns_records.repoint(tx, scenario, f"_sipinternaltls._tcp.{domain}", 11)
        removed += r
        added += a
    if not (removed or added):
        return {"changed": False, "detail": "_sipinternaltls._tcp already points where the scenario plans"}
    return {"changed": True, "detail": "re-pointed " + ", ".join(f"{d['Name']} -> {d['Target']}:{d['Port']}" for d in added)}


STEPS = {
    "create-dns-record": (create_dns_record, True, "P2.2: create the pilot pool's DNS A record (--server POOL-FQDN)"),
    "repoint-sip-internal-srv": (repoint_sip_internal_srv, False,
                                 "P10.2: re-point _sipinternaltls._tcp at the Lync Server 2013 pool"),
}
