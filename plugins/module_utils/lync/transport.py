# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WinRM transport (pywinrm): the protocol and its authenticated connection, requests sent once or re-sent
when safe, shells opened, deleted and reclaimed under MaxShellsPerUser, the host's quotas. What runs in a shell
is session.py's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time
import xml.etree.ElementTree as ET

from .retry import REQUEST_RETRIES, REQUEST_RETRY_BASE, REQUEST_RETRY_CAP, backoff_delay
from .shells import (
    CMD_RESOURCE_URI,
    MAX_ENUMERATION_PULLS,
    SHELLS,
    STALE_SHELL_MIN_SECONDS,
    enumeration_action,
    enumeration_body,
    parse_shell_page,
    same_account,
)
from .transport_errors import (
    MAX_SHELLS_FAULT_CODE,
    SHELL_NOT_FOUND_FAULT_CODES,
    TransportFault,
    classify_transport_error,
    winrm_api,
)

# A Send must fit the host's MaxEnvelopeSizekb: 150 KB on WinRM 2.0 (Windows Server 2003/2008/2008 R2 without
# WMF 3.0, win32 WinRM/installation-and-configuration-for-windows-remote-management.md), 500 KB on WinRM 3.0; a
# bigger request gets HTTP 413. The base64 text inside a Send is 4/3 of the bytes, plus the SOAP header: the
# chunk is sized from the host's value when read (read_quotas), from 150 KB until then.
DEFAULT_MAX_ENVELOPE_KB = 150
SEND_ENVELOPE_OVERHEAD = 8 * 1024
UTF8_CODEPAGE = 65001
# WS-Transfer Get of the WinRM configuration, as `winrm get winrm/config` reads it (MS-WSMV configuration schemas).
ACTION_GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
CONFIG_URI = "http://schemas.microsoft.com/wbem/wsman/1/config"
QUOTA_NAMES = ("MaxEnvelopeSizekb", "MaxTimeoutms", "MaxShellsPerUser", "MaxMemoryPerShellMB", "MaxConcurrentUsers",
               "MaxProcessesPerShell", "IdleTimeout", "MaxConcurrentOperationsPerUser")


