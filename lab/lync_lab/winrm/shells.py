"""WinRS shells and commands: Create, Command, Send, Receive, Signal, Delete, with Windows' quotas.

One ``ShellManager`` per modelled server holds that server's shells (shared by its HTTP and HTTPS
listeners, as one WinRM service holds them on Windows). Commands run through the runtime contract of
ARCHITECTURE.md::

    lab.runtime_for(server).run(session, command_line, stdin: StdinReader, out: OutputSink) -> int

in a worker thread; their output is buffered per stream and handed out by later Receives.

From ``lab`` this module uses: ``lab.runtime_for(server)`` and ``lab.faults`` (a FaultPlan or None; the
``quota`` and ``slow`` kinds are applied here).

Quotas are the server's (``server.host.quotas``, lync_lab/hosts.py: WinRM 2.0 or 3.0 defaults or the scenario's
values), each enforced as Windows documents it (win32 WinRM/quotas.md and the installation-and-configuration page):

- MaxShellsPerUser: a Create beyond it gets ERROR_WSMAN_QUOTA_MAX_SHELLS.
- MaxConcurrentUsers: a Create by a user with no shell while that many other users hold shells gets
  ERROR_WSMAN_QUOTA_MAX_SHELLUSERS ("new remote shell connections will be rejected").
- IdleTimeout: a shell its client sent no request for that long (a Receive still waiting counts as activity; a
  command that is still running does not) is deleted by the service with its processes (a reaper thread, on the
  real clock: it is a WinRM setting, not service latency, so --time-scale does not apply); the next request
  naming it gets the shell-not-found fault. So a worker process idling between requests lives as long as its
  client keeps talking to the shell (a Receive poll is enough).
- MaxProcessesPerShell: the processes a shell's commands run at once (cmd.exe plus powershell.exe per command,
  powershell.exe alone with WINRS_SKIP_CMD_SHELL); a Command that would go beyond it fails (fault *assumed*, see
  wsman.max_processes).
- MaxConcurrentOperationsPerUser: running commands of one user.
- MaxMemoryPerShellMB (or 150 MB on a WMF 3.0 host without KB2842230): see ``ShellMemory``; the processes of all
  the shell's running commands count together.
"""

from __future__ import annotations

import base64
import codecs
import datetime
import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

from .. import request_context
from ..context import ServerInfo, SessionInfo
from . import wsman

log = logging.getLogger(__name__)

# cmd.exe's limit on one command line (characters); without cmd.exe (WINRS_SKIP_CMD_SHELL) CreateProcess' limit.
CMD_LINE_LIMIT = 8191
CREATE_PROCESS_LINE_LIMIT = 32767
# Exit code a console process gets when ended by Ctrl+C (STATUS_CONTROL_C_EXIT), as WinRS reports it.
CTRL_C_EXIT = 0xC000013A
# How often the reaper looks for idle shells, at most (seconds); shorter when IdleTimeout is short.
REAP_INTERVAL = 1.0

# --- the memory model (MaxMemoryPerShellMB) -------------------------------------------------------------------
# WinRM puts a shell's processes in a job object limited to MaxMemoryPerShellMB (quotas.md: "the maximum amount of
# memory allocated per shell, including the shell's child processes"). An allocation beyond it fails; in
# powershell.exe that is a System.OutOfMemoryException (KB2842230's symptom: "out of memory ... exceptions";
# ansible/ansible#39327 and WinRb/winrm-fs#55 show processes under WinRM ending that way). What a process uses is
# modelled, since the lab runs no real process; every figure below is *assumed* (no Microsoft page gives them),
# chosen to be of the order of what a real powershell.exe shows in Task Manager:
CMD_EXE_MB = 2                 # cmd.exe, which WinRS starts unless WINRS_SKIP_CMD_SHELL
POWERSHELL_BASE_MB = 45        # powershell.exe with its runspace, before any script runs
MODULE_MB = {"lync": 60}       # a module's assemblies once imported (the Lync module loads many); others ~0
KB_PER_OBJECT = 8              # one object a cmdlet emitted and the script holds (a CsUser has ~80 properties)
# While the envelope answers a call it holds that call's objects, the rows made from them and the JSON text of
# the line (a .NET string: 2 bytes per character); once the line is written they are garbage (the next call's
# `$a=` drops them). So a process needs: base + imported modules + the largest single answer.
# When the limit is passed the process ends as an unhandled OutOfMemoryException ends a .NET console program:
# the CLR's one-line report on stderr and its exception code 0xE0434352 as exit code (*assumed*: the report and
# code the CLR gives for an unhandled managed exception; no WinRM page describes it).
OUT_OF_MEMORY_STDERR = "\r\nUnhandled Exception: OutOfMemoryException.\r\n"
CLR_UNHANDLED_EXCEPTION_EXIT = 0xE0434352
# winrm/config/service EnumerationTimeoutms (60000): an enumeration context nobody pulled for a minute is dropped.
ENUMERATION_TIMEOUT = 60.0


