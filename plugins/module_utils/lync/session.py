# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The envelope's workers (docs/envelope.md, "The worker protocol"): one long-running powershell.exe per shell
that answers request after request. The transport under it (pywinrm, shells, quotas, request re-sends) is
transport.py's; the connection options are connection.py's, what a fault means transport_errors.py's, the retry
layers retry.py's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .envelope import ENVELOPE_LINE, STOP_REQUEST_LINE, command_line, decode_request, request_line
from .response import CmdletError, EnvelopeFatal, EnvelopeProtocolError, ResponseParser
from .transport import WinRMTransport
from .transport_errors import (
    OUT_OF_MEMORY,
    SHELL_NOT_FOUND_FAULT_CODES,
    TransportFault,
    clixml_message,
    explain_fatal,
    winrm_api,
)


class WinRMSession(WinRMTransport):
    """Cmdlet requests on this transport's shells, each shell's requests answered by one worker process.

    The first request on a shell starts the worker: the Command (powershell.exe with the loader, PowerShell's
    start paid here) and a Send of the envelope's line and the request's line. Each later request on that shell is
    a Send of its line alone to the same process (the Lync module already imported), and its output is read up
    to that request's done line, not to the end of the command. stdin stays open between requests.

    The worker is given no further request, and is terminated after this one, once it cannot be trusted with
    one: it wrote a fatal line or stopped early (quota, memory, killed), a Send or a Receive failed, or output
    may have been lost (a Receive polled again after a fault; then its stdin is ended at once, so that the
    command ends after this request and a lost done line cannot leave the poll waiting). A Send is never
    repeated: repeated to a worker, a whole request line would run twice. ``close_shell`` stops the worker (a
    stop request, stdin ended) before deleting the shell. Thread safety: one shell per thread at a time."""

    def __init__(self, options, protocol_factory=None, sleep=None, rng=None, registry=None):
        super(WinRMSession, self).__init__(options, protocol_factory=protocol_factory, sleep=sleep, rng=rng,
                                           registry=registry)
        # Seconds to wait after a Receive that brought output before the next one, so that several result
        # lines come back in one round trip (each costs the controller about a millisecond of CPU for HTTP,
        # NTLM sealing and XML). The caller sets it from how fast lines arrive; 0 polls at once.
        self.receive_pause = 0.0
        # Lines PowerShell wrote besides the envelope's (host-UI writes), for the module's result.
        self.host_output = []
        self._workers = {}        # shell id -> command id of the worker waiting there for its next request
        self.worker_starts = 0    # powershell.exe processes started: one per worker
        self.requests_served = 0

    def close_shell(self, shell_id):
        command_id = self._workers.pop(shell_id, None)
        if command_id is not None:
            try:   # PowerShell ends its own way; deleting the shell would end it too
                self._step("send", self.protocol.send_command_input, shell_id, command_id, STOP_REQUEST_LINE,
                           end=True)
            except TransportFault:
                pass
        return super(WinRMSession, self).close_shell(shell_id)

    def run_envelope(self, shell_id, calls, stdin_bytes, on_result=None):
        """Run one request (encode_request's bytes) on the worker of ``shell_id``, started if there is none;
        returns the ResponseParser.

        ``on_result(index, CallResult)`` is called as each line arrives. Raises TransportFault (with ``parser``
        attached when the request may have been sent), EnvelopeFatal or EnvelopeProtocolError.
        """
        parser = ResponseParser(calls)
        command_id = self._workers.pop(shell_id, None)   # back only if it can take another request
        if command_id is None:
            command_id = self._start_worker(shell_id, calls)
            data = ENVELOPE_LINE + request_line(stdin_bytes)
        else:
            data = request_line(stdin_bytes)
        reusable = False
        try:
            try:
                self._send_request(shell_id, command_id, data)
                stderr, exit_code, reusable = self._receive(shell_id, command_id, parser, on_result)
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
                detail = clixml_message(stderr) or ("exit code %s" % exit_code)
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
            self.requests_served += 1
            return parser
        finally:
            if reusable:
                self._workers[shell_id] = command_id
            else:
                self._signal_terminate(shell_id, command_id)

    def _start_worker(self, shell_id, calls):
        """The worker's Command. The request travels on stdin, so a command started twice runs nothing twice;
        still, a lost Command answer of a write request goes back to the caller (phase "command")."""
        exe, args = command_line()
        read_only = bool(calls) and all(getattr(c, "read_only", False) for c in calls)
        start = self._request if read_only else self._step
        command_id = start("command", self.protocol.run_command, shell_id, exe, args,
                           console_mode_stdin=False, skip_cmd_shell=False)
        self.worker_starts += 1
        return command_id

    def _send_request(self, shell_id, command_id, data):
        """The request's line in Sends that fit the host's MaxEnvelopeSizekb, each sent once, stdin left open.
        A Send answered "no such shell" or "no such command" delivered nothing that runs (the line is not
        complete before its last Send, and the requests before it were answered): for the caller that is a
        lost shell on which nothing ran."""
        step = self.stdin_chunk_bytes
        for offset in range(0, len(data), step):
            try:
                self._step("send", self.protocol.send_command_input, shell_id, command_id,
                           data[offset:offset + step], end=False)
            except TransportFault as fault:
                if fault.wsman_code not in SHELL_NOT_FOUND_FAULT_CODES:
                    raise
                raise TransportFault("the worker's shell or command is gone from the server (its IdleTimeout "
                                     "passed, or it was deleted): %s" % fault.message, transient=True, sent=False,
                                     phase="command", wsman_code=fault.wsman_code, shell_lost=True)

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
        except winrm_api()[1].WinRMOperationTimeoutError:
            return None

    def _receive(self, shell_id, command_id, parser, on_result):
        """Poll until this request's done line (the worker waits for the next request) or the command's end.
        Returns (stderr, exit code, whether the worker may take another request)."""
        stderr = b""
        ending = False
        while True:
            # Re-polled on the same command after a transient fault (_request): a Receive the server refused
            # (HTTP 500, reset before it was handled) took no output. If instead its answer was lost, the missing
            # result lines make those calls "outcome unknown" (pywinrm sends no Receive SequenceId to detect it;
            # see docs/reliability.md), and the done line may be lost with them: stdin is ended, so the worker
            # exits after this request and the command's end closes the poll.
            retries_before = self.request_retries
            polled = self._request("receive", self._poll_output, shell_id, command_id)
            if self.request_retries != retries_before and not ending:
                self._step("send", self.protocol.send_command_input, shell_id, command_id, b"", end=True)
                ending = True
            if polled is None:
                continue
            stdout, err, exit_code, done = polled
            stderr += err
            for kind, payload in parser.feed(stdout):
                if kind == "result" and on_result:
                    on_result(payload[0], payload[1])
            if done:
                return stderr, exit_code, False
            if parser.done:
                return stderr, exit_code, not ending
            if stdout and self.receive_pause > 0:
                self._sleep(self.receive_pause)
