"""What is installed and running on each modelled server: products, Windows services, event log entries.

Kind "server", key = the server's FQDN. Document:
  {"Fqdn", "Role", "Products": [{"Name", "Version", "Vendor", "PackageName", "IdentifyingNumber"}],
   "Services": [{"Name", "DisplayName", "Status", "StartType"}],
   "Events": [{"RecordId", "LogName", "ProviderName", "Id", "LevelDisplayName", "Message", "TimeCreated"}]}
"""

from __future__ import annotations

import datetime as _dt
import hashlib

LYNC_CORE = "Microsoft Lync Server 2013, Core Components"
LYNC_FRONTEND = "Microsoft Lync Server 2013, Front End Server"
LYNC_EDGE = "Microsoft Lync Server 2013, Edge Server"
OCSWMIBC = "OCS 2007 R2 WMI Backward Compatibility Package"
OCS_PREFIX = "Microsoft Office Communications Server 2007 R2"
OCS_FRONTEND = "Microsoft Office Communications Server 2007 R2, Front End Server"
OCS_EDGE = "Microsoft Office Communications Server 2007 R2, Edge Server"
OCS_MEDIATION = "Microsoft Office Communications Server 2007 R2, Mediation Server"
OCS_ADMIN_TOOLS = "Microsoft Office Communications Server 2007 R2, Administrative Tools"

_VERSIONS = {"lync": "5.0.8308.0", "ocs": "3.5.6907.0", "wmibc": "3.5.6907.0"}

# (Name, DisplayName) per role, as the Services console lists them.
OCS_FRONTEND_SERVICES = [
    ("RTCSRV", "Office Communications Server Front-End"),
    ("RTCDATAMCU", "Office Communications Server Web Conferencing"),
    ("RTCAVMCU", "Office Communications Server Audio/Video Conferencing"),
    ("RTCASMCU", "Office Communications Server Application Sharing"),
    ("RTCACPMCU", "Office Communications Server Telephony Conferencing"),
    ("RTCIMMCU", "Office Communications Server IM Conferencing"),
    ("RTCCAA", "Office Communications Server Conferencing Attendant"),
    ("RTCCAS", "Office Communications Server Conferencing Announcement Service"),
    ("RTCRGS", "Office Communications Server Response Group Service"),
    ("RTCOUTSIDEVOICE", "Office Communications Server Outside Voice Control"),
]
OCS_EDGE_SERVICES = [
    ("RTCSRV", "Office Communications Server Access Edge"),
    ("RTCDATAPROXY", "Office Communications Server Web Conferencing Edge"),
    ("RTCMRAUTH", "Office Communications Server Audio/Video Authentication"),
    ("RTCMEDIARELAY", "Office Communications Server Audio/Video Edge"),
]
OCS_MEDIATION_SERVICES = [("RTCMEDSRV", "Office Communications Server Mediation")]
LYNC_FRONTEND_SERVICES = [
    ("RTCSRV", "Lync Server Front-End"),
    ("RTCCLSAGT", "Lync Server Centralized Logging Service Agent"),
    ("RTCDATAMCU", "Lync Server Web Conferencing"),
    ("RTCAVMCU", "Lync Server Audio/Video Conferencing"),
    ("RTCASMCU", "Lync Server Application Sharing"),
    ("RTCIMMCU", "Lync Server IM Conferencing"),
    ("RTCATS", "Lync Server Audio Test Service"),
    ("RTCCAA", "Lync Server Conferencing Attendant"),
    ("RTCCAS", "Lync Server Conferencing Announcement"),
    ("RTCRGS", "Lync Server Response Group"),
    ("RTCCPS", "Lync Server Call Park"),
    ("RTCMEDSRV", "Lync Server Mediation"),
    ("RTCHA", "Lync Server Bandwidth Policy Service (Core)"),
    ("REPLICA", "Lync Server Replica Replicator Agent"),
    ("RTCMASTER", "Lync Server Master Replicator Agent"),
    ("FTA", "Lync Server File Transfer Agent"),
]
LYNC_EDGE_SERVICES = [
    ("RTCSRV", "Lync Server Access Edge"),
    ("RTCDATAPROXY", "Lync Server Web Conferencing Edge"),
    ("RTCMRAUTH", "Lync Server Audio/Video Authentication"),
    ("RTCMEDIARELAY", "Lync Server Audio/Video Edge"),
    ("RTCCLSAGT", "Lync Server Centralized Logging Service Agent"),
    ("REPLICA", "Lync Server Replica Replicator Agent"),
]
WINDOWS_SERVICES = [
    ("W32Time", "Windows Time"),
    ("WinRM", "Windows Remote Management (WS-Management)"),
    ("Winmgmt", "Windows Management Instrumentation"),
]
DC_SERVICES = [("NTDS", "Active Directory Domain Services"), ("DNS", "DNS Server")]

