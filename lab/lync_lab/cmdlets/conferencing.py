"""Conference directories: Import-CsLegacyConferenceDirectory, Get-/Move-CsConferenceDirectory."""

from __future__ import annotations

from ..engine import what_if
from ..errors import PSError
from ..model import pool_objects, servers, vfs
from ..model import topology as topo_model
from .cs_support import (
    cmdlet_class,
    filter_matches,
    invalid,
    not_found,
    pool_available,
    public,
    require_pool,
    require_topology,
)
from . import cmdlet
from .topology import wmi_provider_error


def _visible(tx) -> list[dict]:
    docs = [d for _k, d in tx.query("confdir") if d.get("imported")]
    return sorted(docs, key=lambda d: int(d["Identity"]))


@cmdlet("Get-CsConferenceDirectory", requires="lync")
def get_cs_conference_directory(ctx, params, tx):
    require_topology(tx, "Get-CsConferenceDirectory")
    docs = _visible(tx)
    if params.get("Identity") is not None:
        ident = str(params["Identity"]).strip()
        docs = [d for d in docs if d["Identity"] == ident]
        if not docs:
            raise not_found("Get-CsConferenceDirectory", "conference directory", ident)
    pred = filter_matches(params.get("Filter"), "Get-CsConferenceDirectory")
    return [public(d) for d in docs if pred(d)]


@cmdlet("Import-CsLegacyConferenceDirectory", requires="lync")
def import_cs_legacy_conference_directory(ctx, params, tx):
    name = "Import-CsLegacyConferenceDirectory"
    if not servers.installed(tx, ctx.server.fqdn, servers.OCSWMIBC):
        raise wmi_provider_error(name)
    topo = require_topology(tx, name)
    if topo.backcompat_site() is None:
        raise invalid(name, "The legacy topology has not been merged. Run Merge-CsLegacyTopology and publish the "
                            "merged topology before importing the legacy conference directories.")
    imported = []
    for key, doc in tx.query("confdir"):
        pool = topo_model.find_pool(tx, doc["pool"])
        if not doc.get("imported") and pool is not None and pool["legacy"]:
            tx.put("confdir", key, dict(doc, imported=True))
            imported.append(doc["Identity"])
    if params.get("Report"):
        vfs.write_text(tx, ctx, params["Report"],
                       "".join(f"Imported conference directory {i}\r\n" for i in imported) or "Nothing to import\r\n")
    if params.get("WhatIf"):
        return [what_if("Import legacy conference directories", ", ".join(imported) or "(none)")]
    return []


@cmdlet("Move-CsConferenceDirectory", requires="lync")
def move_cs_conference_directory(ctx, params, tx):
    name = "Move-CsConferenceDirectory"
    require_topology(tx, name)
    ident = str(params["Identity"]).strip()
    doc = tx.get("confdir", ident)
    if doc is None or not doc.get("imported"):
        raise not_found(name, "conference directory", ident)
    target = require_pool(tx, name, params["TargetPool"], "TargetPool")
    if not any(s.lower().startswith("userserver:") for s in target["Services"]):
        raise invalid(name, f"The pool {target['Fqdn']} has no User Server service and cannot host conference "
                            "directories.", target=target["Fqdn"], category="InvalidArgument")
    if target["legacy"]:
        raise invalid(name, f"Conference directories cannot be moved to the Office Communications Server 2007 R2 "
                            f"pool {target['Fqdn']}.", target=target["Fqdn"], category="InvalidArgument")
    if doc["pool"].lower() == target["Fqdn"].lower():
        raise invalid(name, f"Conference directory {ident} is already homed on {target['Fqdn']}.", target=ident)
    data_lost = False
    if not pool_available(tx, target):
        if not params.get("Force"):
            raise PSError(f"Cannot move conference directory {ident}: the target pool {target['Fqdn']} cannot be "
                          "contacted. Use -Force to move it anyway (the dial-in data of existing meetings is lost "
                          "unless it was exported with Dbimpexp.exe first).",
                          f"TargetPoolUnavailable,{cmdlet_class(name)}", category="ConnectionError",
                          target=ident, exception="Microsoft.Rtc.Management.ManagementException")
        data_lost = True
    moved = pool_objects.confdir_doc(ident, target["Fqdn"], True)
    if data_lost:
        moved["dial_in_data_lost"] = True   # forced onto an unreachable pool: existing meetings' dial-in data
    tx.put("confdir", ident, moved)
    if params.get("WhatIf"):
        return [what_if("Move-CsConferenceDirectory", ident)]
    return []
