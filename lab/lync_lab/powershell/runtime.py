"""HostRuntime: what one modelled Windows server does with a WinRS command line.

cmd.exe's view first (only powershell.exe and a few built-ins exist), then powershell.exe's switches, the
syntax check of the script, and either the collection's envelope or an admin's script.
"""

from __future__ import annotations

import threading

from .. import engine
from ..errors import PSError
from ..context import CmdletContext, ServerInfo, SessionInfo
from .binder import bind_named, BoundCall
from .catalog import CmdletInfo, load_catalog
from .clixml import ClixmlErrorStream
from .commandline import (BAD_COMMAND_LINE_EXIT, CommandLineError, parse_powershell_args, program_name,
                          split_windows_args)
from .envelope import is_loader, module_not_found, run_loader
from .syntax import ScriptParseError, parse_script
from .versions import cmdlet_since, first_missing, older

# Windows modules by the PowerShell that brings them ("Lync" only where Lync Server 2013 is installed): the core
# modules of 2.0 (PowerShell-Docs wmf-overview.md; Microsoft.PowerShell.Core is a snap-in there), CimCmdlets from
# 3.0 (reference/3.0/CimCmdlets), DnsClient with Windows Server 2012's own PowerShell (a Windows module, absent
# from 2008 R2 even with WMF 3.0: assumed from its being part of Windows Server 2012, not of WMF).
WINDOWS_MODULES = ("Microsoft.PowerShell.Management", "Microsoft.PowerShell.Utility", "Microsoft.PowerShell.Core",
                   "Microsoft.PowerShell.Diagnostics", "CimCmdlets", "DnsClient")
_MODULE_NEEDS = {"cimcmdlets": "3.0"}
_WINDOWS_2012_MODULES = frozenset({"dnsclient"})


class ProcessState:
    """What one powershell.exe process remembers: imported modules and variables."""

    def __init__(self) -> None:
        self.imported: set[str] = set()
        self.variables: dict[str, object] = {}