class WinRMTransport:
    """One pywinrm Protocol plus the shells it opened, the base of session.WinRMSession. Thread safety: one
    shell per thread at a time.

    Requests that are safe to repeat are re-sent here (``_request``, retry.py's layer 1), at most REQUEST_RETRIES
    times each, after a transient fault: a Receive is polled again on the same command, Signal/Delete are
    idempotent (a Delete or Signal of a shell or command the server no longer has is success), a Create refused
    by the server is sent again, and a Command is re-sent for read-only requests. ``_step`` sends a request once
    (a Command of a write request, every Send to a worker: the caller decides, knowing which calls are changes).
    After a broken connection the transport session is rebuilt, since NTLM/Kerberos/CredSSP authenticate the
    connection."""

    def __init__(self, options, protocol_factory=None, sleep=None, rng=None, registry=None):
        self.options = options
        self._protocol_factory = protocol_factory
        self._protocol = None
        self._sleep = sleep or time.sleep
        self._rng = rng or random.random
        self.registry = registry or SHELLS
        # Request-level re-sends and shells reclaimed, for the caller's report.
        self.request_retries = 0
        self.shells_reclaimed = 0

    @property
    def protocol(self):
        if self._protocol is None:
            if self._protocol_factory is not None:
                self._protocol = self._protocol_factory(self.options)
            else:
                self._protocol = self._make_protocol()
        return self._protocol

    @property
    def _registry_key(self):
        return (self.options.endpoint, (self.options.username or "").lower())

    def _make_protocol(self):
        Protocol = winrm_api()[0]
        o = self.options
        if o.server_cert_validation == "ignore":
            import warnings
            warnings.filterwarnings("ignore", message="Unverified HTTPS request")
        kwargs = dict(
            endpoint=o.endpoint,
            transport="basic" if o.transport == "basic" else o.transport,
            username=o.username,
            password=o.password,
            server_cert_validation=o.server_cert_validation,
            read_timeout_sec=o.read_timeout,
            operation_timeout_sec=o.operation_timeout,
            kerberos_delegation=o.kerberos_delegation,
            message_encryption=o.message_encryption,
        )
        if o.ca_trust_path:
            kwargs["ca_trust_path"] = o.ca_trust_path
        return Protocol(**kwargs)

    def _reconnect(self):
        """Drop the HTTP session so the next request opens a connection and authenticates it again."""
        transport = getattr(self.protocol, "transport", None)
        close = getattr(transport, "close_session", None)
        if close is not None:
            try:
                close()
            except Exception:
                pass

    def _backoff(self, attempt):
        self._sleep(backoff_delay(attempt, REQUEST_RETRY_BASE, REQUEST_RETRY_CAP, self._rng))

    def _step(self, phase, func, *args, **kwargs):
        """One request, not repeated: a failure is mapped to TransportFault (the connection reset if broken)."""
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # mapped to TransportFault when it is a transport problem
            fault = classify_transport_error(exc, phase)
            if fault is None:
                raise
            if fault.reconnect:
                self._reconnect()
            raise fault

    def _request(self, phase, func, *args, **kwargs):
        """One request that is safe to repeat: re-sent after transient faults (not quota faults, which need
        shells closed first), at most REQUEST_RETRIES times, with jittered exponential backoff."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._step(phase, func, *args, **kwargs)
            except TransportFault as fault:
                if not fault.transient or fault.quota or attempt > REQUEST_RETRIES:
                    raise
                self.request_retries += 1
                self._backoff(attempt)

    # -- the host's quotas -------------------------------------------------------------------------------
    def read_quotas(self):
        """The host's WinRM quotas (MaxShellsPerUser, MaxEnvelopeSizekb, IdleTimeout, ...) from a WS-Man Get of
        winrm/config, read once per endpoint and account in this process; {} when the host refuses (reading the
        configuration needs the listener's read permission) or answers something else."""
        key = self._registry_key
        known = self.registry.quotas(key)
        if known is not None:
            return known
        import xmltodict

        quotas = {}
        try:
            envelope = self.protocol.build_wsman_header(action=ACTION_GET, resource_uri=CONFIG_URI)
            answer = self._request("get", self.protocol.send_message, xmltodict.unparse({"env:Envelope": envelope}))
            for node in ET.fromstring(answer).iter():
                name = node.tag.rsplit("}", 1)[-1]
                if name in QUOTA_NAMES and (node.text or "").strip().isdigit():
                    quotas[name] = int(node.text.strip())
        except (TransportFault, ET.ParseError):
            quotas = {}
        self.registry.set_quotas(key, quotas)
        return quotas

    @property
    def stdin_chunk_bytes(self):
        """Raw bytes per Send so that the Send envelope stays within the host's MaxEnvelopeSizekb."""
        quotas = self.registry.quotas(self._registry_key) or {}
        limit = quotas.get("MaxEnvelopeSizekb") or DEFAULT_MAX_ENVELOPE_KB
        return max(4096, (limit * 1024 - SEND_ENVELOPE_OVERHEAD) * 3 // 4)

    # -- shells -------------------------------------------------------------------------------------------
    def open_shell(self):
        """Create a shell. On MaxShellsPerUser, reclaim this account's orphaned shells and try again."""
        for orphan in self.registry.orphans(self._registry_key):
            self.close_shell(orphan)   # a Delete that failed earlier: try it again before taking a slot
        attempt = 0
        while True:
            attempt += 1
            try:
                shell_id = self._request("create", self.protocol.open_shell, codepage=UTF8_CODEPAGE, noprofile=True)
            except TransportFault as fault:
                if not fault.quota or attempt > REQUEST_RETRIES:
                    raise
                if fault.wsman_code == MAX_SHELLS_FAULT_CODE:
                    # What the host allows is at most what this process holds there now.
                    self.registry.learn_max_shells(self._registry_key, len(self.registry.live(self._registry_key)))
                if fault.wsman_code in (None, MAX_SHELLS_FAULT_CODE):
                    self.reclaim_shells()
                self.request_retries += 1
                self._backoff(attempt)
                continue
            self.registry.opened(self._registry_key, shell_id)
            return shell_id

    def close_shell(self, shell_id):
        """Delete the shell (idempotent: a shell the server no longer has counts as closed). Returns True when
        it is closed; when every try failed it is remembered as an orphan for reclaim_shells."""
        try:
            self._delete_shell(shell_id)
        except TransportFault:
            self.registry.orphaned(self._registry_key, shell_id)
            return False
        self.registry.closed(self._registry_key, shell_id)
        return True

    def _delete_shell(self, shell_id):
        try:
            # close_session=False keeps the authenticated connection for the next shell of this session.
            self._request("close", self._close_request, shell_id)
        except TransportFault as fault:
            if fault.wsman_code not in SHELL_NOT_FOUND_FAULT_CODES:
                raise

    def _close_request(self, shell_id):
        try:
            return self.protocol.close_shell(shell_id, close_session=False)
        except TypeError:  # a Protocol without the close_session argument
            return self.protocol.close_shell(shell_id)

    def close(self):
        """Close the HTTP session (its connections); shells must have been closed before."""
        if self._protocol is not None:
            self._reconnect()

    def list_shells(self):
        """This account's shells on the server (WS-Man Enumerate on the cmd shell resource, as ``winrs`` and
        Get-WSManInstance -Enumerate do): dicts with ShellId, Owner, ClientIP, ShellInactivity (seconds or
        None). pywinrm has no enumerate call, so the messages are built with its header builder."""
        import xmltodict

        items, context = self._enumerate_page(xmltodict, None)
        pulls = 0
        while context is not None and pulls < MAX_ENUMERATION_PULLS:
            pulls += 1
            more, context = self._enumerate_page(xmltodict, context)
            items.extend(more)
        return items

    def _enumerate_page(self, xmltodict, context):
        envelope = self.protocol.build_wsman_header(action=enumeration_action(context), resource_uri=CMD_RESOURCE_URI)
        envelope["env:Body"] = enumeration_body(context)
        message = xmltodict.unparse({"env:Envelope": envelope})
        return parse_shell_page(self._request("enumerate", self.protocol.send_message, message))

    def reclaim_shells(self):
        """Free room under MaxShellsPerUser: delete the shells whose Delete failed earlier in this process,
        then, from the server's list of this account's shells, those no thread here uses that have been
        idle at least STALE_SHELL_MIN_SECONDS (and twice the read timeout). Returns how many were deleted."""
        key = self._registry_key
        reclaimed = 0
        for shell_id in self.registry.orphans(key):
            if self.close_shell(shell_id):
                reclaimed += 1
        try:
            listed = self.list_shells()
        except TransportFault:
            listed = []  # a server that does not enumerate shells: the orphans we knew of are all we can do
        stale_after = max(STALE_SHELL_MIN_SECONDS, 2 * self.options.read_timeout)
        live = self.registry.live(key)
        for shell in listed:
            idle = shell["ShellInactivity"]
            if (shell["ShellId"] and shell["ShellId"] not in live and idle is not None and idle >= stale_after
                    and (not shell["Owner"] or same_account(shell["Owner"], self.options.username))):
                try:
                    self._delete_shell(shell["ShellId"])
                except TransportFault:
                    continue
                reclaimed += 1
        self.shells_reclaimed += reclaimed
        return reclaimed
