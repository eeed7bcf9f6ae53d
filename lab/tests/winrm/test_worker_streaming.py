"""A WinRS command's stdin served as Windows serves it: several Sends before the one with End, the process reading
each line as it arrives, its output handed out by Receive as it is written while the command runs. Driven by an
unmodified pywinrm client against the real lab (contoso-small, stage 6), running the collection's loader with
the worker envelope (issue #15).

Microsoft sources:
- MicrosoftDocs/sdk-api:sdk-api-src/content/wsman/nf-wsman-wsmansendshellinput.md: WSManSendShellInput pipes
  input to a running command; endOfStream is TRUE once the end of the stream is reached, FALSE otherwise (so
  a client may send input in several pieces and end it only with the last).
- MicrosoftDocs/sdk-api:sdk-api-src/content/wsman/ns-wsman-wsman_receive_data_result.md: each Receive result
  carries the command's state; the exit code means something only once the state is Done.
- [MS-WSMV] 3.1.4.14 Receive: Receive collects the output of a running command
  (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/50cc2c38-e094-4d59-aec2-39e09f314862);
  2.2.5.4 CommandStateEnumeration: Running, Pending, Done
  (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/bd5802af-51ad-4f1b-9a5c-7aa499d5eee9).
- MicrosoftDocs/sdk-api:sdk-api-src/content/wsman/nf-wsman-wsmansignalshell.md: the terminate code stands for the
  command prompt being closed (the process ends).
- MicrosoftDocs/win32:desktop-src/WinRM/quotas.md (IdleTimeout): an inactive remote shell is deleted after
  IdleTimeout.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from winrm.exceptions import WinRMOperationTimeoutError, WSManFaultError
from winrm.protocol import Protocol

from lync_lab.config import LabConfig
from lync_lab.lab import Lab
from lync_lab.winrm.listener import WinRMListener
from lync_lab.winrm.shells import CLR_UNHANDLED_EXCEPTION_EXIT, CTRL_C_EXIT

ROOT = Path(__file__).resolve().parents[3]
WORKER_SCRIPT = (ROOT / "lab/tests/powershell/envelope_v2.ps1").read_text(encoding="utf-8")
WORKER_LINE = base64.b64encode(WORKER_SCRIPT.encode("utf-8")) + b"\r\n"
FRONT_END = "lync-fe01.contoso.net"
PASSWORD = "Lab-Passw0rd!"       # contoso-small's accounts (lab/lync_lab/scenarios/contoso-small.yml)


def _collection_envelope():
    """The collection's envelope module, through the lab tests' importer (lab/tests/powershell)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("lab_tests_collection_envelope",
                                                  ROOT / "lab/tests/powershell/collection_envelope.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.envelope


collection = _collection_envelope()


class CountingLatency:
    """The lab's latency model with no delay, counting PowerShell starts and module imports."""

    def __init__(self, model) -> None:
        self._model = model
        self.starts = 0
        self.imports: list[str] = []

    def __getattr__(self, name):
        return getattr(self._model, name)

    def powershell_start(self) -> None:
        self.starts += 1

    def import_module(self, name: str) -> None:
        self.imports.append(name)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = Lab(LabConfig(state_dir=tmp_path_factory.mktemp("worker-lab"), stage=6))
    yield lab
    lab.store.close()


@pytest.fixture
def front_end(lab):
    """An HTTP listener for the Lync Front End (a fresh one per test: its shells die with it)."""
    lab.latency = CountingLatency(getattr(lab.latency, "_model", lab.latency))
    listener = WinRMListener(lab, lab.server(FRONT_END), "127.0.0.1", 0, tls=None)
    listener.start()
    yield listener
    listener.stop()


def client(listener) -> Protocol:
    return Protocol(f"http://127.0.0.1:{listener.port}/wsman", transport="ntlm", username="CONTOSO\\lyncadmin",
                    password=PASSWORD, operation_timeout_sec=2, read_timeout_sec=5)


def request_line(calls, **extra) -> bytes:
    request = {"v": 1, "modules": ["Lync"], "calls": calls, **extra}
    return base64.b64encode(json.dumps(request).encode("utf-8")) + b"\r\n"


def start_worker(p: Protocol):
    shell = p.open_shell(codepage=65001)
    exe, args = collection.command_line()
    command = p.run_command(shell, exe, args)
    p.send_command_input(shell, command, WORKER_LINE, end=False)
    return shell, command


def receive_until(p: Protocol, shell: str, command: str, done_lines: int, timeout: float = 30.0):
    """Raw Receives until stdout holds ``done_lines`` done lines; (stdout text, command state Done?, exit code)."""
    stdout = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            out, _err, code, done = p.get_command_output_raw(shell, command)
        except WinRMOperationTimeoutError:
            continue
        stdout += out
        if done or stdout.count(b'{"done":true}') >= done_lines:
            return stdout.decode("utf-8"), done, code
    raise AssertionError(f"no {done_lines} done line(s) in {timeout} s: {stdout!r}")


def test_two_requests_on_one_command_each_answered_before_the_next_send(front_end, lab):
    """pywinrm's send_command_input(..., end=False) twice: the first request's done line comes back (command
    still Running) before the second request is sent; then an empty Send with End, and the command is Done
    with exit code 0. PowerShell started once, the Lync module imported once."""
    p = client(front_end)
    shell, command = start_worker(p)
    p.send_command_input(shell, command, request_line(
        [{"id": "0", "cmdlet": "Get-CsUser", "params": {"Identity": "Adam Barr"}, "select": ["RegistrarPool"]}]))
    first, done, _ = receive_until(p, shell, command, 1)
    assert not done                                     # CommandState Running: the worker waits for more
    lines = [json.loads(line) for line in first.splitlines()]
    assert lines[0]["ready"] is True and lines[-1] == {"done": True}
    assert lines[1]["ok"] is True and lines[1]["objects"][0]["RegistrarPool"]

    p.send_command_input(shell, command, request_line(
        [{"id": "1", "cmdlet": "Get-CsUser", "params": {"Identity": "Adam Barr"}, "select": ["SipAddress"]}]))
    second, done, _ = receive_until(p, shell, command, 1)
    assert not done
    assert [json.loads(line).get("id") for line in second.splitlines()] == [None, "1", None]

    p.send_command_input(shell, command, b"", end=True)
    rest, done, code = receive_until(p, shell, command, 99)
    assert (rest, done, code) == ("", True, 0)
    p.cleanup_command(shell, command)
    p.close_shell(shell)
    assert lab.latency.starts == 1 and lab.latency.imports == ["Lync"]


def test_an_idle_worker_answers_receive_with_the_timeout_fault_and_keeps_running(front_end):
    """Between requests nothing is written: each Receive waits its OperationTimeout and gets w:TimedOut
    (pywinrm's WinRMOperationTimeoutError); nothing is lost, the next request is served as before."""
    p = client(front_end)
    shell, command = start_worker(p)
    p.send_command_input(shell, command, request_line([{"id": "0", "cmdlet": "Get-CsPool", "params": {}}]))
    receive_until(p, shell, command, 1)
    for _ in range(2):
        with pytest.raises(WinRMOperationTimeoutError):
            p.get_command_output_raw(shell, command)
    p.send_command_input(shell, command, request_line([{"id": "1", "cmdlet": "Get-CsPool", "params": {}}]))
    again, done, _ = receive_until(p, shell, command, 1)
    assert not done and json.loads(again.splitlines()[1])["id"] == "1"
    p.send_command_input(shell, command, request_line([], stop=True))     # stop: exit 0 with stdin still open
    rest, done, code = receive_until(p, shell, command, 99)
    assert (rest, done, code) == ("", True, 0)
    p.close_shell(shell)


def test_signal_terminate_ends_an_idle_worker(front_end, lab):
    """Terminate (what pywinrm's cleanup_command sends) ends the process: the command is gone, a new command
    starts a new process (PowerShell started again)."""
    p = client(front_end)
    shell, command = start_worker(p)
    p.send_command_input(shell, command, request_line([{"id": "0", "cmdlet": "Get-CsPool", "params": {}}]))
    receive_until(p, shell, command, 1)
    p.cleanup_command(shell, command)
    manager = front_end.shells
    assert manager.running_commands_of("CONTOSO\\lyncadmin") == 0
    with pytest.raises(WSManFaultError):
        p.send_command_input(shell, command, request_line([]))
    command = p.run_command(shell, *collection.command_line())
    assert lab.latency.starts == 2
    p.cleanup_command(shell, command)
    p.close_shell(shell)


def test_ctrl_c_ends_a_worker_with_the_ctrl_c_exit_code(front_end):
    """nf-wsman-wsmansignalshell.md: the CTRL+C code halts the process; the command reads as Done with the
    exit code a console process gets from Ctrl+C (STATUS_CONTROL_C_EXIT, as lab/lync_lab/winrm/shells.py says)."""
    p = client(front_end)
    shell, command = start_worker(p)
    p.send_command_input(shell, command, request_line([{"id": "0", "cmdlet": "Get-CsPool", "params": {}}]))
    receive_until(p, shell, command, 1)
    _signal(p, shell, command, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c")
    _, done, code = receive_until(p, shell, command, 99)
    assert done and code == CTRL_C_EXIT
    p.cleanup_command(shell, command)
    p.close_shell(shell)


def _signal(p: Protocol, shell: str, command: str, code: str) -> None:
    """A Signal with any code (pywinrm itself only sends terminate)."""
    import xmltodict

    req = {"env:Envelope": p.build_wsman_header(
        resource_uri="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd",
        action="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal", shell_id=shell)}
    signal = req["env:Envelope"].setdefault("env:Body", {}).setdefault("rsp:Signal", {})
    signal["@CommandId"] = command
    signal["rsp:Code"] = code
    p.send_message(xmltodict.unparse(req))


def test_deleting_the_shell_ends_its_idle_worker(front_end):
    p = client(front_end)
    shell, command = start_worker(p)
    p.send_command_input(shell, command, request_line([{"id": "0", "cmdlet": "Get-CsPool", "params": {}}]))
    receive_until(p, shell, command, 1)
    p.close_shell(shell, close_session=False)
    assert front_end.shells.shells_of("CONTOSO\\lyncadmin") == 0
    with pytest.raises(WSManFaultError) as info:
        p.send_command_input(shell, command, request_line([]))
    assert info.value.wsman_fault_code == 2150858843      # the shell is not found


def test_a_worker_whose_client_goes_quiet_past_idle_timeout_is_reaped(front_end):
    """quotas.md: an inactive shell is deleted after IdleTimeout. A running worker does not keep its shell alive
    by itself; a client that keeps sending requests (a Receive poll is one) does."""
    manager = front_end.shells
    saved = manager.idle_timeout
    manager.idle_timeout = 1.5
    try:
        p = client(front_end)
        shell, command = start_worker(p)
        p.send_command_input(shell, command, request_line([{"id": "0", "cmdlet": "Get-CsPool", "params": {}}]))
        receive_until(p, shell, command, 1)
        for _ in range(2):                          # 4 s of Receive polls (2 s OperationTimeout each): alive
            with pytest.raises(WinRMOperationTimeoutError):
                p.get_command_output_raw(shell, command)
        assert manager.shells_of("CONTOSO\\lyncadmin") == 1
        time.sleep(3.5)                             # no request at all
        assert manager.shells_of("CONTOSO\\lyncadmin") == 0
        assert manager.running_commands_of("CONTOSO\\lyncadmin") == 0
        with pytest.raises(WSManFaultError) as info:
            p.get_command_output_raw(shell, command)
        assert info.value.wsman_fault_code == 2150858843
    finally:
        manager.idle_timeout = saved


def test_a_worker_keeps_its_module_memory_and_a_second_worker_in_the_same_shell_counts_against_it(front_end):
    """quotas.md: MaxMemoryPerShellMB is the memory of the shell including its child processes. A worker keeps
    powershell.exe, cmd.exe and the Lync module (107 MB in the lab's assumed model) while it idles; in a shell
    held to 150 MB (a WMF 3.0 host without KB2842230, lync_lab/hosts.py) a second worker that loads the module
    too goes past it and dies as an out-of-memory process does; the same second worker in its own shell lives."""
    manager = front_end.shells
    saved = manager.memory_limit_mb
    manager.memory_limit_mb = 150
    try:
        p = client(front_end)
        shell, first = start_worker(p)
        p.send_command_input(shell, first, request_line([{"id": "0", "cmdlet": "Get-CsPool", "params": {}}]))
        receive_until(p, shell, first, 1)
        second = p.run_command(shell, *collection.command_line())
        p.send_command_input(shell, second, WORKER_LINE + request_line(
            [{"id": "0", "cmdlet": "Get-CsPool", "params": {}}]))
        out, done, code = receive_until(p, shell, second, 1)
        assert done and code == CLR_UNHANDLED_EXCEPTION_EXIT and out == ""
        p.cleanup_command(shell, second)
        p.send_command_input(shell, first, request_line([{"id": "1", "cmdlet": "Get-CsPool", "params": {}}]))
        again, done, _ = receive_until(p, shell, first, 1)       # the first worker is unharmed
        assert not done and json.loads(again.splitlines()[1])["id"] == "1"

        other = p.open_shell(codepage=65001)
        third = p.run_command(other, *collection.command_line())
        p.send_command_input(other, third, WORKER_LINE + request_line(
            [{"id": "0", "cmdlet": "Get-CsPool", "params": {}}]))
        out, done, _ = receive_until(p, other, third, 1)
        assert not done and out.endswith('{"done":true}\r\n')
        for s, c in ((shell, first), (other, third)):
            p.cleanup_command(s, c)
            p.close_shell(s, close_session=False)
    finally:
        manager.memory_limit_mb = saved
