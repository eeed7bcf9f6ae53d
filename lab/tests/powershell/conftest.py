"""Test doubles for the PowerShell layer: a lab with counting latency, an output sink, stdin, and an engine
double (monkeypatched into lync_lab.engine) that records each call and serves users from a dict."""

from __future__ import annotations

import base64
import copy
from types import SimpleNamespace

import pytest

from lync_lab import engine
from lync_lab.errors import PSError
from lync_lab.context import ServerInfo, SessionInfo
from lync_lab.powershell.runtime import HostRuntime


class CountingLatency:
    def __init__(self) -> None:
        self.starts = 0
        self.imports: list[str] = []

    def powershell_start(self) -> None:
        self.starts += 1

    def import_module(self, name: str) -> None:
        self.imports.append(name)


class Sink:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.err: list[str] = []

    def stdout(self, text: str) -> None:
        self.out.append(text)

    def stderr(self, text: str) -> None:
        self.err.append(text)

    @property
    def stdout_text(self) -> str:
        return "".join(self.out)

    @property
    def stderr_text(self) -> str:
        return "".join(self.err)


class Stdin:
    def __init__(self, data: bytes = b"") -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


USERS = [
    {"Identity": "CN=David Pelton,OU=Users,DC=contoso,DC=net", "SipAddress": "sip:david@contoso.net",
     "DisplayName": "David Pelton", "RegistrarPool": "ocspool01.contoso.net", "Enabled": True, "LineURI": ""},
    {"Identity": "CN=Ken Myer,OU=Users,DC=contoso,DC=net", "SipAddress": "sip:ken@contoso.net",
     "DisplayName": "Ken Myer", "RegistrarPool": "ocspool01.contoso.net", "Enabled": True, "LineURI": "tel:+1425"},
    {"Identity": "CN=Pilar Ackerman,OU=Users,DC=contoso,DC=net", "SipAddress": "sip:pilar@contoso.net",
     "DisplayName": "Pilar Ackerman", "RegistrarPool": "pool02.contoso.net", "Enabled": False, "LineURI": ""},
]


class EngineDouble:
    """Stands in for lync_lab.engine: Get-CsUser, Move-CsLegacyUser, Get-Service; records every call."""

    def __init__(self, lync_installed: bool = True) -> None:
        self.lync_installed = lync_installed
        self.calls: list[tuple[str, dict, dict]] = []
        self.rejected: list[tuple[str, dict, PSError]] = []
        self.users = copy.deepcopy(USERS)

    def server_has(self, ctx, what: str) -> bool:
        return {"lync": self.lync_installed, "ocs": not self.lync_installed, "any": True}[what]

    def record_rejected(self, ctx, cmdlet, audit_params, error) -> None:
        self.rejected.append((cmdlet, audit_params, error))

    def _find(self, identity: str) -> dict:
        for u in self.users:
            if identity.lower() in (u["Identity"].lower(), u["SipAddress"].lower(), u["DisplayName"].lower()):
                return u
        raise PSError(f'Management object not found for identity "{identity}".',
                      "Identity,Microsoft.Rtc.Management.AD.Cmdlets.GetOcsUserCmdlet", "InvalidData",
                      target=identity, exception="Microsoft.Rtc.Management.AD.ManagementException")

    def invoke(self, ctx, cmdlet, params, audit_params=None):
        self.calls.append((cmdlet, params, audit_params))
        if cmdlet == "Get-CsUser":
            if "Identity" in params:
                return [dict(self._find(params["Identity"]))]
            return [dict(u) for u in self.users]
        if cmdlet == "Move-CsLegacyUser":
            user = self._find(params["Identity"])
            user["RegistrarPool"] = params["Target"]
            return [dict(user)] if params.get("PassThru") else []
        if cmdlet == "Get-Service":
            return [{"Status": "Running", "Name": "RTCSRV", "DisplayName": "Lync Server Front-End"}]
        raise PSError(f"engine double has no {cmdlet}", "Double", exception="System.NotImplementedException")


@pytest.fixture
def engine_double(monkeypatch):
    double = EngineDouble()
    monkeypatch.setattr(engine, "invoke", double.invoke)
    monkeypatch.setattr(engine, "server_has", double.server_has)
    monkeypatch.setattr(engine, "record_rejected", double.record_rejected)
    return double


@pytest.fixture
def host(engine_double):
    lab = SimpleNamespace(latency=CountingLatency())
    server = ServerInfo(fqdn="fe01.contoso.net", role="lync_frontend", pool="pool02.contoso.net")
    return HostRuntime(lab, server)


SESSION = SessionInfo(user="CONTOSO\\lyncadmin", auth="ntlm", codepage=65001)


def encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


def run(host, command_line: str, stdin: bytes = b"") -> tuple[int, Sink]:
    sink = Sink()
    code = host.run(SESSION, command_line, Stdin(stdin), sink)
    return code, sink


def ps(host, script: str, stdin: bytes = b"") -> tuple[int, Sink]:
    """What `lync-lab shell` and admins send: powershell -NoProfile -NonInteractive -EncodedCommand <script>."""
    return run(host, f"powershell.exe -NoProfile -NonInteractive -EncodedCommand {encoded(script)}", stdin)
