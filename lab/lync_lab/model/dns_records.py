"""The organisation's DNS zone as the lab's DNS server (lync_lab.dns) answers it.

Kind "dns_record", key "<TYPE> <name> <value>" (lower case), one document per resource record:
  {"Name": "pool02.contoso.net", "Type": "A", "Address": "192.168.10.21", "TTL": 3600}
  {"Name": "_sipinternaltls._tcp.contoso.net", "Type": "SRV", "Target": "pool01.contoso.net", "Port": 5061,
   "Priority": 0, "Weight": 0, "TTL": 3600}

Seeded from the scenario's ``dns:`` section. A record with ``from_stage: N`` exists from stage N on (the phase
before N created it: the pilot pool's A record, P2.2, has from_stage 3); ``until_stage: N`` means the record
is gone (re-pointed) from stage N+1 on (the internal SRV record moves to the Lync pool in P10.2).
"""

from __future__ import annotations

import ipaddress
import re

from ..errors import LabConfigError

KIND = "dns_record"
TYPES = ("A", "SRV")
_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


def key(doc: dict) -> str:
    value = doc["Address"] if doc["Type"] == "A" else f"{doc['Target']}:{doc['Port']}"
    return f"{doc['Type']} {doc['Name']} {value}".lower()


def _fail(scenario, path: str, problem: str, fix: str) -> None:
    raise LabConfigError(f"scenario {scenario.name}: dns.{path}: {problem}; {fix}")


def record_from_spec(scenario, index: int, spec: dict, ttl: int) -> dict:
    """One scenario entry ({name, type, address | target, port, priority, weight}) as a record document."""
    path = f"records[{index}]"
    if not isinstance(spec, dict):
        _fail(scenario, path, "not a mapping", "write e.g. {name: pool01.contoso.net, type: A, address: 192.168.10.11}")
    name = str(spec.get("name") or "").rstrip(".")
    if not _NAME.match(name):
        _fail(scenario, f"{path}.name", f"{name!r} is not a DNS name", "write a fully qualified name such as pool01.contoso.net")
    rtype = str(spec.get("type") or "").upper()
    if rtype not in TYPES:
        _fail(scenario, f"{path}.type", f"unsupported type {spec.get('type')!r}", "use A or SRV")
    doc: dict = {"Name": name.lower(), "Type": rtype}
    if rtype == "A":
        try:
            doc["Address"] = str(ipaddress.IPv4Address(str(spec.get("address"))))
        except ValueError:
            _fail(scenario, f"{path}.address", f"{spec.get('address')!r} is not an IPv4 address", "write e.g. 192.168.10.11")
    else:
        target = str(spec.get("target") or "").rstrip(".")
        if not _NAME.match(target):
            _fail(scenario, f"{path}.target", f"{target!r} is not a DNS name", "name the host the service runs on")
        port = spec.get("port")
        if not isinstance(port, int) or not 0 < port < 65536:
            _fail(scenario, f"{path}.port", f"{port!r} is not a port", "write e.g. 5061")
        doc.update({"Target": target.lower(), "Port": port, "Priority": int(spec.get("priority", 0)),
                    "Weight": int(spec.get("weight", 0))})
    doc["TTL"] = int(spec.get("ttl", ttl))
    return doc


def scenario_records(scenario) -> list[tuple[dict, dict]]:
    """(spec, document) for every record the scenario's dns section lists."""
    section = scenario.raw.get("dns") or {}
    ttl = int(section.get("ttl", 3600))
    return [(spec, record_from_spec(scenario, i, spec, ttl)) for i, spec in enumerate(section.get("records") or [])]


def exists_at(spec: dict, stage: int) -> bool:
    return int(spec.get("from_stage", 1)) <= stage <= int(spec.get("until_stage", 11))


def seed(tx, scenario, stage: int) -> None:
    tx.put_many(KIND, [(key(doc), doc) for spec, doc in scenario_records(scenario) if exists_at(spec, stage)])


def zones(scenario) -> list[str]:
    """The zones the lab's DNS server is authoritative for: the AD domain and the SIP domains."""
    names = [scenario.domain] + list(((scenario.raw.get("topology") or {}).get("sip_domains")) or [])
    out: list[str] = []
    for n in names:
        if n.lower() not in out:
            out.append(n.lower())
    return out


def lookup(tx, name: str, rtype: str) -> tuple[bool, list[dict]]:
    """(the name exists, the records of that type) for one query."""
    name = name.lower().rstrip(".")
    same = [d for _k, d in tx.query(KIND) if d["Name"] == name]
    return bool(same), [d for d in same if d["Type"] == rtype.upper()]


def add_planned(tx, scenario, name: str, stage_created: int) -> list[dict]:
    """Add the records the scenario plans for ``name`` from ``stage_created`` on (what the admin creates in
    DNS Manager at that step). Returns the records added (none when they exist already)."""
    added = []
    for spec, doc in scenario_records(scenario):
        if doc["Name"] == name.lower().rstrip(".") and int(spec.get("from_stage", 1)) == stage_created:
            if tx.get(KIND, key(doc)) is None:
                tx.put(KIND, key(doc), doc)
                added.append(doc)
    return added


def repoint(tx, scenario, name: str, stage_from: int) -> tuple[list[dict], list[dict]]:
    """Replace the records of ``name`` with the ones the scenario gives it from ``stage_from`` on (a record
    re-pointed in DNS Manager). Returns (removed, added)."""
    name = name.lower().rstrip(".")
    planned = [doc for spec, doc in scenario_records(scenario) if doc["Name"] == name and exists_at(spec, stage_from)]
    wanted = {key(d) for d in planned}
    removed = []
    for k, d in tx.query(KIND):
        if d["Name"] == name and k not in wanted:
            tx.delete(KIND, k)
            removed.append(d)
    added = []
    for d in planned:
        if tx.get(KIND, key(d)) is None:
            tx.put(KIND, key(d), d)
            added.append(d)
    return removed, added
