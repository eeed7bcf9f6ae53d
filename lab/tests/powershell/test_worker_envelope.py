"""The worker envelope (issue #15): request after request in one powershell.exe process, read from stdin as each
line arrives, the one-request envelope unchanged beside it.

Microsoft sources:
- dotnet/dotnet-api-docs:xml/System.IO/TextReader.xml (ReadLine): the next line, or null once the end of the
  input is reached: the worker's `if($null -eq $l){exit 0}` ends it when stdin ends.
- MicrosoftDocs/PowerShell-Docs:reference/5.1/Microsoft.PowerShell.Core/About/about_While.md: `while(<condition>)
  {<statement list>}` reruns the list as long as the condition is true (a PowerShell 1.0 statement, so on every
  host PowerShell the lab models: 2.0 on OCS hosts, 3.0/4.0 on Lync hosts).
- MicrosoftDocs/PowerShell-Docs:reference/5.1/Microsoft.PowerShell.Core/About/about_Booleans.md: what `if(G $q
  'stop')` takes as true.
- MicrosoftDocs/sdk-api:sdk-api-src/content/wsman/nf-wsman-wsmansendshellinput.md: input is sent to a running
  command in pieces, endOfStream TRUE only once the end of the stream is reached (here: StdinReader fed in pieces).
The scripts are envelope_v2.ps1 (the worker envelope, what the collection sends since issue #15) and
envelope_v1.ps1 (the one-request envelope before it) next to this file, byte for byte.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import threading
from pathlib import Path

import pytest

from lync_lab.powershell.envelope import (KNOWN_ENVELOPE_SHA256, ONE_REQUEST_ENVELOPE_SHA256,
                                          WORKER_ENVELOPE_SHA256, envelope_sha256)
from lync_lab.winrm.shells import StdinReader

from conftest import SESSION, Sink
from collection_envelope import envelope as collection

WORKER_SCRIPT = (Path(__file__).parent / "envelope_v2.ps1").read_text(encoding="utf-8")
WORKER_LINE = base64.b64encode(WORKER_SCRIPT.encode("utf-8")) + b"\r\n"
# The collection's envelope before issue #15 (commit fe33c99), one request per process: clients that still send it.
ONE_REQUEST_SCRIPT = (Path(__file__).parent / "envelope_v1.ps1").read_text(encoding="utf-8")


def request_line(calls, modules=("Lync",), **extra) -> bytes:
    request = {"v": 1, "modules": list(modules), "calls": calls, **extra}
    return base64.b64encode(json.dumps(request).encode("utf-8")) + b"\r\n"


def lines_of(sink) -> list[dict]:
    return [json.loads(line) for line in sink.stdout_text.splitlines()]


class Worker:
    """One powershell.exe running the collection's loader with the worker envelope, fed like WinRS feeds it."""

    def __init__(self, host) -> None:
        self.stdin = StdinReader()
        self.sink = Sink()
        self.written = threading.Condition()
        original = self.sink.stdout

        def stdout(text):
            with self.written:
                original(text)
                self.written.notify_all()

        self.sink.stdout = stdout
        exe, args = collection.command_line()
        self.code = None
        self.thread = threading.Thread(target=self._run, args=(host, " ".join([exe] + args)), daemon=True)
        self.stdin.feed(WORKER_LINE, end=False)
        self.thread.start()

    def _run(self, host, command_line):
        self.code = host.run(SESSION, command_line, self.stdin, self.sink)

    def send(self, data: bytes, end: bool = False) -> None:
        self.stdin.feed(data, end)

    def wait_for_done(self, count: int, timeout: float = 10.0) -> list[dict]:
        """The lines written once the count-th done line is there (the process still running)."""
        with self.written:
            assert self.written.wait_for(lambda: self.sink.stdout_text.count('{"done":true}') >= count, timeout)
        return lines_of(self.sink)

    def finish(self, timeout: float = 10.0) -> int:
        self.thread.join(timeout)
        assert not self.thread.is_alive()
        return self.code


def test_the_lab_knows_both_envelopes_and_which_one_serves_many_requests():
    assert envelope_sha256(WORKER_SCRIPT) == "b06df5ed3749c02223eef4244fe16f7d49cd6b1194513b6e56758026409349c0"
    assert envelope_sha256(WORKER_SCRIPT) in WORKER_ENVELOPE_SHA256
    assert WORKER_ENVELOPE_SHA256 | ONE_REQUEST_ENVELOPE_SHA256 == KNOWN_ENVELOPE_SHA256
    assert not WORKER_ENVELOPE_SHA256 & ONE_REQUEST_ENVELOPE_SHA256


