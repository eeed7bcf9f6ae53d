"""The Lab: one organisation's state plus one WinRM listener pair per modelled server.

The composition root: it wires the layers together, so it may import any of them, and no layer imports it (cli.py
starts it; the types the layers pass along, ServerInfo, SessionInfo and CmdletContext, are in lync_lab.context)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from .config import LabConfig
from .context import ServerInfo


class Lab:
    """Everything one running lab holds. Built by ``Lab.open(config)``."""

    def __init__(self, config: LabConfig) -> None:
        from .faults import FaultPlan
        from .latency import LatencyModel
        from .model.audit import AuditLog
        from .model.scenario import load_scenario
        from .model.store import Store

        self.config = config
        self.state_dir = Path(config.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.scenario = load_scenario(config.scenario)
        # --http-port/--https-port belong to the Lync admin host (the pilot pool's first Front End);
        # every other server keeps the ports its scenario gives it, shifted by --port-offset.
        admin = self.scenario.admin_server

        def _shift(port: int | None) -> int | None:
            return port + config.port_offset if port else port

        self.servers: list[ServerInfo] = [
            replace(s, http_port=config.http_port, https_port=config.https_port) if s is admin
            else replace(s, http_port=_shift(s.http_port), https_port=_shift(s.https_port))
            for s in self.scenario.servers
        ]
        db = self.state_dir / "state.sqlite"
        fresh = not (config.keep_state and db.exists())
        self.store = Store(db)
        if fresh:
            self.store.seed(self.scenario, config.stage)
        self.audit = AuditLog(self.state_dir / "audit.jsonl", truncate=fresh)
        # A lab killed between a change's commit and its audit line left the line pending in the store: append it
        # now, before anyone reads audit.jsonl, not at the first call after the restart.
        self.audit.prepare(self.store)
        self.latency = LatencyModel.from_option(config.latency, config.time_scale)
        self.faults = FaultPlan.parse(config.faults)
        self._runtimes: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._listeners: list[Any] = []

    # -- accounts -------------------------------------------------------------------------------
    def check_password(self, user: str, password: str) -> str | None:
        """The canonical DOMAIN\\user when user/password is a scenario account, else None."""
        return self.scenario.check_password(user, password)

    def ntlm_accounts(self) -> list[tuple[str, str, str]]:
        """(domain, user, password) for every account, for the NTLM acceptor."""
        return self.scenario.ntlm_accounts()

    # -- servers --------------------------------------------------------------------------------
    def server(self, fqdn: str) -> ServerInfo:
        for s in self.servers:
            if s.fqdn.lower() == fqdn.lower():
                return s
        raise KeyError(fqdn)

    def runtime_for(self, server: ServerInfo):
        from .powershell.runtime import HostRuntime

        with self._lock:
            rt = self._runtimes.get(server.fqdn)
            if rt is None:
                rt = self._runtimes[server.fqdn] = HostRuntime(self, server)
            return rt

    # -- serving --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start one HTTP and one HTTPS listener per server that has ports (threads; returns at once)."""
        from .winrm.certs import ensure_certificates
        from .winrm.listener import WinRMListener

        certs = ensure_certificates(self.state_dir, [s.fqdn for s in self.servers])
        for s in self.servers:
            if s.http_port:
                self._listeners.append(WinRMListener(self, s, self.config.listen, s.http_port, tls=None))
            if s.https_port:
                self._listeners.append(WinRMListener(self, s, self.config.listen, s.https_port, tls=certs))
        for listener in self._listeners:
            listener.start()
        if self.config.dns_port:
            from .dns import DNSServer

            self._dns = DNSServer(self, self.config.listen, self.config.dns_port)
            self._dns.start()

    def stop(self) -> None:
        for listener in self._listeners:
            listener.stop()
        self._listeners.clear()
        if getattr(self, "_dns", None) is not None:
            self._dns.stop()
            self._dns = None
        self.store.close()
