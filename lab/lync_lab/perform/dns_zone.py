"""`lync-lab perform` steps done in DNS Manager on the organisation's zone: P2.2 and P10.2 (model/dns_records.py)."""

from __future__ import annotations

from ..model import dns_records
from .registry import PerformError, scenario_of, step


@step("create-dns-record", needs_server=True, help="P2.2: create the pilot pool's DNS A record (--server POOL-FQDN)")
def create_dns_record(tx, name: str) -> dict:
    """P2.2: DNS Manager -> Forward Lookup Zones -> the domain -> New Host (A): the pilot pool's A record, with the
    address the scenario plans for it (its dns section's record for that name with from_stage 3)."""
    scenario = scenario_of(tx)
    planned = [d for s, d in dns_records.scenario_records(scenario)
               if d["Name"] == name.lower().rstrip(".") and int(s.get("from_stage", 1)) == 3]
    if not planned:
        raise PerformError(f"the scenario {scenario.name} plans no DNS record for {name} in Phase 2 (P2.2); "
                           "its dns section lists the records with from_stage: 3")
    added = dns_records.add_planned(tx, scenario, name, 3)
    if not added:
        return {"changed": False, "detail": f"the A record of {name} already exists"}
    return {"changed": True, "detail": "created " + ", ".join(f"{d['Name']} {d['Type']} {d.get('Address')}" for d in added)}


@step("repoint-sip-internal-srv", needs_server=False,
      help="P10.2: re-point _sipinternaltls._tcp at the Lync Server 2013 pool")
def repoint_sip_internal_srv(tx, name: str | None) -> dict:  # noqa: ARG001 - same signature as the others
    """P10.2: re-point _sipinternaltls._tcp.<SIP domain> at the Lync Server 2013 pool (the scenario's records for
    stage 11 on)."""
    scenario = scenario_of(tx)
    domains = ((scenario.raw.get("topology") or {}).get("sip_domains")) or [scenario.domain]
    removed, added = [], []
    for domain in domains:
        r, a = dns_records.repoint(tx, scenario, f"_sipinternaltls._tcp.{domain}", 11)
        removed += r
        added += a
    if not (removed or added):
        return {"changed": False, "detail": "_sipinternaltls._tcp already points where the scenario plans"}
    return {"changed": True, "detail": "re-pointed " + ", ".join(f"{d['Name']} -> {d['Target']}:{d['Port']}" for d in added)}
