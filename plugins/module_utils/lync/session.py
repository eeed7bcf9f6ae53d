# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WinRM session: connection options, their validation, and one envelope run on one shell (pywinrm)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from .envelope import (
    CmdletError,
    EnvelopeProtocolError,
    ResponseParser,
    command_line,
)

# WinRM's default MaxEnvelopeSizekb is 500 KB; the base64 text inside a Send is 4/3 of the bytes plus SOAP
# framing, so 200 KB raw per Send stays well below it.
STDIN_CHUNK_BYTES = 200 * 1024
UTF8_CODEPAGE = 65001
# ERROR_WSMAN_QUOTA_MAX_SHELLS (0x803381A5) and the other per-user quota faults.
QUOTA_FAULT_CODES = frozenset([2150859173, 2150859174, 2150859180, 2150859181])

CONNECTION_OPTION_NAMES = (
    "server", "port", "scheme", "username", "password", "transport", "server_cert_validation", "ca_trust_path",
    "operation_timeout", "read_timeout", "allow_basic_over_http", "kerberos_delegation", "message_encryption",
    "cmdlet_credential", "connection_retries",
)


class ConnectionOptionError(ValueError):
    """A connection option is wrong; ``option`` names it and the message says the fix."""

    def __init__(self, option, message):
        super(ConnectionOptionError, self).__init__(message)
        self.option = option


