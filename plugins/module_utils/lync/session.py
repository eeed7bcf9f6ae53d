# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WinRM session: connection options, their validation, and one envelope run on one shell (pywinrm)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import re
import threading
import time
import xml.etree.ElementTree as ET

from .envelope import (
    CmdletError,
    EnvelopeFatal,
    EnvelopeProtocolError,
    ResponseParser,
    command_line,
    decode_request,
)

# A Send must fit the host's MaxEnvelopeSizekb: 150 KB on WinRM 2.0 (Windows Server 2003/2008/2008 R2 without
# WMF 3.0, win32 WinRM/installation-and-configuration-for-windows-remote-management.md), 500 KB on WinRM 3.0; a
# bigger request gets HTTP 413. The base64 text inside a Send is 4/3 of the bytes, plus the SOAP header: the
# chunk is sized from the host's value when read (read_quotas), from 150 KB until then.
DEFAULT_MAX_ENVELOPE_KB = 150
SEND_ENVELOPE_OVERHEAD = 8 * 1024
UTF8_CODEPAGE = 65001
# Per-user and per-service quota faults (wsmerror.h): ERROR_WSMAN_QUOTA_MAX_SHELLS 0x803381A5 (MaxShellsPerUser),
# _MAX_OPERATIONS 0x803381A6 (MaxConcurrentOperationsPerUser), _USER 0x803381A7 and _SYSTEM 0x803381A8 (load),
# _MAX_SHELLUSERS 0x803381AB (MaxConcurrentUsers).
QUOTA_FAULT_CODES = frozenset([2150859173, 2150859174, 2150859175, 2150859176, 2150859179])
MAX_SHELLS_FAULT_CODE = 2150859173
# The shell a request names is not on the server: unknown, deleted, or deleted by the service after IdleTimeout
# (WinRM 2.0: 180 s by default). For a Delete or Signal that is success; for a Command nothing ran.
SHELL_NOT_FOUND_FAULT_CODE = 2150858843
# The shell or command a Delete/Signal names is gone already: for those two requests that is success.
SHELL_NOT_FOUND_FAULT_CODES = frozenset([SHELL_NOT_FOUND_FAULT_CODE, 2150858810])
# WS-Transfer Get of the WinRM configuration, as `winrm get winrm/config` reads it (MS-WSMV configuration schemas).
ACTION_GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
CONFIG_URI = "http://schemas.microsoft.com/wbem/wsman/1/config"
QUOTA_NAMES = ("MaxEnvelopeSizekb", "MaxTimeoutms", "MaxShellsPerUser", "MaxMemoryPerShellMB", "MaxConcurrentUsers",
               "MaxProcessesPerShell", "IdleTimeout", "MaxConcurrentOperationsPerUser")
# What .NET writes when an allocation fails (System.OutOfMemoryException), as a process ended by its job's memory
# limit (MaxMemoryPerShellMB) reports it.
OUT_OF_MEMORY = "OutOfMemoryException"

# Re-sends of one WinRM request that is safe to repeat (a Create the server refused, a Receive re-poll, Send,
# Signal, Delete, and a Command of a read-only envelope) after a transient fault. Fixed and small; the
# connection_retries option counts whole envelopes on top of this.
REQUEST_RETRIES = 4
REQUEST_RETRY_BASE = 0.1
REQUEST_RETRY_CAP = 2.0
# A shell of ours that has been idle this long (WS-Man ShellInactivity) while no thread of this process uses it
# is an orphan (its Delete was lost, or the process that opened it was killed): MaxShellsPerUser recovery
# deletes it. Commands in use are polled at least every operation_timeout, so live shells never get near it.
STALE_SHELL_MIN_SECONDS = 60

CMD_RESOURCE_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
ENUMERATION_NS = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
WSMAN_NS = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
SHELL_NS = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
ACTION_ENUMERATE = ENUMERATION_NS + "/Enumerate"
ACTION_PULL = ENUMERATION_NS + "/Pull"
# Bounds one enumeration (pages of MAX_ENUMERATION_ELEMENTS); a user has at most MaxShellsPerUser shells.
MAX_ENUMERATION_ELEMENTS = 100
MAX_ENUMERATION_PULLS = 20