@dataclass(frozen=True)
class Identity:
    """Who authenticated on a connection and how (built by auth.py)."""

    user: str              # canonical DOMAIN\user
    auth: str              # ntlm | basic | credssp
    can_delegate: bool = False


def codec_for(codepage: int) -> str:
    if codepage == 65001:
        return "utf-8"
    try:
        return codecs.lookup(f"cp{codepage}").name
    except LookupError:
        return "cp437"


class StdinReader:
    """The command's stdin as the client sends it, in as many Sends as it likes (WSManSendShellInput: the data of
    one Send, endOfStream TRUE only on the last). ``readline()`` hands out each line as soon as it has arrived, as
    a process reading its stdin pipe gets it; ``read()`` blocks until the Send with End="true" (or until the
    command is terminated or its shell deleted) and returns what no readline took.

    Sent bytes go into one buffer that is scanned once: a line is found by looking only at bytes that arrived
    after the last scan, and the consumed front is dropped once it outweighs the rest, so serving n lines of a
    long-lived command costs O(total bytes), not O(n * bytes)."""

    def __init__(self, expected: bool = True) -> None:
        self._cond = threading.Condition()
        self._buffer = bytearray()
        self._start = 0        # where the next unread byte is
        self._scanned = 0      # bytes before this offset hold no newline after _start
        self._ended = not expected
        # When the command's input last arrived (ISO 8601, UTC): its command line, then each Send.
        self.last_received = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")

    def feed(self, data: bytes, end: bool) -> None:
        with self._cond:
            if self._ended:
                return
            self.last_received = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
            self._buffer += data
            if end:
                self._ended = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    @property
    def ended(self) -> bool:
        return self._ended

    def _take(self, end: int) -> bytes:
        data = bytes(self._buffer[self._start:end])
        self._start = self._scanned = end
        if self._start > 65536 and self._start * 2 > len(self._buffer):
            del self._buffer[:self._start]
            self._start = self._scanned = 0
        return data

    def read(self) -> bytes:
        with self._cond:
            while not self._ended:
                self._cond.wait()
            return self._take(len(self._buffer))

    def readline(self) -> bytes:
        """The next line sent, newline included, as soon as it has arrived (b"" once stdin has ended and all is
        read): how powershell.exe -Command - runs each line, and the envelope reads each request, while the client
        is still sending."""
        with self._cond:
            while True:
                newline = self._buffer.find(b"\n", max(self._start, self._scanned))
                if newline >= 0:
                    return self._take(newline + 1)
                self._scanned = len(self._buffer)
                if self._ended:
                    return self._take(len(self._buffer))
                self._cond.wait()


class ProcessOutOfMemory(BaseException):
    """The process's job object refused memory: the process is gone. A BaseException so that no handler of the
    PowerShell layer (which catches PSError and Exception) mistakes it for a script error and carries on."""


