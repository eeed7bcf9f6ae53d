"""Injected faults (--faults) and Windows' quotas as a pywinrm client meets them."""

from __future__ import annotations

import threading
import time

import pytest
import requests
import xmltodict
from winrm.exceptions import WinRMOperationTimeoutError, WSManFaultError
from winrm.protocol import Protocol

from lync_lab.errors import LabConfigError
from lync_lab.faults import FaultPlan
from lync_lab.winrm.listener import WinRMListener
from winrm_support import PASSWORD, SERVER, endpoint, make_lab

SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"


# -- FaultPlan ---------------------------------------------------------------------------------------------

def test_fault_plan_parses_rates_and_seed():
    plan = FaultPlan.parse("http500=0.05, reset=0.1,slow=0,quota=1,cmdlet=0.5,seed=7")
    assert plan.enabled and plan.seed == 7
    assert plan.rates == {"http500": 0.05, "reset": 0.1, "slow": 0.0, "quota": 1.0, "cmdlet": 0.5}
    assert not FaultPlan.parse(None).enabled and not FaultPlan.parse("").enabled
    assert not FaultPlan.parse("seed=3").roll("reset")
    assert all(FaultPlan.parse("quota=1").roll("quota") for _ in range(20))


@pytest.mark.parametrize("spec", ["bogus=0.1", "reset=2", "reset=x", "seed=1.5", "reset"])
def test_fault_plan_rejects_bad_specs(spec):
    with pytest.raises(LabConfigError):
        FaultPlan.parse(spec)


def test_fault_plan_is_reproducible_from_its_seed_and_kinds_are_independent():
    a = FaultPlan.parse("reset=0.3,cmdlet=0.3,seed=7")
    b = FaultPlan.parse("reset=0.3,cmdlet=0.3,seed=7")
    seq_a = [a.roll("reset") for _ in range(200)]
    for _ in range(57):   # other kinds rolled in between do not shift the reset sequence
        b.roll("cmdlet")
    seq_b = [b.roll("reset") for _ in range(200)]
    assert seq_a == seq_b
    assert 30 < sum(seq_a) < 90
    c = FaultPlan.parse("reset=0.3,cmdlet=0.3,seed=8")
    assert [c.roll("reset") for _ in range(200)] != seq_a


def test_fault_plan_is_thread_safe():
    plan = FaultPlan.parse("cmdlet=0.5,seed=1")
    reference = FaultPlan.parse("cmdlet=0.5,seed=1")
    expected = sum(reference.roll("cmdlet") for _ in range(4000))
    hits = []

    def worker():
        hits.append(sum(plan.roll("cmdlet") for _ in range(1000)))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(hits) == expected == plan.counts["cmdlet"]


# -- faults on the wire ------------------------------------------------------------------------------------

@pytest.fixture()
def faulty(tmp_path, certs):
    """An HTTPS and an HTTP listener on a lab whose fault plan the test sets."""
    lab = make_lab(tmp_path)
    https = WinRMListener(lab, SERVER, "127.0.0.1", 0, tls=certs)
    http = WinRMListener(lab, SERVER, "127.0.0.1", 0, tls=None)
    https.start()
    http.start()
    yield lab, https, http
    https.stop()
    http.stop()


def basic(listener, certs, **kw) -> Protocol:
    kw.setdefault("operation_timeout_sec", 1)
    kw.setdefault("read_timeout_sec", 4)
    return Protocol(endpoint(listener), transport="basic", username="CONTOSO\\lyncadmin", password=PASSWORD,
                    ca_trust_path=str(certs.ca_path), **kw)


def test_http500_fault_answers_internal_error_and_runs_nothing(faulty, certs):
    lab, https, http = faulty
    p = basic(https, certs)
    shell = p.open_shell()
    lab.faults = FaultPlan.parse("http500=1")
    with pytest.raises(WSManFaultError) as info:
        p.run_command(shell, "echo", ["never"])
    assert info.value.code == 500 and info.value.fault_subcode == "w:InternalError"
    assert lab.runtime.started == 0
    lab.faults = FaultPlan.parse(None)
    cid = p.run_command(shell, "echo", ["now"])
    assert p.get_command_output(shell, cid)[0] == b"now\r\n"


def test_http500_fault_body_is_encrypted_over_http(faulty):
    lab, https, http = faulty
    p = Protocol(endpoint(http), transport="ntlm", username="CONTOSO\\lyncadmin", password=PASSWORD)
    shell = p.open_shell()
    lab.faults = FaultPlan.parse("http500=1")
    with pytest.raises(WSManFaultError) as info:
        p.run_command(shell, "echo", ["never"])
    assert info.value.fault_subcode == "w:InternalError"
    lab.faults = FaultPlan.parse(None)
    cid = p.run_command(shell, "echo", ["after"])     # the NTLM sequence numbers stayed in step
    assert p.get_command_output(shell, cid)[0] == b"after\r\n"