# The connection options, once: each option's argument spec and the inventory variables that fill it (the
# first one set wins) when a task addresses a WinRM host. The modules' argument spec (module.py), ConnectionOptions'
# defaults and the action plugin's host-variable map are derived from it; tests check that the doc fragment
# (plugins/doc_fragments/connection.py) says the same.
CONNECTION_OPTIONS = (
    ("server", dict(type="str"), ("ansible_host",)),
    ("port", dict(type="int"), ("ansible_port", "ansible_winrm_port")),
    ("scheme", dict(type="str", choices=["http", "https"], default="https"), ("ansible_winrm_scheme",)),
    ("username", dict(type="str"), ("ansible_user", "ansible_winrm_user")),
    ("password", dict(type="str", no_log=True), ("ansible_password", "ansible_winrm_password")),
    ("transport", dict(type="str", choices=["ntlm", "kerberos", "credssp", "basic"], default="ntlm"),
     ("ansible_winrm_transport",)),
    ("server_cert_validation", dict(type="str", choices=["validate", "ignore"], default="validate"),
     ("ansible_winrm_server_cert_validation",)),
    ("ca_trust_path", dict(type="path"), ("ansible_winrm_ca_trust_path",)),
    ("operation_timeout", dict(type="int", default=20), ("ansible_winrm_operation_timeout_sec",)),
    ("read_timeout", dict(type="int", default=30), ("ansible_winrm_read_timeout_sec",)),
    ("allow_basic_over_http", dict(type="bool", default=False), ()),
    ("kerberos_delegation", dict(type="bool", default=False), ("ansible_winrm_kerberos_delegation",)),
    ("message_encryption", dict(type="str", choices=["auto", "always", "never"], default="auto"),
     ("ansible_winrm_message_encryption",)),
    ("cmdlet_credential", dict(type="bool", default=False), ()),
    ("connection_retries", dict(type="int", default=3), ()),
)
CONNECTION_OPTION_NAMES = tuple(name for name, _spec, _hostvars in CONNECTION_OPTIONS)
CONNECTION_ARGUMENT_SPEC = dict((name, spec) for name, spec, _hostvars in CONNECTION_OPTIONS)
# option -> inventory variables, for the action plugin
HOSTVAR_OPTIONS = tuple((name, hostvars) for name, _spec, hostvars in CONNECTION_OPTIONS if hostvars)


class ConnectionOptionError(ValueError):
    """A connection option is wrong; ``option`` names it and the message says the fix."""

    def __init__(self, option, message):
        super(ConnectionOptionError, self).__init__(message)
        self.option = option


