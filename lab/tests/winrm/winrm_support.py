"""Support for the WinRM layer tests: a minimal lab object and a small test-only runtime.

The listener needs from the lab only: state_dir, faults, check_password, ntlm_accounts, runtime_for.
The runtime here understands a few command lines, enough to exercise the protocol:
  echo TEXT            stdout TEXT
  late SECONDS TEXT    sleep, then stdout TEXT
  cat                  stdout = everything sent on stdin (decoded with the shell's code page)
  whoami               stdout "user|auth|can_delegate|codepage"
  name                 stdout a non-ASCII name
  fail                 stderr "boom", exit 3
  count                stdout the number of commands this runtime has started
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

from lync_lab.faults import FaultPlan
from lync_lab.context import ServerInfo
from lync_lab.winrm.shells import codec_for

PASSWORD = "Lab-Passw0rd!"
NON_ASCII_NAME = "José Álvarez"
ACCOUNTS = {("CONTOSO", "lyncadmin"): PASSWORD, ("CONTOSO", "kim"): "Other-Passw0rd!"}


class ScriptRuntime:
    def __init__(self) -> None:
        self.started = 0
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def run(self, session, command_line, stdin, out) -> int:
        with self.lock:
            self.started += 1
            self.lines.append(command_line)
        verb, _, rest = command_line.partition(" ")
        if verb == "echo":
            out.stdout(rest + "\r\n")
            return 0
        if verb == "late":
            seconds, _, text = rest.partition(" ")
            time.sleep(float(seconds))
            out.stdout(text + "\r\n")
            return 0
        if verb == "cat":
            out.stdout(stdin.read().decode(codec_for(session.codepage)))
            return 0
        if verb == "whoami":
            out.stdout(f"{session.user}|{session.auth}|{session.can_delegate}|{session.codepage}")
            return 0
        if verb == "name":
            out.stdout(NON_ASCII_NAME)
            return 0
        if verb == "fail":
            out.stderr("boom")
            return 3
        if verb == "count":
            out.stdout(str(self.started))
            return 0
        out.stderr(f"'{verb}' is not recognized as an internal or external command")
        return 1


def check_password(user: str, password: str) -> str | None:
    domain, sep, name = user.rpartition("\\")
    for (acct_domain, acct_user), acct_password in ACCOUNTS.items():
        if name.lower() == acct_user and (not sep or domain.lower() == acct_domain.lower()):
            return f"{acct_domain}\\{acct_user}" if password == acct_password else None
    return None


def make_lab(state_dir: Path, faults: str | None = None):
    runtime = ScriptRuntime()
    return SimpleNamespace(
        state_dir=state_dir,
        faults=FaultPlan.parse(faults),
        check_password=check_password,
        ntlm_accounts=lambda: [(d, u, p) for (d, u), p in ACCOUNTS.items()],
        runtime_for=lambda server: runtime,
        scenario=SimpleNamespace(domain="contoso.net"),
        runtime=runtime,
    )


SERVER = ServerInfo(fqdn="fe01.contoso.net", role="lync_frontend", pool="pool01.contoso.net")


def endpoint(listener) -> str:
    return f"{listener.scheme}://127.0.0.1:{listener.port}/wsman"