class HostRuntime:
    def __init__(self, lab, server: ServerInfo) -> None:
        self.lab = lab
        self.server = server
        self.catalog = load_catalog()
        self._local = threading.local()

    # -- the contract ---------------------------------------------------------------------------
    def run(self, session: SessionInfo, command_line: str, stdin, out) -> int:
        args = split_windows_args(command_line)
        if not args:
            return 0
        program = program_name(args[0])
        if program != "powershell":
            return self._cmd_builtin(session, program, args, command_line, out)
        try:
            invocation = parse_powershell_args(args[1:])
        except CommandLineError as exc:
            out.stderr(str(exc) + "\r\n")
            return BAD_COMMAND_LINE_EXIT
        self.lab.latency.powershell_start()
        ctx = CmdletContext(self.lab, self.server, session)
        self._local.state = ProcessState()
        errors = ClixmlErrorStream(out)
        try:
            if invocation.script_from_stdin:
                return self._run_lines(ctx, _stdin_lines(stdin, session.codepage), out, errors)
            script = invocation.script or ""
            parsed = self.parse(script, errors)
            if parsed is None:
                return 1
            if is_loader(script):
                return run_loader(self, ctx, out, errors, stdin)
            from .pipeline import ScriptRunner

            ok = ScriptRunner(self, ctx, out, errors).run(parsed)
            return 0 if ok else 1
        finally:
            errors.close()

    def _run_lines(self, ctx, lines, out, errors: ClixmlErrorStream) -> int:
        """`-Command -`: each line of standard input runs as it is read, as if typed at a prompt, in one
        session state: a variable set by one line is there for the next (what `lync-lab shell` relies on)."""
        from .pipeline import ScriptRunner

        runner = ScriptRunner(self, ctx, out, errors)
        ok = True
        for line in lines:
            if not line.strip():
                continue
            parsed = self.parse(line, errors)
            if parsed is None:
                ok = False
                continue
            ok = runner.run(parsed)
        return 0 if ok else 1

    def _cmd_builtin(self, session: SessionInfo, program: str, args: list[str], line: str, out) -> int:
        if program == "hostname" and len(args) == 1:
            out.stdout(self.server.computer_name + "\r\n")
            return 0
        if program == "whoami" and len(args) == 1:
            out.stdout(session.user.lower() + "\r\n")
            return 0
        if program == "echo":
            rest = line.strip()[len(line.strip().split(None, 1)[0]):].strip()
            out.stdout((rest if rest else "ECHO is on.") + "\r\n")
            return 0
        out.stderr(f"'{args[0]}' is not recognized as an internal or external command,\r\n"
                   "operable program or batch file.\r\n")
        return 1

    # -- what scripts and the envelope call ------------------------------------------------------
    @property
    def state(self) -> ProcessState:
        state = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = ProcessState()
        return state

    def import_module(self, ctx: CmdletContext, name: str) -> None:
        """Import-Module: Lync exists only where Lync Server 2013 is installed; the latency is charged once."""
        key = name.lower()
        if key == "lync":
            if not engine.server_has(ctx, "lync"):
                raise module_not_found(name)
            if key not in self.state.imported:
                self.lab.latency.import_module("Lync")
                self.state.imported.add(key)
            return
        if key in (m.lower() for m in WINDOWS_MODULES) and self._has_windows_module(key):
            self.state.imported.add(key)
            return
        raise module_not_found(name)

    def _has_windows_module(self, key: str) -> bool:
        if key in _MODULE_NEEDS and older(self.powershell, _MODULE_NEEDS[key]):
            return False
        return key not in _WINDOWS_2012_MODULES or self.server.host.os.startswith("2012")

    @property
    def powershell(self) -> str:
        """The host's Windows PowerShell version ($PSVersionTable.PSVersion)."""
        return self.server.host.powershell

    def parse(self, script: str, errors: ClixmlErrorStream):
        """The parsed script, or None when this host's PowerShell refuses to parse it (a syntax error, or a
        construct its version lacks, e.g. -notin on 2.0), the parse error written: nothing of it runs."""
        try:
            parsed = parse_script(script)
        except ScriptParseError as exc:
            errors.write_error(exc, None, exc.position, parse_error=True)
            return None
        found = first_missing(script, self.powershell)
        if found is not None and found.at_parse:
            errors.write_error(found.error, None, found.position, parse_error=True)
            return None
        return parsed

    def resolve(self, ctx: CmdletContext, name: str) -> CmdletInfo:
        """The command `name` names on this server, auto-importing the Lync module as PowerShell 3.0 does."""
        since = cmdlet_since(name)
        if since is not None and older(self.powershell, since):
            # A cmdlet a later Windows PowerShell added (ConvertTo-Json, Get-CimInstance on 2.0): not there at all.
            raise engine.not_recognized(name)
        info = self.catalog.get(name)
        if info is None:
            known = self.catalog.not_implemented(name)
            if known is not None:
                cmdlet, module = known
                raise PSError(f"The Windows PowerShell 3.0 cmdlet '{cmdlet}' ({module}) is not supported by the "
                              "lync.migration lab.", "LabNotSupported", category="NotImplemented", target=name,
                              exception="System.NotSupportedException")
            raise engine.not_recognized(name)
        if info.module == "Lync":
            if not engine.server_has(ctx, "lync"):
                raise engine.not_recognized(name)
            self.import_module(ctx, "Lync")
        return info

    def invoke_bound(self, ctx: CmdletContext, bound: BoundCall) -> list:
        return engine.invoke(ctx, bound.cmdlet.name, bound.params, bound.audit_params)

    def call_cmdlet(self, ctx: CmdletContext, name: str, params: dict) -> list:
        """`& $name @params` for an engine-implemented cmdlet: resolve, bind, invoke; binding failures audited."""
        info = self.resolve(ctx, name)
        try:
            bound = bind_named(info, params)
        except PSError as error:
            from .binder import redact

            engine.record_rejected(ctx, info.name, redact(params), error)
            raise
        unmodelled = [p for p in info.unsupported_parameters if p in bound.params]
        if unmodelled:
            raise PSError(f"The parameter -{unmodelled[0]} of {info.name} is not supported by the lync.migration lab.",
                          "LabNotSupported", category="NotImplemented", target=info.name,
                          exception="System.NotSupportedException")
        if info.implemented_by != "engine":
            raise PSError(f"{info.name} is not supported by the lync.migration lab in this context.",
                          "LabNotSupported", category="NotImplemented", target=info.name,
                          exception="System.NotSupportedException")
        return self.invoke_bound(ctx, bound)


def _decode(data: bytes, codepage: int) -> str:
    return data.decode("utf-8" if codepage == 65001 else "cp437", errors="replace")


def _stdin_lines(stdin, codepage: int):
    """The lines of standard input as they arrive (a reader with readline(): WinRS sends stdin in pieces while
    the process runs), or all of it at once from a reader that only has read()."""
    readline = getattr(stdin, "readline", None)
    if readline is None:
        yield from _decode(stdin.read(), codepage).replace("\r\n", "\n").split("\n")
        return
    while True:
        raw = readline()
        if not raw:
            return
        yield _decode(raw, codepage).rstrip("\r\n")
