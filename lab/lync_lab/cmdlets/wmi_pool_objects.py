"""OCS 2007 R2 WMI classes for the pool-level objects a migration has to move (spec section 3, rows 8 and 10):
MSFT_SIPApplicationContactSetting (application contacts homed on an OCS pool: Conferencing Attendant dial-in
numbers, Response Group workflow contacts) and MSFT_SIPRgsWorkflowData (the Response Group workflows of an OCS
pool). Registered into cmdlets/wmi.py's Get-WmiObject; property names from data/ocs2007r2-wmi.json.

An object OCS 2007 R2 no longer homes (moved to Lync Server 2013 in Phase 9) is not listed, as in MSFT_SIPESUserSetting.
"""

from __future__ import annotations

from ..model import users as U
from . import wmi


def _legacy_pools(ctx) -> dict[str, dict]:
    return {p["fqdn"].lower(): p for p in wmi._legacy_pools(ctx)}


def _application_contacts(ctx, tx):
    pools = _legacy_pools(ctx)
    domain = ctx.lab.scenario.domain
    out = []
    for _k, d in tx.query("endpoint"):
        pool = (d.get("RegistrarPool") or "").lower()
        if pool not in pools:
            continue
        out.append(wmi._instance("MSFT_SIPApplicationContactSetting", {
            "DisplayName": d.get("DisplayName"), "PrimaryURI": d.get("SipAddress"), "LineURI": d.get("LineURI"),
            "DisplayNumber": d.get("DisplayNumber"), "Enabled": bool(d.get("Enabled", True)),
            "ContactDN": d.get("Identity"), "HomeServerDN": U.legacy_home_server(pools[pool]["fqdn"], domain),
            "EnabledForEnhancedPresence": True, "UCEnabled": bool(d.get("EnterpriseVoiceEnabled"))}))
    return out


def _rgs_workflows(ctx, tx):
    pools = _legacy_pools(ctx)
    out = []
    for key, d in tx.query("rgs_workflow"):
        pool = key.split("/", 1)[0]
        if pool not in pools:
            continue
        backend = pools[pool].get("backend")
        out.append(wmi._instance("MSFT_SIPRgsWorkflowData", {
            "Name": d.get("Name"), "Description": d.get("Description"), "Active": bool(d.get("Active")),
            "Backend": f"{backend}\\rtc" if backend else None, "InstanceId": "{" + d["Identity"].rsplit("/", 1)[-1] + "}",
            "LCID": 1033 if d.get("Language", "en-US") == "en-US" else None}))
    return out


wmi._OCS_CLASSES.setdefault("MSFT_SIPApplicationContactSetting", _application_contacts)
wmi._OCS_CLASSES.setdefault("MSFT_SIPRgsWorkflowData", _rgs_workflows)
