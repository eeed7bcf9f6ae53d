"""`lync-lab shell`: a PS> prompt against a running lab, over real WinRM (pywinrm, NTLM, one shell kept open).

One `powershell.exe -NoProfile -NonInteractive -Command -` runs for the whole session and reads each typed line
from its standard input as it is sent (WinRS Send), as a PowerShell prompt runs lines in one runspace: a variable
set on one line is there on the next. After each line the shell sends `Write-Output '<marker>'` with a marker of
its own (no typed text in it) and prints what came back until that marker; stderr's CLIXML error records are
decoded to plain text as they arrive.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
import uuid
from xml.sax.saxutils import unescape

RED = "\033[31m"
RESET = "\033[0m"
POWERSHELL_ARGS = ["-NoProfile", "-NonInteractive", "-Command", "-"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lync-lab shell", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=55985)
    parser.add_argument("--user", default="CONTOSO\\lyncadmin")
    parser.add_argument("--password", default=os.environ.get("LYNC_LAB_PASSWORD"),
                        help="default: $LYNC_LAB_PASSWORD, else asked for")
    return parser


class ErrorStreamDecoder:
    """Plain text from powershell.exe's CLIXML stderr, fed in pieces: each `<S S="Error">` element becomes its
    text (XML and `_xHHHH_` escapes undone) once it is complete; stderr that is not CLIXML passes through."""

    _ELEMENT = re.compile(r'<S S="Error">(.*?)</S>', re.S)

    def __init__(self) -> None:
        self._buffer = ""
        self._clixml: bool | None = None

    def feed(self, text: str) -> str:
        self._buffer += text
        if self._clixml is None:
            if len(self._buffer) < len("#< CLIXML") and "#< CLIXML".startswith(self._buffer):
                return ""
            self._clixml = self._buffer.startswith("#< CLIXML")
        if not self._clixml:
            out, self._buffer = self._buffer, ""
            return out
        out = []
        while True:
            match = self._ELEMENT.search(self._buffer)
            if match is None:
                break
            out.append(re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), unescape(match.group(1))))
            self._buffer = self._buffer[match.end():]
        return "".join(out)


class RemoteShell:
    """One WinRS shell on the lab's endpoint running one powershell.exe; `run(line)` -> (stdout, plain stderr)."""

    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        from winrm.protocol import Protocol

        self.protocol = Protocol(endpoint=f"http://{host}:{port}/wsman", transport="ntlm", username=user,
                                 password=password, server_cert_validation="ignore")
        self.shell_id = self.protocol.open_shell(codepage=65001)
        self.command_id: str | None = None

    def _start(self) -> None:
        self.command_id = self.protocol.run_command(self.shell_id, "powershell.exe", POWERSHELL_ARGS)
        self._errors = ErrorStreamDecoder()

    def run(self, line: str) -> tuple[str, str]:
        """Send one line to the running powershell.exe and collect its output up to the marker. If the line
        ended the process (`exit`), the next line starts a new one, with a new session state."""
        from winrm.exceptions import WinRMOperationTimeoutError

        if self.command_id is None:
            self._start()
        marker = f"lync-lab-shell-{uuid.uuid4().hex}"
        self.protocol.send_command_input(self.shell_id, self.command_id,
                                         f"{line}\r\nWrite-Output '{marker}'\r\n".encode("utf-8"))
        stdout, stderr = "", []
        while True:
            try:
                out, err, _code, done = self.protocol.get_command_output_raw(self.shell_id, self.command_id)
            except WinRMOperationTimeoutError:
                continue   # nothing yet: a long-running line
            stdout += out.decode("utf-8", "replace")
            stderr.append(self._errors.feed(err.decode("utf-8", "replace")))
            if f"{marker}\r\n" in stdout:
                return stdout.split(f"{marker}\r\n", 1)[0], "".join(stderr)
            if done:
                self.protocol.cleanup_command(self.shell_id, self.command_id)
                self.command_id = None
                return stdout, "".join(stderr)

    def close(self) -> None:
        if self.command_id is not None:
            self.protocol.send_command_input(self.shell_id, self.command_id, b"", end=True)
            self.protocol.cleanup_command(self.shell_id, self.command_id)
        self.protocol.close_shell(self.shell_id)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    password = args.password if args.password is not None else getpass.getpass(f"Password for {args.user}: ")
    try:
        shell = RemoteShell(args.host, args.port, args.user, password)
    except Exception as exc:  # connection refused, 401, ...: say what happened, no traceback
        print(f"lync-lab shell: cannot open a WinRM shell on http://{args.host}:{args.port}/wsman: {exc}",
              file=sys.stderr)
        return 1
    color = sys.stderr.isatty()
    try:
        while True:
            try:
                line = input("PS> ")
            except EOFError:
                print()
                break
            if line.strip().lower() == "exit":
                break
            if not line.strip():
                continue
            out, err = shell.run(line)
            if out:
                sys.stdout.write(out.replace("\r\n", "\n"))
                sys.stdout.flush()
            if err:
                text = err.replace("\r\n", "\n").rstrip() + "\n"
                sys.stderr.write(f"{RED}{text}{RESET}" if color else text)
                sys.stderr.flush()
    finally:
        shell.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
