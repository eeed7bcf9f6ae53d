"""A real lab (scenario contoso-small, seeded at a stage) and a way to call cmdlets on one of its servers through
lync_lab.engine.invoke, the path every call takes."""

from __future__ import annotations

import pytest

from lync_lab import engine
from lync_lab.config import LabConfig
from lync_lab.errors import PSError
from lync_lab.context import CmdletContext, SessionInfo
from lync_lab.lab import Lab

ADMIN = SessionInfo(user="CONTOSO\\lyncadmin", auth="ntlm")


class Shell:
    """One admin session on one server: ``sh("Get-CsPool", Identity="pool02.contoso.net")``."""

    def __init__(self, lab: Lab, server: str) -> None:
        self.lab = lab
        self.ctx = CmdletContext(lab, lab.server(server), ADMIN)

    def __call__(self, cmdlet: str, **params):
        return engine.invoke(self.ctx, cmdlet, params, params)

    def fails(self, cmdlet: str, **params) -> PSError:
        with pytest.raises(PSError) as info:
            self(cmdlet, **params)
        return info.value

    def tx(self):
        return self.lab.store.transaction()


@pytest.fixture
def lab_at(tmp_path):
    labs: list[Lab] = []

    def make(stage: int) -> Lab:
        lab = Lab(LabConfig(scenario="contoso-small", stage=stage, state_dir=tmp_path / f"stage{stage}-{len(labs)}"))
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.store.close()
        lab.audit.close()


@pytest.fixture
def fe(lab_at):
    """A shell on the pilot Front End, lync-fe01, at a given stage: ``fe(5)``."""

    def make(stage: int) -> Shell:
        return Shell(lab_at(stage), "lync-fe01.contoso.net")

    return make


@pytest.fixture
def shell_on():
    return Shell


class _Sink:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.err: list[str] = []

    def stdout(self, text: str) -> None:
        self.out.append(text)

    def stderr(self, text: str) -> None:
        self.err.append(text)


class _NoStdin:
    def read(self) -> bytes:
        return b""


def typed(lab: Lab, server: str, script: str) -> tuple[int, str, str]:
    """What an admin's `powershell -NonInteractive -EncodedCommand <script>` over WinRM gives: (exit, out, err)."""
    import base64

    sink = _Sink()
    encoded = base64.b64encode(script.encode("utf-16-le")).decode()
    code = lab.runtime_for(lab.server(server)).run(
        ADMIN, f"powershell.exe -NoProfile -NonInteractive -EncodedCommand {encoded}", _NoStdin(), sink)
    return code, "".join(sink.out), "".join(sink.err)


@pytest.fixture
def admin_types():
    return typed
