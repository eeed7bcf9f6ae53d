"""`lync-lab perform` steps of Phases 4 and 5 (registered by perform.py)."""

from __future__ import annotations

from .model import servers
from .perform import PerformError, _server_doc, confirm_only


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


STEPS = {
    "install-ocswmibc": (install_ocswmibc, True, "P4.1: install OCSWMIBC.msi on --server (the merge host)"),
    # The legacy Edge's internal authorization list is not modelled; the confirmation is what the lab records.
    "authorize-lync-on-legacy-edge": (confirm_only("P5.2 authorize the Lync servers on the legacy Edge"), False,
                                      "P5.2: recorded only"),
}
