"""The Lync services on a pool's servers: Get-/Start-/Stop-CsWindowsService.

They act on the Lync Server services of one computer (the local one, or -ComputerName), as kept in the server
state. Starting the Front-End service on a pool server completes what Phase 3's "Start services" step does:
the replica reports to the CMS and the User Replicator finishes its first AD synchronisation (event 30024).
"""

from __future__ import annotations

from ..engine import what_if
from ..errors import PSError
from ..model import pool_objects, servers
from .cs_support import cmdlet_class
from . import cmdlet

_LYNC_PREFIX = "Lync Server "


def _server(tx, ctx, params, name: str) -> dict:
    fqdn = str(params.get("ComputerName") or ctx.server.fqdn)
    doc = servers.get(tx, fqdn)
    if doc is None:
        short = {s.computer_name.lower(): s.fqdn for s in ctx.lab.servers}
        alt = short.get(fqdn.lower())
        doc = servers.get(tx, alt) if alt else None
    if doc is None or not servers.has(tx, doc["Fqdn"], "lync"):
        raise PSError(f"Cannot find any Lync Server services on computer \"{fqdn}\".",
                      f"NoServicesFound,{cmdlet_class(name)}", category="ObjectNotFound", target=fqdn,
                      exception="Microsoft.Rtc.Management.Deployment.DeploymentException")
    return doc


def _lync_services(doc: dict, wanted: str | None) -> list[dict]:
    svcs = [s for s in doc["Services"] if s["DisplayName"].startswith(_LYNC_PREFIX)]
    if wanted:
        svcs = [s for s in svcs if s["Name"].lower() == wanted.lower() or s["DisplayName"].lower() == wanted.lower()]
    return svcs


def _view(s: dict) -> dict:
    return {"Status": s["Status"], "Name": s["Name"], "ActivityLevel": "" if s["Status"] == "Running" else None,
            "DisplayName": s["DisplayName"]}


@cmdlet("Get-CsWindowsService", requires="lync")
def get_cs_windows_service(ctx, params, tx):
    name = "Get-CsWindowsService"
    doc = _server(tx, ctx, params, name)
    svcs = _lync_services(doc, params.get("Name"))
    if params.get("Name") and not svcs:
        raise PSError(f"Cannot find any service with service name '{params['Name']}'.",
                      f"NoServiceFoundForGivenName,{cmdlet_class(name)}", category="ObjectNotFound",
                      target=str(params["Name"]), exception="Microsoft.Rtc.Management.Deployment.DeploymentException")
    return [_view(s) for s in svcs]


def _set_status(ctx, params, tx, name: str, status: str) -> list[dict]:
    doc = _server(tx, ctx, params, name)
    svcs = _lync_services(doc, params.get("Name"))
    if params.get("Name") and not svcs:
        raise PSError(f"Cannot find any service with service name '{params['Name']}'.",
                      f"NoServiceFoundForGivenName,{cmdlet_class(name)}", category="ObjectNotFound",
                      target=str(params["Name"]), exception="Microsoft.Rtc.Management.Deployment.DeploymentException")
    if params.get("WhatIf"):
        return [what_if(name, s["DisplayName"]) for s in svcs]
    for s in svcs:
        if status == "Running" and s.get("StartType") == "Disabled":
            raise PSError(f"Service '{s['DisplayName']} ({s['Name']})' cannot be started because it is disabled.",
                          f"StartServiceFailed,{cmdlet_class(name)}", category="OpenError", target=s["Name"],
                          exception="System.InvalidOperationException")
        s["Status"] = status
    servers.put(tx, doc)
    if status == "Running" and any(s["Name"].upper() in ("RTCSRV", "REPLICA") for s in svcs):
        _services_started(ctx, tx, doc["Fqdn"])
    return []


def _services_started(ctx, tx, fqdn: str) -> None:
    now = pool_objects.now()
    rep = tx.get("replica", fqdn)
    if rep is not None:
        rep.update(UpToDate=True, LastStatusReport=now)
        tx.put("replica", fqdn, rep)
    if (servers.get(tx, fqdn) or {}).get("Role") == "lync_frontend":
        servers.user_replication_completed(tx, fqdn, pool_objects.section_domain(ctx.lab.scenario))


@cmdlet("Start-CsWindowsService", requires="lync")
def start_cs_windows_service(ctx, params, tx):
    return _set_status(ctx, params, tx, "Start-CsWindowsService", "Running")


@cmdlet("Stop-CsWindowsService", requires="lync")
def stop_cs_windows_service(ctx, params, tx):
    return _set_status(ctx, params, tx, "Stop-CsWindowsService", "Stopped")