@pytest.mark.parametrize("version", ["2.0", "3.0", "4.0"])
def test_worker_envelope_parses_on_every_modelled_host_powershell(host, version, monkeypatch):
    """[ScriptBlock]::Create parses the whole envelope first; `while($true){...}`, `exit 0` and `Get-Module $m`
    inside `if` are all PowerShell 1.0/2.0 language (about_While), so 2.0 (OCS hosts) parses it as 3.0/4.0 do."""
    monkeypatch.setattr(host, "server", dataclasses.replace(
        host.server, host=dataclasses.replace(host.server.host, powershell=version)))
    sink = Sink()
    from lync_lab.powershell.clixml import ClixmlErrorStream

    errors = ClixmlErrorStream(sink)
    parsed = host.parse(WORKER_SCRIPT, errors)
    errors.close()
    assert parsed is not None and sink.stderr_text == ""
    kinds = set()

    def walk(node):
        kinds.add(node.type)
        for child in node.children:
            walk(child)

    walk(parsed.root)
    assert {"while_statement", "flow_control_statement", "if_statement"} <= kinds and "ERROR" not in kinds


def test_requests_sent_one_by_one_are_each_answered_before_the_next_arrives(host, engine_double):
    """Each request line is read as it arrives and answered in full (ready, one line per call, done) while the
    process keeps running; PowerShell starts and the Lync module is imported once for the whole process."""
    worker = Worker(host)
    worker.send(request_line([{"id": "0", "cmdlet": "Get-CsUser", "params": {"Identity": "Ken Myer"},
                               "select": ["RegistrarPool"]}]))
    first = worker.wait_for_done(1)
    assert first == [{"ready": True, "computer": "FE01", "ps": "3.0"},
                     {"id": "0", "ok": True, "objects": [{"RegistrarPool": "ocspool01.contoso.net"}]},
                     {"done": True}]
    assert worker.thread.is_alive()        # idle, waiting for the next line
    worker.send(request_line([{"id": "0", "cmdlet": "Move-CsLegacyUser",
                               "params": {"Identity": "Ken Myer", "Target": "pool02.contoso.net", "PassThru": True},
                               "select": ["RegistrarPool"]}]))
    second = worker.wait_for_done(2)[3:]
    assert second[1] == {"id": "0", "ok": True, "objects": [{"RegistrarPool": "pool02.contoso.net"}]}
    worker.send(b"", end=True)             # stdin ends: ReadLine gives $null, exit 0
    assert worker.finish() == 0
    assert host.lab.latency.starts == 1 and host.lab.latency.imports == ["Lync"]


def test_a_stop_request_ends_the_process_with_nothing_written(host, engine_double):
    worker = Worker(host)
    worker.send(request_line([{"id": "0", "cmdlet": "Get-Service", "params": {"Name": "RTCSRV"}}]))
    worker.wait_for_done(1)
    worker.send(request_line([], stop=True) + request_line([{"id": "0", "cmdlet": "Get-CsUser", "params": {}}]))
    assert worker.finish() == 0            # stdin not ended: the stop request alone ends it
    assert worker.sink.stdout_text.count('{"done":true}') == 1
    assert [c[0] for c in engine_double.calls] == ["Get-Service"]


def test_named_results_and_the_credential_belong_to_their_request(host, engine_double):
    """$R and the credential are set per request: a later request cannot name an earlier request's results, and a
    request without a credential passes none."""
    worker = Worker(host)
    worker.send(request_line([{"id": "a", "cmdlet": "Get-CsUser", "params": {"Identity": "Ken Myer"},
                               "name": "ken"},
                              {"id": "b", "cmdlet": "Move-CsLegacyUser", "pass_credential": True,
                               "params": {"Identity": {"result_of": "ken"}, "Target": "pool02"}}],
                             credential={"username": "CONTOSO\\lyncadmin", "password": "Pa$$w0rd!"}))
    worker.send(request_line([{"id": "c", "cmdlet": "Move-CsLegacyUser", "pass_credential": True,
                               "params": {"Identity": {"result_of": "ken"}, "Target": "pool02"}},
                              {"id": "d", "cmdlet": "Move-CsLegacyUser", "pass_credential": True,
                               "params": {"Identity": "Ken Myer", "Target": "pool02"}}]), end=True)
    assert worker.finish() == 0
    lines = lines_of(worker.sink)
    assert [line.get("id") for line in lines] == [None, "a", "b", None, None, "c", "d", None]
    assert lines[2]["ok"] is True and engine_double.calls[1][1]["Credential"].password == "Pa$$w0rd!"
    assert lines[5]["error"]["message"] == "no earlier result named ken"
    assert lines[6]["ok"] is True and "Credential" not in engine_double.calls[2][1]


