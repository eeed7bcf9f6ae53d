"""Import-CsLegacyConfiguration: copies OCS 2007 R2 policies, location profiles, routes and CWA URLs into Lync."""

from __future__ import annotations

from ..engine import what_if
from ..errors import PSError
from ..model import policies
from . import cmdlet


@cmdlet("Import-CsLegacyConfiguration", requires="lync", needs_directory=True)
def import_cs_legacy_configuration(ctx, params, tx):
    from ..model import servers

    # It reads the legacy settings through WMI, which the OCS WMI Backward Compatibility Package provides.
    if not servers.installed(tx, ctx.server.fqdn, servers.OCSWMIBC):
        raise PSError(
            "Cannot read the Office Communications Server 2007 R2 configuration: the WMI class MSFT_SIPGlobalMeetingSetting "
            "is not registered on this computer. Install the Windows Management Instrumentation (WMI) Backward "
            "Compatibility Package (OCSWMIBC.msi, in the Setup folder of the installation media) and run "
            "Merge-CsLegacyTopology before Import-CsLegacyConfiguration.",
            "WmiBackwardCompatibilityMissing,Microsoft.Rtc.Management.Deployment.ImportLegacyConfigurationCmdlet",
            category="NotInstalled",
            exception="System.Management.ManagementException",
        )
    summary = policies.import_legacy_configuration(
        tx, replace_existing=bool(params.get("ReplaceExisting")), report=params.get("Report"))
    if params.get("WhatIf"):
        return [what_if("Import-CsLegacyConfiguration", "Legacy configuration")]
    if params.get("Report"):
        tx.meta_put("legacy_import_last_report", {"path": params["Report"], **summary})
    return []
