"""`lync-lab shell`: a PS> prompt against a running lab, over real WinRM (pywinrm, NTLM, one shell kept open).

Each line runs as `powershell.exe -NoProfile -NonInteractive -EncodedCommand <line>` in that shell, as a
remote admin's tooling would run it; stderr's CLIXML is decoded to plain text.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import os
import sys

from .powershell.clixml import decode_clixml

RED = "\033[31m"
RESET = "\033[0m"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lync-lab shell", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=55985)
    parser.add_argument("--user", default="CONTOSO\\lyncadmin")
    parser.add_argument("--password", default=os.environ.get("LYNC_LAB_PASSWORD"),
                        help="default: $LYNC_LAB_PASSWORD, else asked for")
    return parser


def encoded_command(line: str) -> list[str]:
    return ["-NoProfile", "-NonInteractive", "-EncodedCommand",
            base64.b64encode(line.encode("utf-16-le")).decode("ascii")]


class RemoteShell:
    """One WinRS shell on the lab's endpoint; `run(line)` -> (stdout, plain stderr, exit code)."""

    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        from winrm.protocol import Protocol

        self.protocol = Protocol(endpoint=f"http://{host}:{port}/wsman", transport="ntlm", username=user,
                                 password=password, server_cert_validation="ignore")
        self.shell_id = self.protocol.open_shell(codepage=65001)

    def run(self, line: str) -> tuple[str, str, int]:
        command_id = self.protocol.run_command(self.shell_id, "powershell.exe", encoded_command(line))
        try:
            out, err, code = self.protocol.get_command_output(self.shell_id, command_id)
        finally:
            self.protocol.cleanup_command(self.shell_id, command_id)
        return out.decode("utf-8", "replace"), decode_clixml(err.decode("utf-8", "replace")), code

    def close(self) -> None:
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
            out, err, _ = shell.run(line)
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