class ShellMemory:
    """What one powershell.exe command uses, by the model above, against the shell's memory limit. The limit is
    the shell's, "including the shell's child processes" (quotas.md): what the shell's other running processes
    hold (``others_mb``) counts too, so two workers with the Lync module loaded in one shell need twice the
    base and module. A process that lives on (a worker between requests) keeps its base and modules: its
    ``resident_mb``, what the others see of it."""

    def __init__(self, limit_mb: int, uses_cmd: bool, imported_modules, others_mb=lambda: 0.0) -> None:
        self.limit_mb = limit_mb
        self.base_mb = POWERSHELL_BASE_MB + (CMD_EXE_MB if uses_cmd else 0)
        self._imported_modules = imported_modules   # () -> names of the modules the process has imported
        self._others_mb = others_mb                 # () -> MB the shell's other running processes hold
        self._partial = ""                          # a line written in pieces, held until it ends
        self.resident_mb = float(self.base_mb)      # base + imported modules, as of the last write
        self.peak_mb = 0.0                          # the most the shell held while this process wrote

    def _modules_mb(self) -> float:
        return sum(MODULE_MB.get(name.lower(), 0) for name in self._imported_modules())

    @staticmethod
    def _line_kb(line: str) -> float:
        """What holding one written line cost: its text as a .NET string, plus its objects for a result line."""
        held = 2 * len(line) / 1024.0
        if line.startswith("{") and '"objects"' in line:
            try:
                objects = json.loads(line).get("objects")
            except ValueError:
                objects = None
            if isinstance(objects, list):
                held += KB_PER_OBJECT * len(objects)
        return held

    def charge(self, text: str) -> None:
        """The process wrote ``text``; raise ProcessOutOfMemory when holding it went beyond the limit."""
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        held_kb = max([self._line_kb(line.rstrip("\r")) for line in lines] + [2 * len(self._partial) / 1024.0])
        self.resident_mb = self.base_mb + self._modules_mb()
        used = self.resident_mb + held_kb / 1024.0 + self._others_mb()
        self.peak_mb = max(self.peak_mb, used)
        if used > self.limit_mb:
            raise ProcessOutOfMemory(f"{used:.0f} MB needed, {self.limit_mb} MB allowed")


class OutputSink:
    """Where a running command writes: text in, bytes in the shell's code page out on the next Receive."""

    def __init__(self, command: "Command") -> None:
        self._command = command

    @property
    def cancelled(self) -> bool:
        """True once the client terminated the command (Signal) or deleted its shell; further output is dropped."""
        return self._command.cancelled

    def stdout(self, text: str) -> None:
        if self._command.killed:
            return
        memory = self._command.memory
        if memory is not None and text:
            try:
                memory.charge(text)
            except ProcessOutOfMemory:
                self._command.killed = True   # nothing more from this process, not even its error stream's end
                raise
        self._command.append("stdout", text)

    def stderr(self, text: str) -> None:
        if self._command.killed:
            return
        self._command.append("stderr", text)


class Command:
    def __init__(self, shell: "Shell", command_line: str) -> None:
        self.id = str(uuid.uuid4()).upper()
        self.shell = shell
        self.command_line = command_line
        self.stdin = StdinReader(expected="stdin" in shell.input_streams.split())
        self.cond = threading.Condition()
        self.output: deque[tuple[str, bytes]] = deque()
        self.done = False
        self.exit_code: int | None = None
        self.cancelled = False
        self.receive_started = False
        self.killed = False              # the process ended by the memory quota: later writes are lost
        self.memory: ShellMemory | None = None
        self.processes = 0               # processes running for it (cmd.exe, powershell.exe), for MaxProcessesPerShell

    def append(self, stream: str, text: str) -> None:
        if not text:
            return
        data = text.encode(self.shell.encoding, errors="replace")
        with self.cond:
            if self.cancelled or self.done:
                return
            if self.output and self.output[-1][0] == stream:
                self.output[-1] = (stream, self.output[-1][1] + data)
            else:
                self.output.append((stream, data))
            self.cond.notify_all()

    def finish(self, exit_code: int) -> None:
        with self.cond:
            if not self.done:
                self.done = True
                self.exit_code = exit_code
            self.cond.notify_all()

    def cancel(self, exit_code: int | None = None) -> None:
        """Terminate: stdin closes, pending and later output is dropped, the command reads as Done."""
        with self.cond:
            self.cancelled = True
            self.output.clear()
            if not self.done:
                self.done = True
                self.exit_code = exit_code if exit_code is not None else CTRL_C_EXIT
            self.cond.notify_all()
        self.stdin.close()


class Shell:
    def __init__(self, identity: Identity, codepage: int, input_streams: str, output_streams: str,
                 client_ip: str, skip_cmd_shell_default: bool = False) -> None:
        self.id = str(uuid.uuid4()).upper()
        self.identity = identity
        self.codepage = codepage
        self.encoding = codec_for(codepage)
        self.input_streams = input_streams or "stdin"
        self.output_streams = output_streams or "stdout stderr"
        self.client_ip = client_ip
        self.commands: dict[str, Command] = {}
        self.created = time.monotonic()
        self.last_used = self.created
        self.receiving = 0    # Receives waiting for output right now: the client is active meanwhile
        self.session = SessionInfo(user=identity.user, auth=identity.auth, can_delegate=identity.can_delegate,
                                   codepage=codepage, shell_id=self.id, client=client_ip)