def test_a_fatal_request_ends_the_process_and_later_lines_are_not_read(host, engine_double):
    """A request that cannot be served (here a module that is not allowed) gets the fatal line and exit 1, as the
    one-request envelope does; the worker does not go on to the next line."""
    worker = Worker(host)
    worker.send(request_line([], modules=("ActiveDirectory",))
                + request_line([{"id": "0", "cmdlet": "Get-CsUser", "params": {}}]), end=True)
    assert worker.finish() == 1
    lines = lines_of(worker.sink)
    assert len(lines) == 1 and lines[0]["fatal"]["message"] == "module not allowed: ActiveDirectory"
    assert engine_double.calls == []


def test_too_old_a_host_for_a_request_is_fatal_before_any_import(host, engine_double, monkeypatch):
    monkeypatch.setattr(host, "server", dataclasses.replace(
        host.server, host=dataclasses.replace(host.server.host, powershell="2.0")))
    worker = Worker(host)
    worker.send(request_line([], min_ps="3.0"), end=True)
    assert worker.finish() == 1
    assert lines_of(worker.sink) == [{"fatal": {"message": "Windows PowerShell 2.0 is older than 3.0",
                                                "fqid": "PowerShellVersionTooOld", "category": "NotInstalled",
                                                "target": "2.0", "exception": "", "transient": False},
                                      "ps": "2.0", "computer": "FE01"}]
    assert host.lab.latency.imports == []


def test_the_one_request_envelope_answers_its_request_and_ends_without_reading_more(host, engine_double):
    """The collection's previous envelope (envelope_v1.ps1, 4ed365de) reads one request line and ends: a second
    line is never run, so a client that still has it gets one request per process whatever it sends."""
    assert envelope_sha256(ONE_REQUEST_SCRIPT) in ONE_REQUEST_ENVELOPE_SHA256
    exe, args = collection.command_line()
    stdin = StdinReader()
    stdin.feed(base64.b64encode(ONE_REQUEST_SCRIPT.encode("utf-8")) + b"\r\n", end=False)
    stdin.feed(request_line([{"id": "0", "cmdlet": "Get-Service", "params": {"Name": "RTCSRV"}}]), end=False)
    stdin.feed(request_line([{"id": "1", "cmdlet": "Get-CsUser", "params": {}}]), end=False)
    sink = Sink()
    done = {}
    worker = threading.Thread(target=lambda: done.update(code=host.run(SESSION, " ".join([exe] + args), stdin, sink)),
                              daemon=True)
    worker.start()
    worker.join(10)                         # it ends although stdin never did
    assert done.get("code") == 0 and [line.get("id") for line in lines_of(sink)] == [None, "0", None]
    assert [c[0] for c in engine_double.calls] == ["Get-Service"]


def test_stdin_reader_hands_out_lines_as_they_complete_across_sends():
    """Sends split anywhere (inside a line, several lines at once); readline gives each whole line once it has
    its line break, the rest once stdin has ended."""
    reader = StdinReader()
    reader.feed(b"ab", end=False)
    reader.feed(b"c\r\nde", end=False)
    assert reader.readline() == b"abc\r\n"
    reader.feed(b"f\nxy\n", end=False)
    assert reader.readline() == b"def\n" and reader.readline() == b"xy\n"
    reader.feed(b"tail", end=True)
    assert reader.readline() == b"tail" and reader.readline() == b""


def test_stdin_reader_serves_many_lines_without_rescanning_what_it_has_read():
    """20,000 requests on one command: reading them is linear in the bytes sent (the old reader joined every
    chunk again on each readline, quadratic: ~2 * 10^11 bytes copied here, minutes instead of milliseconds)."""
    reader = StdinReader()
    line = b"x" * 1000 + b"\r\n"
    for _ in range(20_000):
        reader.feed(line, end=False)
    reader.close()
    count = 0
    while reader.readline():
        count += 1
    assert count == 20_000
