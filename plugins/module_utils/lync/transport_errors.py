# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WinRM transport faults: what each failure means (retry? did the command start? quota? reconnect?),
and the errors that stand in for calls a fault left without an answer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .response import CmdletError, EnvelopeFatal

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
# What .NET writes when an allocation fails (System.OutOfMemoryException), as a process ended by its job's memory
# limit (MaxMemoryPerShellMB) reports it.
OUT_OF_MEMORY = "OutOfMemoryException"


def winrm_api():
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
    wx = winrm_api()[1]
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


def clixml_message(stderr):
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