class ConnectionOptions:
    """Validated connection settings (plain values; the password is kept out of repr)."""

    def __init__(self, server=None, port=None, scheme="https", username=None, password=None, transport="ntlm",
                 server_cert_validation="validate", ca_trust_path=None, operation_timeout=20, read_timeout=30,
                 allow_basic_over_http=False, kerberos_delegation=False, message_encryption="auto",
                 cmdlet_credential=False, connection_retries=3):
        self.server = server
        self.scheme = scheme or "https"
        self.port = port or (5986 if self.scheme == "https" else 5985)
        self.username = username
        self.password = password
        self.transport = transport or "ntlm"
        self.server_cert_validation = server_cert_validation or "validate"
        self.ca_trust_path = ca_trust_path
        self.operation_timeout = 20 if operation_timeout is None else operation_timeout
        self.read_timeout = 30 if read_timeout is None else read_timeout
        self.allow_basic_over_http = bool(allow_basic_over_http)
        self.kerberos_delegation = bool(kerberos_delegation)
        self.message_encryption = message_encryption or "auto"
        self.cmdlet_credential = bool(cmdlet_credential)
        self.connection_retries = 3 if connection_retries is None else connection_retries
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
    ``quota``: a per-user shell or operation quota was hit (close shells, then retry)."""

    def __init__(self, message, transient, sent=False, quota=False, phase=""):
        super(TransportFault, self).__init__(message)
        self.message = message
        self.transient = transient
        self.sent = sent
        self.quota = quota
        self.phase = phase


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
    if isinstance(exc, wx.WSManFaultError):
        quota = exc.wsman_fault_code in QUOTA_FAULT_CODES or (exc.fault_subcode or "").endswith("QuotaLimit")
        # InternalError is the service failing the request ("Retry the request."), as busy servers do.
        internal = (exc.fault_subcode or "").endswith("InternalError")
        return TransportFault("WinRM fault during %s: %s" % (phase, exc.reason), transient=quota or internal,
                              sent=sent, quota=quota, phase=phase)
    if isinstance(exc, wx.WinRMTransportError):
        code = exc.code
        if code == 401:
            return TransportFault("authentication failed (HTTP 401): check username, password and transport",
                                  transient=False, phase=phase)
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
                              transient=transient, sent=sent, phase=phase)
    if isinstance(exc, wx.WinRMError):
        return TransportFault("WinRM error during %s: %s" % (phase, exc), transient=False, sent=sent, phase=phase)
    return None


class WinRMSession:
    """One pywinrm Protocol plus the shells it opened. Thread safety: one shell per thread at a time."""

    def __init__(self, options, protocol_factory=None, sleep=None):
        self.options = options
        self._protocol_factory = protocol_factory
        self._protocol = None
        # Seconds to wait after a Receive that brought output before the next one, so that several result
        # lines come back in one round trip (each costs the controller about a millisecond of CPU for HTTP,
        # NTLM sealing and XML). The caller sets it from how fast lines arrive; 0 polls at once.
        self.receive_pause = 0.0
        self._sleep = sleep or time.sleep

    @property
    def protocol(self):
        if self._protocol is None:
            if self._protocol_factory is not None:
                self._protocol = self._protocol_factory(self.options)
            else:
                self._protocol = self._make_protocol()
        return self._protocol

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

    def _step(self, phase, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # mapped to TransportFault when it is a transport problem
            fault = classify_transport_error(exc, phase)
            if fault is None:
                raise
            raise fault

    def open_shell(self):
        return self._step("create", self.protocol.open_shell, codepage=UTF8_CODEPAGE, noprofile=True)

    def close_shell(self, shell_id):
        try:
            self.protocol.close_shell(shell_id)
        except Exception:
            # The shell may already be gone (server restart, quota recycle); its idle timeout reclaims it.
            pass

    def run_envelope(self, shell_id, calls, stdin_bytes, on_result=None):
        """Run the envelope once on ``shell_id`` with the encoded request; returns the ResponseParser.

        ``on_result(index, CallResult)`` is called as each line arrives. Raises TransportFault (with
        ``parser`` attached when the command was sent), EnvelopeFatal or EnvelopeProtocolError.
        """
        exe, args = command_line()
        parser = ResponseParser(calls)
        command_id = self._step("command", self.protocol.run_command, shell_id, exe, args,
                                console_mode_stdin=False, skip_cmd_shell=False)
        try:
            try:
                for start in range(0, len(stdin_bytes), STDIN_CHUNK_BYTES):
                    chunk = stdin_bytes[start:start + STDIN_CHUNK_BYTES]
                    last = start + STDIN_CHUNK_BYTES >= len(stdin_bytes)
                    self._step("send", self.protocol.send_command_input, shell_id, command_id, chunk, end=last)
                stderr, exit_code = self._receive(shell_id, command_id, parser, on_result)
            except TransportFault as fault:
                fault.parser = parser
                raise
            for index, result in (e[1] for e in parser.finish() if e[0] == "result"):
                if on_result:
                    on_result(index, result)
            if not parser.done:
                # Output ended early (process killed, envelope crashed): calls without a line are unknown.
                detail = _clixml_message(stderr) or ("exit code %s" % exit_code)
                raise EnvelopeProtocolError("the envelope stopped before finishing: %s" % detail, parser)
            return parser
        finally:
            try:
                self.protocol.cleanup_command(shell_id, command_id)
            except Exception:
                pass

    def _receive(self, shell_id, command_id, parser, on_result):
        wx = _winrm()[1]
        stderr = b""
        while True:
            try:
                stdout, err, exit_code, done = self.protocol.get_command_output_raw(shell_id, command_id)
            except wx.WinRMOperationTimeoutError:
                continue  # no output within the operation timeout: poll again
            except Exception as exc:
                fault = classify_transport_error(exc, "receive")
                if fault is None:
                    raise
                raise fault
            stderr += err
            for kind, payload in parser.feed(stdout):
                if kind == "result" and on_result:
                    on_result(payload[0], payload[1])
            if done:
                return stderr, exit_code
            if stdout and self.receive_pause > 0:
                self._sleep(self.receive_pause)


def _clixml_message(stderr):
    """The readable text of PowerShell's CLIXML error stream (or plain stderr)."""
    text = stderr.decode("utf-8", errors="replace")
    if not text.strip():
        return ""
    if "<Objs" not in text:
        return text.strip()[:500]
    import re
    parts = re.findall(r'<S S="Error">(.*?)</S>', text, re.S)
    message = "".join(parts).replace("_x000D__x000A_", "\n").strip()
    return message[:500] if message else text.strip()[:500]


def error_from_fault(fault, outcome_unknown=False):
    """A CmdletError standing in for calls that never got an answer because of ``fault``."""
    return CmdletError(fault.message, fqid="WinRMTransportFault", category="ConnectionError",
                       transient=fault.transient, outcome_unknown=outcome_unknown)
