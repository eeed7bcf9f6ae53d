"""`lync-lab perform` steps that install or remove products on one server: the Lync Server 2013 Deployment Wizard
(P3.1-P3.4), the OCS 2007 R2 WMI Backward Compatibility Package (P4.1) and the OCS 2007 R2 decommissioning (P10.3).
"""

from __future__ import annotations

from ..model import servers
from .registry import PerformError, step

# The Lync Server 2013 Deployment Wizard's "Install or Update Lync Server System" (P3.4), per server role:
# the product Setup installs and the Windows services it creates. Services start at the wizard's last step.
_LYNC_ROLES = {
    "lync_frontend": (servers.LYNC_FRONTEND, servers.LYNC_FRONTEND_SERVICES),
    "lync_edge": (servers.LYNC_EDGE, servers.LYNC_EDGE_SERVICES),
}


def _server_doc(tx, fqdn: str) -> dict:
    doc = servers.get(tx, fqdn)
    if doc is None:
        known = ", ".join(sorted(k for k, _d in tx.query("server")))
        raise PerformError(f"no server {fqdn!r} in this lab; its servers are: {known}")
    return doc


@step("install-core", needs_server=True,
      help="P3.1/P3.2: Lync Server 2013 Core Components and admin tools on --server")
def install_core(tx, fqdn: str) -> dict:
    """Deployment Wizard first run / Install Administrative Tools (P3.1-P3.2): Core Components (OCSCore.msi),
    which bring the Lync Server Management Shell the AD preparation cmdlets run in."""
    doc = _server_doc(tx, fqdn)
    if not doc["Role"].startswith("lync_"):
        raise PerformError(f"{fqdn} is a {doc['Role']} server: the Lync Server 2013 tools cannot share a computer "
                           "with OCS 2007 R2 (P1.3); install them on a Lync server")
    if servers.installed(tx, fqdn, servers.LYNC_CORE):
        return {"changed": False, "detail": f"Lync Server 2013 Core Components already installed on {fqdn}"}
    servers.install(tx, fqdn, servers.product(servers.LYNC_CORE, "lync", "OCSCore.msi"))
    return {"changed": True, "detail": f"installed Lync Server 2013 Core Components (OCSCore.msi) on {fqdn}"}


@step("install-lync", needs_server=True,
      help="P3.4: install Lync Server 2013 on --server (local store, components)")
def install_lync(tx, fqdn: str) -> dict:
    """Deployment Wizard "Install or Update Lync Server System" steps 1-2 (P3.4): local configuration store
    (from the published topology) and the server components. Certificates and Start Services follow."""
    from ..model import topology as topo_model

    doc = _server_doc(tx, fqdn)
    role = doc["Role"]
    if role not in _LYNC_ROLES:
        raise PerformError(f"{fqdn} is a {role} server, not a Lync Server 2013 Front End or Edge")
    topo = topo_model.current(tx)
    machines = {m.lower() for c in (topo.clusters if topo else []) for m in c.machines}
    if fqdn.lower() not in machines:
        raise PerformError(f"{fqdn} is not in the published topology: Setup installs only what the topology defines "
                           "(publish the pilot pool first, Phase 3 P3.3)")
    product_name, services = _LYNC_ROLES[role]
    changed = False
    if not servers.installed(tx, fqdn, servers.LYNC_CORE):
        servers.install(tx, fqdn, servers.product(servers.LYNC_CORE, "lync", "OCSCore.msi"))
        changed = True
    if not servers.installed(tx, fqdn, product_name):
        servers.install(tx, fqdn, servers.product(product_name, "lync", "Server.msi"), services, status="Stopped")
        changed = True
    detail = f"installed {product_name} on {fqdn}" if changed else f"{product_name} already installed on {fqdn}"
    return {"changed": changed, "detail": detail}


@step("install-ocswmibc", needs_server=True, help="P4.1: install OCSWMIBC.msi on --server (the merge host)")
def install_ocswmibc(tx, fqdn: str) -> dict:
    """P4.1: run OCSWMIBC.msi (\\Setup\\amd64\\Setup on the OCS 2007 R2 media) on a computer with the Lync Server
    2013 Core Components, which is what lets Merge-CsLegacyTopology and the legacy import cmdlets read OCS."""
    doc = _server_doc(tx, fqdn)
    if not servers.installed(tx, fqdn, servers.LYNC_CORE):
        raise PerformError(f"{fqdn} ({doc['Role']}) has no Lync Server 2013 Core Components; OCSWMIBC.msi goes on "
                           "the computer that runs the merge, which needs them (Phase 3 installs them)")
    if servers.installed(tx, fqdn, servers.OCSWMIBC):
        return {"changed": False, "detail": f"OCSWMIBC.msi already installed on {fqdn}"}
    servers.install(tx, fqdn, servers.product(servers.OCSWMIBC, "wmibc", "OCSWMIBC.msi"))
    return {"changed": True, "detail": f"installed the OCS 2007 R2 WMI Backward Compatibility Package on {fqdn}"}


@step("uninstall-ocs", needs_server=True, help="P10.3: decommission the OCS 2007 R2 server --server")
def uninstall_ocs(tx, fqdn: str) -> dict:
    """P10.3: remove OCS 2007 R2 from ``fqdn`` (model/late_phases.py); a Front End only once no user is homed on
    it."""
    from ..model import late_phases

    doc = servers.get(tx, fqdn)
    if doc is None or not doc["Role"].startswith("ocs_"):
        raise PerformError(f"{fqdn} is not an OCS 2007 R2 server of this lab")
    if doc["Role"] in ("ocs_frontend", "ocs_standard"):
        homed = [d.get("SipAddress") for _k, d in tx.query("user") if d.get("OnOcs")]
        if homed:
            raise PerformError(f"{fqdn} still homes {len(homed)} users (first: {homed[0]}); the OCS documents "
                               "require an empty pool before it is removed (move them first, Phase 8)")
    removed = late_phases.uninstall_ocs(tx, fqdn)
    if not removed:
        return {"changed": False, "detail": f"no OCS 2007 R2 component left on {fqdn}"}
    return {"changed": True, "detail": f"removed {', '.join(removed)} from {fqdn}"}