USER_REPLICATOR_EVENT = {
    "LogName": "Lync Server",
    "ProviderName": "LS User Replicator",
    "Id": 30024,
    "LevelDisplayName": "Information",
    "Message": "User Replicator has completed initial synchronization of Active Directory domain "
               "DC={dc}. This means that all users in this domain will be synchronized.",
}

# Seeded state is fixed in time so that two seeds of a stage compare equal; runtime events use the clock.
SEED_TIME = "2013-06-03T09:00:00.0000000+00:00"


def product(name: str, kind: str, package: str) -> dict:
    guid = hashlib.sha1(name.encode()).hexdigest().upper()
    return {
        "Name": name,
        "Version": _VERSIONS[kind],
        "Vendor": "Microsoft Corporation",
        "PackageName": package,
        "IdentifyingNumber": "{%s-%s-%s-%s-%s}" % (guid[:8], guid[8:12], guid[12:16], guid[16:20], guid[20:32]),
    }


def new_server(fqdn: str, role: str) -> dict:
    return {"Fqdn": fqdn, "Role": role, "Products": [], "Services": [svc(n, d, "Running") for n, d in WINDOWS_SERVICES],
            "Events": []}


def svc(name: str, display: str, status: str = "Running", start: str = "Automatic") -> dict:
    return {"Name": name, "DisplayName": display, "Status": status, "StartType": start}


def get(tx, fqdn: str) -> dict | None:
    return tx.get("server", fqdn)


def put(tx, doc: dict) -> None:
    tx.put("server", doc["Fqdn"], doc)


def installed(tx, fqdn: str, product_name: str) -> bool:
    doc = get(tx, fqdn)
    return bool(doc) and any(p["Name"].lower() == product_name.lower() for p in doc["Products"])


def has(tx, fqdn: str, what: str) -> bool:
    """"lync": Lync Server 2013 installed; "ocs": an OCS 2007 R2 server role installed; "any": always."""
    if what == "any":
        return True
    doc = get(tx, fqdn)
    if not doc:
        return False
    names = [p["Name"] for p in doc["Products"]]
    if what == "lync":
        return LYNC_CORE in names
    if what == "ocs":
        return any(n.startswith(OCS_PREFIX) and n != OCS_ADMIN_TOOLS for n in names)
    raise ValueError(what)


def install(tx, fqdn: str, product_doc: dict, services: list[tuple[str, str]] = (), status: str = "Running") -> None:
    doc = get(tx, fqdn)
    if doc is None:
        raise KeyError(fqdn)
    if not any(p["Name"] == product_doc["Name"] for p in doc["Products"]):
        doc["Products"].append(product_doc)
    have = {s["Name"] for s in doc["Services"]}
    for name, display in services:
        if name in have:
            # A product replacing another's service (same short name) takes it over, as setup does.
            for s in doc["Services"]:
                if s["Name"] == name:
                    s.update(svc(name, display, status))
        else:
            doc["Services"].append(svc(name, display, status))
    put(tx, doc)


def add_event(tx, fqdn: str, event: dict, time: str | None = None) -> dict:
    doc = get(tx, fqdn)
    if doc is None:
        raise KeyError(fqdn)
    record_id = max((e["RecordId"] for e in doc["Events"]), default=1000) + 1
    ev = dict(event)
    ev["RecordId"] = record_id
    ev["TimeCreated"] = time or _dt.datetime.now(_dt.timezone.utc).isoformat()
    doc["Events"].append(ev)
    put(tx, doc)
    return ev


def has_event(tx, fqdn: str, provider: str, event_id: int) -> bool:
    doc = get(tx, fqdn) or {"Events": []}
    return any(e["ProviderName"] == provider and e["Id"] == event_id for e in doc["Events"])


def user_replication_completed(tx, fqdn: str, domain: str, time: str | None = None) -> None:
    """Record LS User Replicator event 30024 (initial AD sync done) once per server."""
    if has_event(tx, fqdn, "LS User Replicator", 30024):
        return
    ev = dict(USER_REPLICATOR_EVENT)
    ev["Message"] = ev["Message"].format(dc=",DC=".join(domain.split(".")))
    add_event(tx, fqdn, ev, time)
