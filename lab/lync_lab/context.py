"""Who runs a cmdlet where: the value types every layer passes along (ServerInfo, SessionInfo, CmdletContext).

A value module: it imports nothing of the lab but the host profiles (lync_lab.hosts, itself a value module), so the
WinRM listener, the PowerShell runtime and the scenario loader can all name these types without importing the
composition root (lab.py) that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .hosts import HostProfile, default_host


@dataclass(frozen=True)
class ServerInfo:
    """A modelled Windows server, as the scenario describes it (static facts only).

    What is installed on it changes as the migration goes on, so that lives in the store
    (``engine.server_has(ctx, product)``), not here.
    """

    fqdn: str
    role: str                 # ocs_frontend | ocs_standard | ocs_edge | ocs_director | ocs_mediation | ocs_archiving
                              # | ocs_monitoring | ocs_cwa | ocs_xmpp | lync_frontend | lync_edge | lync_mediation | dc
    pool: str | None = None   # the pool FQDN the server belongs to, if any
    site: str | None = None
    http_port: int | None = None
    https_port: int | None = None
    netbios: str = ""
    culture: str = "en-US"    # the display language of its messages (lync_lab.localisation; scenario key culture:)
    # The Windows it runs (OS, PowerShell, .NET, WinRM quotas): lync_lab/hosts.py, from the scenario's os: key.
    host: HostProfile = field(default_factory=default_host)

    @property
    def computer_name(self) -> str:
        return self.netbios or self.fqdn.split(".")[0].upper()


@dataclass
class SessionInfo:
    """Who is on the other end of a WinRM shell, and how they authenticated."""

    user: str                  # canonical DOMAIN\user
    auth: str                  # ntlm | basic | credssp | kerberos
    can_delegate: bool = False  # CredSSP or delegated Kerberos: the double hop works
    codepage: int = 437
    shell_id: str = ""
    client: str = ""


@dataclass
class CmdletContext:
    """One cmdlet call's surroundings: the lab it runs in, the server it runs on, the session that sent it."""

    lab: Any                   # the running Lab (lync_lab.lab), named here by duck type only
    server: ServerInfo
    session: SessionInfo
    extra: dict[str, Any] = field(default_factory=dict)