class ConnectionOptions:
    """Validated connection settings (plain values; the password is kept out of repr)."""

    def __init__(self, **values):
        unknown = sorted(set(values) - set(CONNECTION_OPTION_NAMES))
        if unknown:
            raise TypeError("unknown connection options: %s" % ", ".join(unknown))
        for name, spec, _hostvars in CONNECTION_OPTIONS:   # unset (None) options take the spec's default
            value = values.get(name)
            setattr(self, name, spec.get("default") if value is None else value)
        self.port = self.port or (5986 if self.scheme == "https" else 5985)
        for name in ("allow_basic_over_http", "kerberos_delegation", "cmdlet_credential"):
            setattr(self, name, bool(getattr(self, name)))
        self.validate()

    @classmethod
    def from_params(cls, params):
        return cls(**dict((name, params.get(name)) for name in CONNECTION_OPTION_NAMES))

    def validate(self):
        if not self.server:
            raise ConnectionOptionError(
                "server", "server is required: target an inventory host (its ansible_host is used) or set server "
                          "(for example with module_defaults for group/lync.migration.lync)")
        if self.scheme not in ("http", "https"):
            raise ConnectionOptionError("scheme", "scheme must be http or https, got %r" % (self.scheme,))
        if self.transport not in ("ntlm", "kerberos", "credssp", "basic"):
            raise ConnectionOptionError(
                "transport", "transport must be one of ntlm, kerberos, credssp, basic, got %r" % (self.transport,))
        if self.transport == "basic" and self.scheme == "http" and not self.allow_basic_over_http:
            raise ConnectionOptionError(
                "transport", "transport=basic over scheme=http would send the password in clear text: use "
                             "scheme=https, or transport=ntlm (encrypted over http), or set "
                             "allow_basic_over_http=true on an isolated test network")
        if self.transport != "kerberos" and not (self.username and self.password is not None):
            raise ConnectionOptionError(
                "username", "transport=%s needs username and password (ansible_user/ansible_password on the "
                            "host, or the username/password options)" % self.transport)
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise ConnectionOptionError("port", "port must be between 1 and 65535, got %r" % (self.port,))
        if self.operation_timeout < 1:
            raise ConnectionOptionError("operation_timeout", "operation_timeout must be at least 1 second")
        if self.read_timeout <= self.operation_timeout:
            raise ConnectionOptionError(
                "read_timeout", "read_timeout (%d) must be greater than operation_timeout (%d): the server may hold "
                                "a Receive for the whole operation timeout; for example read_timeout=%d"
                                % (self.read_timeout, self.operation_timeout, self.operation_timeout + 10))
        if self.server_cert_validation not in ("validate", "ignore"):
            raise ConnectionOptionError(
                "server_cert_validation", "server_cert_validation must be validate or ignore")
        if self.message_encryption not in ("auto", "always", "never"):
            raise ConnectionOptionError("message_encryption", "message_encryption must be auto, always or never")
        if self.message_encryption == "never" and self.scheme == "http" and self.transport != "basic":
            raise ConnectionOptionError(
                "message_encryption", "message_encryption=never over http would expose every request: use "
                                      "scheme=https or message_encryption=auto")
        if self.connection_retries < 0 or self.connection_retries > 10:
            raise ConnectionOptionError("connection_retries", "connection_retries must be between 0 and 10")
        if self.cmdlet_credential and not (self.username and self.password):
            raise ConnectionOptionError(
                "cmdlet_credential", "cmdlet_credential=true needs username and password to build -Credential")

    @property
    def endpoint(self):
        return "%s://%s:%d/wsman" % (self.scheme, self.server, self.port)

    @property
    def credential(self):
        """(username, password) for -Credential when cmdlet_credential is on, else None."""
        if self.cmdlet_credential:
            return (self.username, self.password)
        return None

    def __repr__(self):
        return "ConnectionOptions(endpoint=%r, transport=%r, username=%r)" % (
            self.endpoint, self.transport, self.username)


def _winrm():
    try:
        import winrm  # noqa: F401  (pywinrm)
        from winrm.protocol import Protocol
        from winrm import exceptions as winrm_exceptions
    except ImportError:
        raise ImportError("the lync.migration modules need pywinrm on the controller: pip install pywinrm[credssp]")
    return Protocol, winrm_exceptions


class TransportFault(Exception):
    """A WinRM/HTTP failure. ``transient``: worth retrying. ``sent``: the command may have started.
    ``quota``: a per-user shell or operation quota was hit (close shells, then retry). ``reconnect``: the
    connection broke, so its authentication (NTLM, Kerberos, CredSSP bind to the connection) must be redone.
    ``wsman_code``: the WSManFault code when the server sent one."""

    def __init__(self, message, transient, sent=False, quota=False, phase="", reconnect=False, wsman_code=None,
                 shell_lost=False, out_of_memory=False):
        super(TransportFault, self).__init__(message)
        self.out_of_memory = out_of_memory
        self.message = message
        self.transient = transient
        self.sent = sent
        self.quota = quota
        self.phase = phase
        self.reconnect = reconnect
        self.wsman_code = wsman_code
        # The shell is no longer on the server (deleted after IdleTimeout, or by an administrator): a new shell
        # is needed; on a Command nothing ran.
        self.shell_lost = shell_lost


