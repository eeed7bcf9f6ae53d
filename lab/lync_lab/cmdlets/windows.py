"""Windows services and event logs of a modelled server: Get/Start/Stop/Set-Service, Get-WinEvent."""

from __future__ import annotations

import fnmatch

from ..engine import what_if
from ..errors import PSError
from ..model import servers
from . import cmdlet


def _names(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _select(ctx, tx, params, cmd: str) -> tuple[dict, list[dict]]:
    doc = servers.get(tx, ctx.server.fqdn)
    wanted_names = _names(params.get("Name"))
    wanted_display = _names(params.get("DisplayName"))
    if not wanted_names and not wanted_display:
        return doc, list(doc["Services"])
    chosen: list[dict] = []
    for pattern, field, label in [(n, "Name", "service name") for n in wanted_names] + \
                                 [(d, "DisplayName", "display name") for d in wanted_display]:
        hits = [s for s in doc["Services"] if fnmatch.fnmatchcase(s[field].lower(), pattern.lower())]
        if not hits and "*" not in pattern:
            raise PSError(
                f"Cannot find any service with {label} '{pattern}'.",
                f"NoServiceFoundFor{'GivenName' if field == 'Name' else 'GivenDisplayName'},"
                f"Microsoft.PowerShell.Commands.{cmd}Command",
                category="ObjectNotFound", target=pattern,
                exception="Microsoft.PowerShell.Commands.ServiceCommandException")
        chosen += [h for h in hits if h not in chosen]
    return doc, chosen


# ServiceController.StartType exists from .NET Framework 4.6.1 (Microsoft's .NET Framework 4.6 -> 4.6.1 API diff
# adds `ServiceStartMode StartType { get; }`; dotnet-api-docs ServiceController.StartType applies to 4.6.1+).
# Get-Service returns ServiceController objects, so on a host with an older framework the property is not there.
START_TYPE_SINCE_DOTNET = (4, 6, 1)


def _has_start_type(ctx) -> bool:
    host = getattr(ctx.server, "host", None)
    if host is None:
        return True
    return tuple(int(p) for p in host.dotnet.split(".")) >= START_TYPE_SINCE_DOTNET


def _out(s: dict, start_type: bool = True) -> dict:
    out = {"Status": s["Status"], "Name": s["Name"], "DisplayName": s["DisplayName"], "ServiceName": s["Name"],
           "StartType": s["StartType"], "CanStop": s["Status"] == "Running"}
    if not start_type:
        del out["StartType"]
    return out


@cmdlet("Get-Service", requires="any")
def get_service(ctx, params, tx):
    _doc, chosen = _select(ctx, tx, params, "GetService")
    start_type = _has_start_type(ctx)
    return [_out(s, start_type) for s in sorted(chosen, key=lambda s: s["Name"].lower())]


def _start(ctx, tx, doc, s, cmd: str) -> None:
    if s["StartType"] == "Disabled":
        raise PSError(
            f"Service '{s['DisplayName']} ({s['Name']})' cannot be started due to the following error: Cannot start "
            f"service {s['Name']} on computer '.'.",
            f"CouldNotStartService,Microsoft.PowerShell.Commands.{cmd}Command",
            category="OpenError", target=s["Name"],
            exception="Microsoft.PowerShell.Commands.ServiceCommandException")
    s["Status"] = "Running"
    servers.put(tx, doc)
    # The Lync Front End's first start kicks off the User Replicator's initial AD sync (Phase 6's P6.1 checks it).
    if s["Name"] == "RTCSRV" and servers.installed(tx, ctx.server.fqdn, servers.LYNC_FRONTEND):
        servers.user_replication_completed(tx, ctx.server.fqdn, ctx.lab.scenario.domain)
        doc["Events"] = servers.get(tx, ctx.server.fqdn)["Events"]   # keep the caller's copy current


@cmdlet("Start-Service", requires="any")
def start_service(ctx, params, tx):
    doc, chosen = _select(ctx, tx, params, "StartService")
    for s in chosen:
        _start(ctx, tx, doc, s, "StartService")
    if params.get("WhatIf"):
        return [what_if("Start-Service", f"{s['DisplayName']} ({s['Name']})") for s in chosen]
    return [_out(s, _has_start_type(ctx)) for s in chosen] if params.get("PassThru") else []


@cmdlet("Stop-Service", requires="any")
def stop_service(ctx, params, tx):
    doc, chosen = _select(ctx, tx, params, "StopService")
    for s in chosen:
        s["Status"] = "Stopped"
    servers.put(tx, doc)
    if params.get("WhatIf"):
        return [what_if("Stop-Service", f"{s['DisplayName']} ({s['Name']})") for s in chosen]
    return [_out(s, _has_start_type(ctx)) for s in chosen] if params.get("PassThru") else []


@cmdlet("Set-Service", requires="any")
def set_service(ctx, params, tx):
    doc, chosen = _select(ctx, tx, {"Name": params.get("Name")}, "SetService")
    start_type = params.get("StartupType")
    if start_type is not None:
        start_type = str(start_type).capitalize()
        if start_type not in ("Automatic", "Manual", "Disabled"):
            raise PSError(
                f"Cannot bind parameter 'StartupType'. Cannot convert value \"{params['StartupType']}\" to type "
                "\"System.ServiceProcess.ServiceStartMode\". Error: \"Unable to match the identifier name "
                f"{params['StartupType']} to a valid enumerator name. Specify one of the following enumerator names "
                "and try again: Boot, System, Automatic, Manual, Disabled\"",
                "CannotConvertArgumentNoMessage,Microsoft.PowerShell.Commands.SetServiceCommand",
                category="InvalidArgument", target=str(params["StartupType"]),
                exception="System.Management.Automation.ParameterBindingException")
    for s in chosen:
        if start_type:
            s["StartType"] = start_type
        if params.get("DisplayName"):
            s["DisplayName"] = str(params["DisplayName"])
    servers.put(tx, doc)
    status = params.get("Status")
    for s in chosen:
        if status and str(status).lower() == "running":
            _start(ctx, tx, doc, s, "SetService")
        elif status and str(status).lower() == "stopped":
            s["Status"] = "Stopped"
            servers.put(tx, doc)
    if params.get("WhatIf"):
        return [what_if("Set-Service", f"{s['DisplayName']} ({s['Name']})") for s in chosen]
    return [_out(s, _has_start_type(ctx)) for s in chosen] if params.get("PassThru") else []


# -- Get-WinEvent -----------------------------------------------------------------------------------------
def _logs(tx, fqdn: str) -> list[str]:
    logs = ["Application", "System"]
    if servers.has(tx, fqdn, "lync"):
        logs.append("Lync Server")
    if servers.has(tx, fqdn, "ocs"):
        logs.append("Office Communications Server")
    return logs


@cmdlet("Get-WinEvent", requires="any")
def get_win_event(ctx, params, tx):
    doc = servers.get(tx, ctx.server.fqdn)
    fh = params.get("FilterHashtable")
    crit: dict = {}
    if isinstance(fh, list):
        fh = fh[0] if fh else {}
    if isinstance(fh, dict):
        crit = {str(k).lower(): v for k, v in fh.items()}
    log_names = _names(params.get("LogName")) or _names(crit.get("logname"))
    providers = _names(params.get("ProviderName")) or _names(crit.get("providername"))
    ids = crit.get("id")
    ids = {int(i) for i in (ids if isinstance(ids, list) else [ids])} if ids is not None else None
    known = _logs(tx, ctx.server.fqdn)
    for ln in log_names:
        if not any(fnmatch.fnmatchcase(k.lower(), ln.lower()) for k in known):
            raise PSError(f'There is not an event log on the localhost computer that matches "{ln}".',
                          "NoMatchingLogsFound,Microsoft.PowerShell.Commands.GetWinEventCommand",
                          category="ObjectNotFound", target=ln, exception="System.Exception")
    events = doc["Events"]
    if log_names:
        events = [e for e in events if any(fnmatch.fnmatchcase(e["LogName"].lower(), ln.lower()) for ln in log_names)]
    if providers:
        events = [e for e in events if any(fnmatch.fnmatchcase(e["ProviderName"].lower(), p.lower()) for p in providers)]
    if ids is not None:
        events = [e for e in events if e["Id"] in ids]
    events = sorted(events, key=lambda e: e["RecordId"], reverse=True)   # newest first, as Get-WinEvent returns
    if params.get("MaxEvents") is not None:
        events = events[: int(params["MaxEvents"])]
    if not events:
        raise PSError("No events were found that match the specified selection criteria.",
                      "NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand",
                      category="ObjectNotFound", exception="System.Exception")
    return [{"TimeCreated": e["TimeCreated"], "ProviderName": e["ProviderName"], "Id": e["Id"],
             "LevelDisplayName": e["LevelDisplayName"], "Message": e["Message"], "LogName": e["LogName"],
             "RecordId": e["RecordId"], "MachineName": ctx.server.fqdn} for e in events]