class ShellManager:
    """The shells of one modelled server, with its host's WinRM quotas (``server.host``).

    The quota attributes start from the host profile; tests may set them on a manager to exercise a limit."""

    def __init__(self, lab, server: ServerInfo) -> None:
        self.lab = lab
        self.server = server
        host = server.host
        quotas = host.quotas
        self.max_shells_per_user = quotas.MaxShellsPerUser
        self.max_operations_per_user = quotas.MaxConcurrentOperationsPerUser
        self.max_concurrent_users = quotas.MaxConcurrentUsers
        self.max_processes_per_shell = quotas.MaxProcessesPerShell
        self.memory_limit_mb = host.effective_memory_mb
        self.idle_timeout = host.idle_timeout_seconds
        self._lock = threading.Lock()
        self._shells: dict[str, Shell] = {}
        # Open WS-Enumeration contexts: id -> (user, remaining items, expiry).
        self._enumerations: dict[str, tuple[str, list[wsman.ShellItem], float]] = {}
        # IdleTimeout is the service's own timer: shells are deleted whether or not anyone sends a request.
        self._stopping = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, daemon=True,
                                        name=f"winrs-reaper-{server.computer_name}")
        self._reaper.start()

    def _reap_loop(self) -> None:
        while not self._stopping.wait(min(REAP_INTERVAL, max(0.05, self.idle_timeout / 4))):
            self._reap_idle()

    # -- bookkeeping --------------------------------------------------------------------------------------
    def _owned_by(self, user: str) -> list[Shell]:
        """The open shells ``user`` created (user names compare case-insensitively, as Windows accounts do)."""
        with self._lock:
            return [s for s in self._shells.values() if s.identity.user.lower() == user.lower()]

    def shells_of(self, user: str) -> int:
        return len(self._owned_by(user))

    def running_commands_of(self, user: str) -> int:
        return sum(1 for s in self._owned_by(user) for c in list(s.commands.values()) if not c.done)

    def close_all(self) -> None:
        self._stopping.set()
        with self._lock:
            shells = list(self._shells.values())
            self._shells.clear()
        for shell in shells:
            for cmd in list(shell.commands.values()):
                cmd.cancel()

    def _faults(self):
        faults = getattr(self.lab, "faults", None)
        return faults if faults is not None and getattr(faults, "enabled", False) else None

    def _shell(self, req: wsman.WSManRequest, identity: Identity) -> Shell:
        shell_id = req.selectors.get("ShellId", "")
        with self._lock:
            shell = self._shells.get(shell_id)
        if shell is None or shell.identity.user.lower() != identity.user.lower():
            raise wsman.shell_not_found(shell_id)
        shell.last_used = time.monotonic()
        return shell

    def _reap_idle(self) -> None:
        """Delete shells whose client was inactive past IdleTimeout, as the WinRM service does (quotas.md: the
        time before an inactive remote shell is deleted); their running processes end with them."""
        now = time.monotonic()
        with self._lock:
            idle = [s for s in self._shells.values() if now - s.last_used > self.idle_timeout and not s.receiving]
            for shell in idle:
                del self._shells[shell.id]
        for shell in idle:
            log.info("shell %s of %s closed after %.0f s idle", shell.id, shell.identity.user, self.idle_timeout)
            for cmd in list(shell.commands.values()):
                cmd.cancel()

    @staticmethod
    def _command(shell: Shell, command_id: str) -> Command:
        cmd = shell.commands.get(command_id)
        if cmd is None:
            raise wsman.command_not_found(command_id)
        return cmd

    # -- dispatch -----------------------------------------------------------------------------------------
    def handle(self, req: wsman.WSManRequest, identity: Identity, client_ip: str, address: str) -> str:
        uri = (req.resource_uri or "").rstrip("/").lower()
        if uri in (wsman.CONFIG_URI, wsman.CONFIG_WINRS_URI, wsman.CONFIG_SERVICE_URI):
            if req.action != wsman.ACTION_GET:
                raise wsman.action_not_supported(req.action)
            return wsman.config_response(req, self.server.host)
        if req.resource_uri and req.resource_uri.lower() != wsman.CMD_RESOURCE_URI:
            raise wsman.action_not_supported(req.action)
        if req.action == wsman.ACTION_ENUMERATE:
            return self.enumerate(req, identity)
        if req.action == wsman.ACTION_PULL:
            return self.pull(req, identity)
        if req.action == wsman.ACTION_RELEASE:
            return self.release(req, identity)
        if req.action == wsman.ACTION_CREATE:
            return self.create(req, identity, client_ip, address)
        if req.action == wsman.ACTION_COMMAND:
            return self.command(req, identity)
        if req.action == wsman.ACTION_SEND:
            return self.send(req, identity)
        if req.action == wsman.ACTION_RECEIVE:
            return self.receive(req, identity)
        if req.action == wsman.ACTION_SIGNAL:
            return self.signal(req, identity)
        if req.action == wsman.ACTION_DELETE:
            return self.delete(req, identity)
        raise wsman.action_not_supported(req.action)

    def create(self, req: wsman.WSManRequest, identity: Identity, client_ip: str, address: str) -> str:
        faults = self._faults()
        if faults is not None and faults.roll("quota"):
            raise wsman.max_shells(self.max_shells_per_user)
        try:
            codepage = int(req.options.get("WINRS_CODEPAGE") or 437)
        except ValueError:
            codepage = 437
        body = req.body_child("Shell")
        input_streams = output_streams = ""
        if body is not None:
            input_streams = wsman._text(body.find("rsp:InputStreams", wsman.NS))
            output_streams = wsman._text(body.find("rsp:OutputStreams", wsman.NS))
        shell = Shell(identity, codepage, input_streams, output_streams, client_ip)
        self._reap_idle()
        user = identity.user.lower()
        with self._lock:
            owned = sum(1 for s in self._shells.values() if s.identity.user.lower() == user)
            if owned >= self.max_shells_per_user:
                raise wsman.max_shells(self.max_shells_per_user)
            others = {s.identity.user.lower() for s in self._shells.values()} - {user}
            if not owned and len(others) >= self.max_concurrent_users:
                raise wsman.max_shell_users(self.max_concurrent_users)
            self._shells[shell.id] = shell
        log.info("shell %s created for %s (%s, codepage %s) on %s", shell.id, identity.user, identity.auth,
                 codepage, self.server.fqdn)
        return wsman.create_response(req, shell.id, address, identity.user, client_ip, shell.input_streams,
                                     shell.output_streams, self.idle_timeout)

    # -- WS-Enumeration of shells (MS-WSMV 3.1.4.8.2): a user sees only the shells they created ----------------
    def _items_of(self, identity: Identity) -> list[wsman.ShellItem]:
        now = time.monotonic()
        shells = sorted(self._owned_by(identity.user), key=lambda s: s.created)
        return [wsman.ShellItem(shell_id=s.id, owner=s.identity.user, client_ip=s.client_ip,
                                input_streams=s.input_streams, output_streams=s.output_streams,
                                run_seconds=now - s.created, idle_seconds=now - s.last_used,
                                idle_timeout=self.idle_timeout) for s in shells]

    def _new_context(self, identity: Identity, rest: list[wsman.ShellItem]) -> str:
        context = f"uuid:{str(uuid.uuid4()).upper()}"
        now = time.monotonic()
        with self._lock:
            for key in [k for k, v in self._enumerations.items() if v[2] < now]:
                del self._enumerations[key]   # EnumerationTimeoutms passed: the context is gone
            self._enumerations[context] = (identity.user.lower(), rest, now + ENUMERATION_TIMEOUT)
        return context

    def _take_context(self, context: str, identity: Identity) -> list[wsman.ShellItem]:
        with self._lock:
            entry = self._enumerations.pop(context, None)
        if entry is None or entry[0] != identity.user.lower() or entry[2] < time.monotonic():
            raise wsman.invalid_enumeration_context()
        return entry[1]

    def enumerate(self, req: wsman.WSManRequest, identity: Identity) -> str:
        ask = wsman.parse_enumerate(req)
        if ask.filtered:
            raise wsman.filtering_not_supported()
        self._reap_idle()
        items = self._items_of(identity)
        if not ask.optimize:
            # Unoptimized: the items come with the Pulls that follow.
            return wsman.enumerate_response(req, self._new_context(identity, items), None)
        first, rest = items[:ask.max_elements], items[ask.max_elements:]
        context = self._new_context(identity, rest) if rest else None
        return wsman.enumerate_response(req, context, first)

    def pull(self, req: wsman.WSManRequest, identity: Identity) -> str:
        context, max_elements = wsman.parse_pull(req)
        items = self._take_context(context, identity)
        first, rest = items[:max_elements], items[max_elements:]
        # Each response carries a new context; the one just used is spent (DSP0226 8.4).
        return wsman.pull_response(req, self._new_context(identity, rest) if rest else None, first)

    def release(self, req: wsman.WSManRequest, identity: Identity) -> str:
        self._take_context(wsman.parse_release(req), identity)
        return wsman.release_response(req)

    def delete(self, req: wsman.WSManRequest, identity: Identity) -> str:
        shell = self._shell(req, identity)
        with self._lock:
            self._shells.pop(shell.id, None)
        for cmd in list(shell.commands.values()):
            cmd.cancel()
        return wsman.delete_response(req)

    def command(self, req: wsman.WSManRequest, identity: Identity) -> str:
        shell = self._shell(req, identity)
        body = req.body_child("CommandLine")
        if body is None:
            raise wsman.invalid_xml()
        command = wsman._text(body.find("rsp:Command", wsman.NS))
        arguments = [a.text or "" for a in body.findall("rsp:Arguments", wsman.NS)]
        # cmd.exe sees the command and its arguments joined by single spaces.
        command_line = " ".join([command, *arguments]) if arguments else command
        if self.running_commands_of(identity.user) >= self.max_operations_per_user:
            raise wsman.max_operations(self.max_operations_per_user)
        skip_cmd = req.options.get("WINRS_SKIP_CMD_SHELL", "FALSE").upper() == "TRUE"
        # cmd.exe and the program it starts (powershell.exe) both count against MaxProcessesPerShell.
        processes = 1 if skip_cmd or command.lower().startswith("cmd") else 2
        running = sum(c.processes for c in list(shell.commands.values()) if not c.done)
        if running + processes > self.max_processes_per_shell:
            raise wsman.max_processes(self.max_processes_per_shell)
        cmd = Command(shell, command_line)
        cmd.processes = processes
        if command.lower().replace("/", "\\").split("\\")[-1].startswith("powershell"):
            cmd.memory = ShellMemory(self.memory_limit_mb, not skip_cmd, self._imported_modules,
                                     lambda: _resident_of_others(shell, cmd))
        shell.commands[cmd.id] = cmd
        limit = CREATE_PROCESS_LINE_LIMIT if skip_cmd else CMD_LINE_LIMIT
        if len(command_line) > limit:
            # cmd.exe refuses before starting anything: one line on stderr, exit code 1.
            cmd.append("stderr", "The command line is too long.\r\n")
            cmd.finish(1)
            cmd.stdin.close()
        else:
            worker = threading.Thread(target=self._run, args=(shell, cmd), daemon=True,
                                      name=f"winrs-{self.server.computer_name}-{cmd.id[:8]}")
            worker.start()
        return wsman.command_response(req, cmd.id)

    def _imported_modules(self):
        """The modules the calling worker thread's powershell.exe has imported (the runtime keeps them per thread,
        and a command's output is written from its own worker thread)."""
        state = getattr(self.lab.runtime_for(self.server), "state", None)
        return tuple(getattr(state, "imported", ()) or ())

    def _run(self, shell: Shell, cmd: Command) -> None:
        out = OutputSink(cmd)
        request_context.serve(shell.id, cmd.id, lambda: cmd.stdin.last_received)
        try:
            runtime = self.lab.runtime_for(self.server)
            exit_code = runtime.run(shell.session, cmd.command_line, cmd.stdin, out)
        except ProcessOutOfMemory as oom:
            # The job object's memory limit ended the process: what it had not written yet is lost.
            log.info("command %s on %s ended by MaxMemoryPerShellMB: %s", cmd.id, self.server.fqdn, oom)
            cmd.append("stderr", OUT_OF_MEMORY_STDERR)
            exit_code = CLR_UNHANDLED_EXCEPTION_EXIT
        except Exception as exc:  # a bug in a lower layer must not take the listener down
            log.exception("command %s on %s failed inside the lab", cmd.id, self.server.fqdn)
            out.stderr(f"lync_lab internal error: {type(exc).__name__}: {exc}\r\n")
            exit_code = 1
        finally:
            request_context.done()
        cmd.finish(int(exit_code) if exit_code is not None else 0)

    def send(self, req: wsman.WSManRequest, identity: Identity) -> str:
        shell = self._shell(req, identity)
        body = req.body_child("Send")
        if body is None:
            raise wsman.invalid_xml()
        for stream in body.findall("rsp:Stream", wsman.NS):
            cmd = self._command(shell, stream.get("CommandId", ""))
            data = base64.b64decode((stream.text or "").strip()) if (stream.text or "").strip() else b""
            end = stream.get("End", "false").lower() == "true"
            cmd.stdin.feed(data, end)
        return wsman.send_response(req)

    def signal(self, req: wsman.WSManRequest, identity: Identity) -> str:
        shell = self._shell(req, identity)
        body = req.body_child("Signal")
        if body is None:
            raise wsman.invalid_xml()
        command_id = body.get("CommandId", "")
        code = wsman._text(body.find("rsp:Code", wsman.NS))
        cmd = self._command(shell, command_id)
        if code == wsman.SIGNAL_TERMINATE:
            cmd.cancel()
            shell.commands.pop(command_id, None)
        elif code in (wsman.SIGNAL_CTRL_C, wsman.SIGNAL_CTRL_BREAK):
            cmd.cancel(CTRL_C_EXIT)
        return wsman.signal_response(req)

    def _take_output(self, req: wsman.WSManRequest, cmd: Command):
        """What the Receive hands out: the output written so far (at most the envelope's worth), once there is
        some or the command is done, else the w:TimedOut fault after OperationTimeout."""
        faults = self._faults()
        if faults is not None and faults.roll("slow"):
            # Answer late with the timeout fault; nothing is taken from the buffers, the client re-polls.
            time.sleep(req.operation_timeout)
            raise wsman.timed_out()
        # Keep the answer inside the client's MaxEnvelopeSize: base64 grows data by 4/3, leave room for XML.
        budget = max(1024, (req.max_envelope_size - 4096) * 3 // 4)
        deadline = time.monotonic() + req.operation_timeout
        with cmd.cond:
            while not cmd.output and not cmd.done:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise wsman.timed_out()
                cmd.cond.wait(remaining)
            chunks: list[tuple[str, str]] = []
            while cmd.output and budget > 0:
                stream, data = cmd.output.popleft()
                if len(data) > budget:
                    cmd.output.appendleft((stream, data[budget:]))
                    data = data[:budget]
                budget -= len(data)
                chunks.append((stream, base64.b64encode(data).decode("ascii")))
            return chunks, cmd.done and not cmd.output, cmd.exit_code

    def receive(self, req: wsman.WSManRequest, identity: Identity) -> str:
        shell = self._shell(req, identity)
        body = req.body_child("Receive")
        desired = body.find("rsp:DesiredStream", wsman.NS) if body is not None else None
        if desired is None:
            raise wsman.invalid_xml()
        cmd = self._command(shell, desired.get("CommandId", ""))
        # While this Receive waits the client is active: the shell is not idle (IdleTimeout) meanwhile.
        with self._lock:
            shell.receiving += 1
        try:
            chunks, done, exit_code = self._take_output(req, cmd)
        finally:
            with self._lock:
                shell.receiving -= 1
                shell.last_used = time.monotonic()
        return wsman.receive_response(req, cmd.id, chunks, done, exit_code)


def _resident_of_others(shell: Shell, cmd: Command) -> float:
    """MB held by the shell's running powershell.exe processes other than ``cmd``'s."""
    return sum(c.memory.resident_mb for c in list(shell.commands.values())
               if c is not cmd and not c.done and c.memory is not None)


_registry_lock = threading.Lock()
_registry: dict[tuple[int, str], tuple[ShellManager, int]] = {}


def acquire_manager(lab, server: ServerInfo) -> ShellManager:
    """The ShellManager of ``server`` in ``lab``, shared by all its listeners (reference counted)."""
    key = (id(lab), server.fqdn.lower())
    with _registry_lock:
        manager, refs = _registry.get(key, (None, 0))
        if manager is None:
            manager = ShellManager(lab, server)
        _registry[key] = (manager, refs + 1)
        return manager


def release_manager(lab, server: ServerInfo) -> None:
    key = (id(lab), server.fqdn.lower())
    with _registry_lock:
        manager, refs = _registry.get(key, (None, 0))
        if manager is None:
            return
        if refs <= 1:
            del _registry[key]
            manager.close_all()
        else:
            _registry[key] = (manager, refs - 1)