def classify_transport_error(exc, phase):
    """Map a pywinrm/requests exception raised during ``phase`` (create|command|send|receive|close)."""
    wx = _winrm()[1]
    import requests

    sent = phase in ("send", "receive")
    if isinstance(exc, wx.WinRMOperationTimeoutError):
        # On Receive it only means "no output yet"; callers poll again and never get here for that.
        return TransportFault("WinRM operation timeout during %s" % phase, transient=True, sent=sent, phase=phase)
    if isinstance(exc, wx.InvalidCredentialsError) or isinstance(exc, wx.AuthenticationError):
        return TransportFault("authentication failed: %s" % exc, transient=False, sent=False, phase=phase)
    if isinstance(exc, wx.WSManFaultError) and exc.wsman_fault_code == SHELL_NOT_FOUND_FAULT_CODE \
            and phase in ("command", "send", "receive"):
        # Refused before anything started when it answers a Command; on a Send or Receive the command was
        # running in the shell that is gone, so what it did is not known.
        return TransportFault("the WinRM shell is gone from the server (deleted after its IdleTimeout, or by "
                              "someone else) during %s" % phase, transient=True, sent=phase != "command",
                              phase=phase, wsman_code=exc.wsman_fault_code, shell_lost=True)
    if isinstance(exc, wx.WSManFaultError):
        quota = exc.wsman_fault_code in QUOTA_FAULT_CODES or (exc.fault_subcode or "").endswith("QuotaLimit")
        # InternalError is the service failing the request ("Retry the request."), as busy servers do.
        internal = (exc.fault_subcode or "").endswith("InternalError")
        return TransportFault("WinRM fault during %s: %s" % (phase, exc.reason), transient=quota or internal,
                              sent=sent, quota=quota, phase=phase, wsman_code=exc.wsman_fault_code)
    if isinstance(exc, wx.WinRMTransportError):
        code = exc.code
        if code == 401:
            return TransportFault("authentication failed (HTTP 401): check username, password and transport",
                                  transient=False, phase=phase)
        if code == 413:
            # The WinRM service refuses a request larger than its MaxEnvelopeSizekb with HTTP 413.
            return TransportFault("HTTP 413 from the WinRM service during %s: the request is larger than the "
                                  "host's MaxEnvelopeSizekb" % phase, transient=False, sent=sent, phase=phase)
        return TransportFault("HTTP %s from the WinRM service during %s" % (code, phase),
                              transient=500 <= int(code) < 600, sent=sent, phase=phase)
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportFault("TLS error: %s (check server_cert_validation and ca_trust_path)" % exc,
                              transient=False, phase=phase)
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        text = str(exc)
        # Refused before anything was sent means the service is not there: not worth retrying at the
        # first call (wrong port), but once a shell was created it is a restart or a load balancer blip.
        refused = "refused" in text.lower()
        transient = not (refused and phase == "create")
        return TransportFault("connection to the WinRM service failed during %s: %s" % (phase, text),
                              transient=transient, sent=sent, phase=phase, reconnect=True)
    if isinstance(exc, wx.WinRMError):
        return TransportFault("WinRM error during %s: %s" % (phase, exc), transient=False, sent=sent, phase=phase)
    return None