def test_reset_fault_drops_the_connection_and_runs_nothing(faulty, certs):
    lab, https, http = faulty
    p = basic(https, certs)
    shell = p.open_shell()
    lab.faults = FaultPlan.parse("reset=1")
    with pytest.raises(requests.exceptions.ConnectionError):
        p.run_command(shell, "echo", ["never"])
    assert lab.runtime.started == 0
    lab.faults = FaultPlan.parse(None)
    cid = p.run_command(shell, "echo", ["again"])
    assert p.get_command_output(shell, cid)[0] == b"again\r\n"


def test_slow_fault_times_out_the_receive_and_loses_nothing(faulty, certs):
    lab, https, http = faulty
    p = basic(https, certs)
    shell = p.open_shell()
    cid = p.run_command(shell, "echo", ["kept"])
    lab.faults = FaultPlan.parse("slow=1")
    started = time.monotonic()
    with pytest.raises(WinRMOperationTimeoutError):
        p.get_command_output_raw(shell, cid)
    assert time.monotonic() - started >= 1.0
    lab.faults = FaultPlan.parse(None)
    assert p.get_command_output(shell, cid) == (b"kept\r\n", b"", 0)


def test_quota_fault_on_create(faulty, certs):
    lab, https, http = faulty
    lab.faults = FaultPlan.parse("quota=1")
    with pytest.raises(WSManFaultError) as info:
        basic(https, certs).open_shell()
    assert info.value.wsman_fault_code == 2150859173
    assert https.shells.shells_of("CONTOSO\\lyncadmin") == 0


def test_seeded_faults_let_a_retrying_client_finish(faulty, certs):
    """A client that retries the failed step (not the whole sequence) sees every command run exactly once."""
    lab, https, http = faulty
    lab.faults = FaultPlan.parse("http500=0.3,quota=0.3,seed=7")

    def retried(step, *args):
        for _attempt in range(30):
            try:
                return step(*args)
            except WSManFaultError:
                continue
        raise AssertionError("30 faults in a row")

    p = basic(https, certs)
    outputs = []
    for i in range(5):
        shell = retried(p.open_shell)
        cid = retried(p.run_command, shell, "echo", [str(i)])
        outputs.append(retried(p.get_command_output, shell, cid)[0])
        retried(p.close_shell, shell, False)
    assert outputs == [f"{i}\r\n".encode() for i in range(5)]
    assert lab.faults.counts["http500"] > 0 and lab.faults.counts["quota"] > 0
    assert lab.runtime.started == 5     # every echo ran exactly once, none lost, none doubled


# -- quotas and signals -----------------------------------------------------------------------------------

def test_concurrent_operations_quota(faulty, certs):
    lab, https, http = faulty
    https.shells.max_operations_per_user = 2
    p = basic(https, certs)
    shell = p.open_shell()
    p.run_command(shell, "late 0.5 a")
    p.run_command(shell, "late 0.5 b")
    with pytest.raises(WSManFaultError) as info:
        p.run_command(shell, "echo", ["c"])
    assert info.value.wsman_fault_code == 2150859174
    assert "maximum number of 2 concurrent operations" in info.value.reason


def test_ctrl_c_ends_a_waiting_command(faulty, certs):
    lab, https, http = faulty
    p = basic(https, certs)
    shell = p.open_shell()
    cid = p.run_command(shell, "cat")   # waits for stdin that never comes
    req = {"env:Envelope": p.build_wsman_header(resource_uri=SHELL_URI + "/cmd", action=SHELL_URI + "/Signal",
                                                shell_id=shell)}
    req["env:Envelope"]["env:Body"] = {"rsp:Signal": {"@CommandId": cid, "rsp:Code": SHELL_URI + "/signal/ctrl_c"}}
    p.send_message(xmltodict.unparse(req))
    out, err, rc = p.get_command_output(shell, cid)
    assert rc == 0xC000013A
    p.close_shell(shell)


def test_many_calls_on_one_connection_are_fast(faulty):
    """Keep-alive plus TCP_NODELAY: with Nagle on, each call waited for a delayed ACK (~180 ms)."""
    lab, https, http = faulty
    p = Protocol(endpoint(http), transport="ntlm", username="CONTOSO\\lyncadmin", password=PASSWORD)
    shell = p.open_shell()
    started = time.monotonic()
    for i in range(20):
        cid = p.run_command(shell, "echo", [str(i)])
        assert p.get_command_output(shell, cid)[0] == f"{i}\r\n".encode()
        p.cleanup_command(shell, cid)
    # Measured here: ~5 ms per command with TCP_NODELAY, ~135 ms without (so 20 commands: 0.1 s vs 2.7 s).
    assert time.monotonic() - started < 1.5
    p.close_shell(shell)


def test_idle_shells_are_closed_and_free_the_quota(faulty, certs):
    lab, https, http = faulty
    https.shells.max_shells_per_user = 2
    https.shells.idle_timeout = 0.5
    p = basic(https, certs)
    first = p.open_shell()
    p.open_shell()
    with pytest.raises(WSManFaultError):
        p.open_shell()
    time.sleep(0.6)
    p.open_shell()          # the two idle shells were closed by the service
    with pytest.raises(WSManFaultError) as info:
        p.run_command(first, "echo", ["x"])
    assert info.value.wsman_fault_code == 2150858843