class ShellRegistry:
    """The shells this process holds per (endpoint, user): ``live`` ones some thread uses, and ``orphans`` whose
    Delete failed. MaxShellsPerUser recovery deletes orphans first and never touches a live shell. Also what is
    known of each endpoint's quotas: read from winrm/config, or learnt from a MaxShellsPerUser fault. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._live = {}
        self._orphans = {}
        self._quotas = {}
        self._learnt_max_shells = {}

    def quotas(self, key):
        """The quotas read for ``key`` (a dict, {} when the host would not tell), or None when never asked."""
        with self._lock:
            return self._quotas.get(key)

    def set_quotas(self, key, quotas):
        with self._lock:
            self._quotas[key] = dict(quotas)

    def learn_max_shells(self, key, holding):
        """A Create was refused for MaxShellsPerUser while this process held ``holding`` shells on ``key``."""
        if holding < 1:
            return
        with self._lock:
            known = self._learnt_max_shells.get(key)
            self._learnt_max_shells[key] = holding if known is None else min(known, holding)

    def max_shells(self, key):
        """The most shells ``key`` allows as far as known (winrm/config or a quota fault), or None."""
        with self._lock:
            configured = (self._quotas.get(key) or {}).get("MaxShellsPerUser")
            learnt = self._learnt_max_shells.get(key)
        known = [v for v in (configured, learnt) if v]
        return min(known) if known else None

    def opened(self, key, shell_id):
        with self._lock:
            self._live.setdefault(key, set()).add(shell_id)

    def closed(self, key, shell_id):
        with self._lock:
            self._live.get(key, set()).discard(shell_id)
            self._orphans.get(key, set()).discard(shell_id)

    def orphaned(self, key, shell_id):
        with self._lock:
            self._live.get(key, set()).discard(shell_id)
            self._orphans.setdefault(key, set()).add(shell_id)

    def live(self, key):
        with self._lock:
            return set(self._live.get(key, ()))

    def orphans(self, key):
        with self._lock:
            return set(self._orphans.get(key, ()))


SHELLS = ShellRegistry()


def _same_account(owner, username):
    """Whether a shell's Owner (``DOMAIN\\user`` as Windows shows it) is the account ``username`` names
    (``DOMAIN\\user``, ``user@domain`` or ``user``)."""
    def bare(name):
        name = (name or "").strip().lower()
        return name.split("\\")[-1].split("@")[0]
    return bool(owner) and bool(username) and bare(owner) == bare(username)


def _duration_seconds(text):
    """xs:duration (PT12.000S, P0DT0H1M5S) in seconds; None when absent or unreadable."""
    m = re.match(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", (text or "").strip())
    if not m or not (text or "").strip():
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


class WinRMSession:
    """One pywinrm Protocol plus the shells it opened. Thread safety: one shell per thread at a time.

    Requests that are safe to repeat are re-sent here, at most REQUEST_RETRIES times each, after a transient
    fault: a Receive is polled again on the same command, Send/Signal/Delete are idempotent (a Delete or Signal
    of a shell or command the server no longer has is success), a Create refused by the server is sent again,
    and a Command is re-sent for read-only envelopes. A Command of a write envelope whose answer was lost is
    not re-sent here: the caller decides, knowing which calls are changes. After a broken connection the
    transport session is rebuilt, since NTLM/Kerberos/CredSSP authenticate the connection."""

    def __init__(self, options, protocol_factory=None, sleep=None, rng=None, registry=None):
        self.options = options
        self._protocol_factory = protocol_factory
        self._protocol = None
        # Seconds to wait after a Receive that brought output before the next one, so that several result
        # lines come back in one round trip (each costs the controller about a millisecond of CPU for HTTP,
        # NTLM sealing and XML). The caller sets it from how fast lines arrive; 0 polls at once.
        self.receive_pause = 0.0
        self._sleep = sleep or time.sleep
        self._rng = rng or random.random
        self.registry = registry or SHELLS
        # Request-level re-sends and shells reclaimed, for the caller's report.
        self.request_retries = 0
        self.shells_reclaimed = 0
        # Lines PowerShell wrote besides the envelope's (host-UI writes), for the module's result.
        self.host_output = []

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
        Protocol = _winrm()[0]
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
        self._sleep(min(REQUEST_RETRY_CAP, REQUEST_RETRY_BASE * (2 ** (attempt - 1))) * self._rng())

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
        action = ACTION_ENUMERATE if context is None else ACTION_PULL
        envelope = self.protocol.build_wsman_header(action=action, resource_uri=CMD_RESOURCE_URI)
        if context is None:
            body = {"n:Enumerate": {"w:OptimizeEnumeration": None,
                                    "w:MaxElements": str(MAX_ENUMERATION_ELEMENTS)}}
        else:
            body = {"n:Pull": {"n:EnumerationContext": context, "n:MaxElements": str(MAX_ENUMERATION_ELEMENTS)}}
        envelope["env:Body"] = body
        message = xmltodict.unparse({"env:Envelope": envelope})
        root = ET.fromstring(self._request("enumerate", self.protocol.send_message, message))
        items = []
        for shell in root.iter("{%s}Shell" % SHELL_NS):
            def text(name, shell=shell):
                node = shell.find("{%s}%s" % (SHELL_NS, name))
                return (node.text or "").strip() if node is not None else ""
            items.append({"ShellId": text("ShellId"), "Owner": text("Owner"), "ClientIP": text("ClientIP"),
                          "ShellInactivity": _duration_seconds(text("ShellInactivity"))})
        end = any(node is not None for ns in (ENUMERATION_NS, WSMAN_NS)
                  for node in root.iter("{%s}EndOfSequence" % ns))
        next_context = None
        if not end:
            node = next(root.iter("{%s}EnumerationContext" % ENUMERATION_NS), None)
            next_context = (node.text or "").strip() if node is not None else None
        return items, next_context or None

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
                    and (not shell["Owner"] or _same_account(shell["Owner"], self.options.username))):
                try:
                    self._delete_shell(shell["ShellId"])
                except TransportFault:
                    continue
                reclaimed += 1
        self.shells_reclaimed += reclaimed
        return reclaimed

    # -- one envelope -------------------------------------------------------------------------------------
    def run_envelope(self, shell_id, calls, stdin_bytes, on_result=None):
        """Run the envelope once on ``shell_id`` with the encoded request; returns the ResponseParser.

        ``on_result(index, CallResult)`` is called as each line arrives. Raises TransportFault (with
        ``parser`` attached when the command was sent), EnvelopeFatal or EnvelopeProtocolError.
        """
        exe, args = command_line()
        parser = ResponseParser(calls)
        # The request travels on stdin, so a command started twice runs nothing twice until its Send; still,
        # a lost Command answer of a write envelope goes back to the caller (phase "command").
        read_only = bool(calls) and all(getattr(c, "read_only", False) for c in calls)
        start = self._request if read_only else self._step
        command_id = start("command", self.protocol.run_command, shell_id, exe, args,
                           console_mode_stdin=False, skip_cmd_shell=False)
        try:
            try:
                step = self.stdin_chunk_bytes
                for offset in range(0, len(stdin_bytes), step):
                    chunk = stdin_bytes[offset:offset + step]
                    last = offset + step >= len(stdin_bytes)
                    # A Send refused before handling is safe to repeat; a duplicated chunk would only make the
                    # request unreadable, and the envelope reads the whole request before running any call.
                    self._request("send", self.protocol.send_command_input, shell_id, command_id, chunk, end=last)
                stderr, exit_code = self._receive(shell_id, command_id, parser, on_result)
            except TransportFault as fault:
                fault.parser = parser
                raise
            except EnvelopeFatal as fatal:
                raise explain_fatal(fatal, self.options.server, decode_request(stdin_bytes).get("min_ps"))
            for index, result in (e[1] for e in parser.finish() if e[0] == "result"):
                if on_result:
                    on_result(index, result)
            self.host_output.extend(parser.host_output)
            if not parser.done:
                detail = _clixml_message(stderr) or ("exit code %s" % exit_code)
                if parser.ready is None and exit_code not in (0, None) and stderr.strip():
                    # PowerShell refused the script before its first line ran (too old to parse it, no .NET 3.5
                    # for its JSON reader): the same on every attempt, and no call ran.
                    raise EnvelopeFatal(CmdletError(
                        "powershell.exe on %s could not run the envelope (exit code %s): %s\nThe host needs Windows "
                        "PowerShell 2.0 or later with .NET Framework 3.5 SP1 (docs/hosts.md)."
                        % (self.options.server, exit_code, detail), fqid="EnvelopeDidNotStart",
                        category="NotInstalled"))
                if OUT_OF_MEMORY in detail:
                    # The shell's memory quota ended PowerShell (MaxMemoryPerShellMB; 150 MB on a WMF 3.0 host
                    # without KB2842230): the same calls sent again need the same memory.
                    raise EnvelopeProtocolError(
                        "PowerShell on %s ran out of memory under the host's WinRM shell memory quota "
                        "(MaxMemoryPerShellMB; with WMF 3.0 on Windows Server 2008 R2 it is 150 MB until hotfix "
                        "KB2842230 is installed) while answering; read fewer objects per call: %s"
                        % (self.options.server, detail), parser, transient=False, out_of_memory=True)
                # Output ended early (process killed, envelope crashed): calls without a line are unknown.
                raise EnvelopeProtocolError("the envelope stopped before finishing: %s" % detail, parser)
            return parser
        finally:
            self._signal_terminate(shell_id, command_id)

    def _signal_terminate(self, shell_id, command_id):
        try:
            self._request("signal", self.protocol.cleanup_command, shell_id, command_id)
        except Exception:
            pass  # deleting the shell ends the command too

    def _poll_output(self, shell_id, command_id):
        """One Receive: (stdout, stderr, exit code, done), or None when the operation timeout passed with no
        output (the server is alive; poll again)."""
        try:
            return self.protocol.get_command_output_raw(shell_id, command_id)
        except _winrm()[1].WinRMOperationTimeoutError:
            return None

    def _receive(self, shell_id, command_id, parser, on_result):
        stderr = b""
        while True:
            # Re-polled on the same command after a transient fault (_request): a Receive the server refused
            # (HTTP 500, reset before it was handled) took no output. If instead its answer was lost, the missing
            # result lines make those calls "outcome unknown" (pywinrm sends no Receive SequenceId to detect it;
            # see docs/reliability.md).
            polled = self._request("receive", self._poll_output, shell_id, command_id)
            if polled is None:
                continue
            stdout, err, exit_code, done = polled
            stderr += err
            for kind, payload in parser.feed(stdout):
                if kind == "result" and on_result:
                    on_result(payload[0], payload[1])
            if done:
                return stderr, exit_code
            if stdout and self.receive_pause > 0:
                self._sleep(self.receive_pause)


# What a host whose PowerShell is too old for a task needs, by the version the request asked for.
POWERSHELL_FIX = {
    "3.0": "install Windows Management Framework 3.0 or later on it (Lync Server 2013 requires WMF 3.0 on Windows "
           "Server 2008 R2 SP1; Windows Server 2012 and 2012 R2 have PowerShell 3.0 and 4.0)",
}


def explain_fatal(fatal, server, needed=None):
    """The envelope's fatal error with the host named; a too-old PowerShell (older than ``needed``, the request's
    min_ps) says what to install."""
    error = fatal.error
    if error.fqid == "PowerShellVersionTooOld":
        host = "%s (%s)" % (server, fatal.computer) if fatal.computer else server
        message = ("%s runs Windows PowerShell %s; this task's cmdlets (the Lync Server Management Shell) need %s or "
                   "later: %s. Nothing was run on it (docs/hosts.md)."
                   % (host, fatal.ps or error.target, needed, POWERSHELL_FIX.get(needed, "upgrade its PowerShell")))
        error = CmdletError(message, fqid=error.fqid, category=error.category, target=error.target)
    return EnvelopeFatal(error, ps=fatal.ps, computer=fatal.computer)


def _clixml_message(stderr):
    """The readable text of PowerShell's CLIXML error stream (or plain stderr)."""
    text = stderr.decode("utf-8", errors="replace")
    if not text.strip():
        return ""
    if "<Objs" not in text:
        return text.strip()[:500]
    parts = re.findall(r'<S S="Error">(.*?)</S>', text, re.S)
    message = "".join(parts).replace("_x000D__x000A_", "\n").strip()
    return message[:500] if message else text.strip()[:500]


# The fqid of a call whose PowerShell ended under the shell's memory quota (MaxMemoryPerShellMB).
SHELL_OUT_OF_MEMORY = "ShellOutOfMemory"


def error_from_fault(fault, outcome_unknown=False):
    """A CmdletError standing in for calls that never got an answer because of ``fault``."""
    fqid = SHELL_OUT_OF_MEMORY if getattr(fault, "out_of_memory", False) else "WinRMTransportFault"
    return CmdletError(fault.message, fqid=fqid, category="ConnectionError",
                       transient=fault.transient, outcome_unknown=outcome_unknown)
