"""pywinrm 0.5.0, unmodified, against the lab's WinRM listener."""

from __future__ import annotations

import pytest
import requests
import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError, WSManFaultError
from winrm.protocol import Protocol

from winrm_support import NON_ASCII_NAME, PASSWORD, endpoint


def ntlm_protocol(listener, **kw) -> Protocol:
    kw.setdefault("operation_timeout_sec", 5)
    kw.setdefault("read_timeout_sec", 10)
    return Protocol(endpoint(listener), transport="ntlm", username="CONTOSO\\lyncadmin", password=PASSWORD, **kw)


def run(protocol: Protocol, command: str, args=(), codepage: int = 437):
    shell = protocol.open_shell(codepage=codepage)
    try:
        cid = protocol.run_command(shell, command, list(args))
        out, err, rc = protocol.get_command_output(shell, cid)
        protocol.cleanup_command(shell, cid)
        return out, err, rc
    finally:
        protocol.close_shell(shell)


def test_ntlm_over_http_with_message_encryption_runs_a_command(http_listener):
    session = winrm.Session(endpoint(http_listener), auth=("CONTOSO\\lyncadmin", PASSWORD), transport="ntlm")
    result = session.run_cmd("echo", ["hello", "world"])
    assert result.status_code == 0
    assert result.std_out == b"hello world\r\n"
    assert session.protocol.transport.encryption is not None  # the exchange really was encrypted


def test_ntlm_identity_is_mapped_to_the_scenario_account(http_listener):
    for user in ("lyncadmin", "LYNCADMIN", "contoso\\LyncAdmin", "contoso.net\\lyncadmin", "LyncAdmin@Contoso.net"):
        p = Protocol(endpoint(http_listener), transport="ntlm", username=user, password=PASSWORD)
        out, _, rc = run(p, "whoami")
        assert rc == 0
        assert out == b"CONTOSO\\lyncadmin|ntlm|False|437"


def test_unencrypted_ntlm_over_http_is_refused(http_listener):
    p = ntlm_protocol(http_listener, message_encryption="never")
    with pytest.raises(InvalidCredentialsError):
        p.open_shell()


def test_wrong_password_is_rejected(http_listener, https_listener):
    p = Protocol(endpoint(http_listener), transport="ntlm", username="CONTOSO\\lyncadmin", password="wrong")
    with pytest.raises(InvalidCredentialsError):
        p.open_shell()
    p = Protocol(endpoint(https_listener), transport="basic", username="CONTOSO\\lyncadmin", password="wrong",
                 server_cert_validation="ignore")
    with pytest.raises(InvalidCredentialsError):
        p.open_shell()
    p = Protocol(endpoint(http_listener), transport="ntlm", username="CONTOSO\\nobody", password=PASSWORD)
    with pytest.raises(InvalidCredentialsError):
        p.open_shell()


def test_basic_over_https_validates_with_the_lab_ca(https_listener, certs):
    p = Protocol(endpoint(https_listener), transport="basic", username="CONTOSO\\lyncadmin", password=PASSWORD,
                 server_cert_validation="validate", ca_trust_path=str(certs.ca_path))
    out, _, rc = run(p, "whoami")
    assert (out, rc) == (b"CONTOSO\\lyncadmin|basic|False|437", 0)


def test_https_certificate_is_not_trusted_without_the_lab_ca(https_listener):
    p = Protocol(endpoint(https_listener), transport="basic", username="CONTOSO\\lyncadmin", password=PASSWORD,
                 server_cert_validation="validate", ca_trust_path=None)
    with pytest.raises(requests.exceptions.SSLError):
        p.open_shell()


def test_basic_over_http_is_refused(http_listener):
    p = Protocol(endpoint(http_listener), transport="basic", username="CONTOSO\\lyncadmin", password=PASSWORD)
    with pytest.raises(InvalidCredentialsError):
        p.open_shell()


def test_ntlm_over_https_without_encryption(https_listener, certs):
    p = Protocol(endpoint(https_listener), transport="ntlm", username="CONTOSO\\lyncadmin", password=PASSWORD,
                 ca_trust_path=str(certs.ca_path))
    out, _, rc = run(p, "whoami")
    assert (out, rc) == (b"CONTOSO\\lyncadmin|ntlm|False|437", 0)
    assert p.transport.encryption is None


def test_credssp_over_https_can_delegate(https_listener, certs):
    p = Protocol(endpoint(https_listener), transport="credssp", username="CONTOSO\\lyncadmin", password=PASSWORD,
                 ca_trust_path=str(certs.ca_path))
    out, _, rc = run(p, "whoami")
    assert (out, rc) == (b"CONTOSO\\lyncadmin|credssp|True|437", 0)


def test_stderr_and_exit_code(http_listener):
    out, err, rc = run(ntlm_protocol(http_listener), "fail")
    assert (out, err, rc) == (b"", b"boom", 3)


def test_command_line_over_8191_characters_is_too_long(http_listener, lab):
    before = lab.runtime.started
    out, err, rc = run(ntlm_protocol(http_listener), "echo", ["x" * 9000])
    assert (out, err, rc) == (b"", b"The command line is too long.\r\n", 1)
    assert lab.runtime.started == before  # nothing ran
    out, err, rc = run(ntlm_protocol(http_listener), "echo", ["x" * (8191 - 5)])
    assert rc == 0 and len(out) == 8186 + 2


def test_stdin_reaches_the_command(http_listener):
    p = ntlm_protocol(http_listener)
    shell = p.open_shell()
    cid = p.run_command(shell, "cat")
    p.send_command_input(shell, cid, b"first line\r\n")
    p.send_command_input(shell, cid, b"second line\r\n", end=True)
    out, err, rc = p.get_command_output(shell, cid)
    p.cleanup_command(shell, cid)
    p.close_shell(shell)
    assert (out, rc) == (b"first line\r\nsecond line\r\n", 0)


def test_codepage_65001_round_trips_non_ascii(http_listener):
    out, _, rc = run(ntlm_protocol(http_listener), "name", codepage=65001)
    assert out.decode("utf-8") == NON_ASCII_NAME
    p = ntlm_protocol(http_listener)
    shell = p.open_shell(codepage=65001)
    cid = p.run_command(shell, "cat")
    p.send_command_input(shell, cid, NON_ASCII_NAME.encode("utf-8"), end=True)
    out, _, rc = p.get_command_output(shell, cid)
    p.close_shell(shell)
    assert out.decode("utf-8") == NON_ASCII_NAME
    # The default console code page 437 has "é" but no "Á": the console writes "?" for it.
    out, _, _ = run(ntlm_protocol(http_listener), "name", codepage=437)
    assert out == "José ?lvarez".encode("cp437")


def test_receive_times_out_and_the_client_repolls(http_listener, lab):
    p = ntlm_protocol(http_listener, operation_timeout_sec=1, read_timeout_sec=3)
    shell = p.open_shell()
    cid = p.run_command(shell, "late 1.6 finally")
    from winrm.exceptions import WinRMOperationTimeoutError
    with pytest.raises(WinRMOperationTimeoutError):
        p.get_command_output_raw(shell, cid)
    out, _, rc = p.get_command_output(shell, cid)
    p.close_shell(shell)
    assert (out, rc) == (b"finally\r\n", 0)


def test_request_over_the_envelope_size_limit_is_refused(http_listener):
    """MaxEnvelopeSizekb (500 on this WinRM 3.0 host): Windows answers HTTP 413, no SOAP fault (wsmerror.h
    ERROR_WSMAN_HTTP_REQUEST_TOO_LARGE_STATUS is the client's name for that status; ansible.windows#620)."""
    p = ntlm_protocol(http_listener)
    shell = p.open_shell()
    cid = p.run_command(shell, "cat")
    with pytest.raises(WinRMTransportError) as info:
        p.send_command_input(shell, cid, b"A" * 400_000)   # base64: ~533 KB envelope
    assert info.value.code == 413
    # The shell is still usable after the refusal.
    p.send_command_input(shell, cid, b"A" * 300_000, end=True)
    out, _, rc = p.get_command_output(shell, cid)
    p.close_shell(shell)
    assert (len(out), rc) == (300_000, 0)


def test_31st_shell_gets_the_quota_fault(https_listener, certs):
    p = Protocol(endpoint(https_listener), transport="basic", username="CONTOSO\\kim", password="Other-Passw0rd!",
                 ca_trust_path=str(certs.ca_path))
    shells = [p.open_shell() for _ in range(30)]
    try:
        with pytest.raises(WSManFaultError) as info:
            p.open_shell()
        assert info.value.wsman_fault_code == 2150859173
        assert "maximum number of 30 concurrent shells" in info.value.reason
        assert isinstance(info.value, WinRMTransportError) or info.value.code == 500
        # Another user is not affected by kim's quota.
        other = Protocol(endpoint(https_listener), transport="basic", username="CONTOSO\\lyncadmin",
                         password=PASSWORD, ca_trust_path=str(certs.ca_path))
        other.close_shell(other.open_shell())
    finally:
        for s in shells:
            p.close_shell(s, close_session=False)
    p.close_shell(p.open_shell())  # closing shells frees the quota


def test_unknown_shell_gives_the_windows_fault(http_listener):
    p = ntlm_protocol(http_listener)
    with pytest.raises(WSManFaultError) as info:
        p.run_command("0B2D4E5F-0000-0000-0000-000000000000", "echo", ["x"])
    # Windows: the generic invalid-selectors Reason, the shell text in the WSManFault Message, code 2150858843.
    assert info.value.wsman_fault_code == 2150858843
    assert info.value.fault_subcode == "w:InvalidSelectors"
    assert "invalid selectors for the resource" in info.value.reason
    assert "the shell was not found on the server" in str(info.value.response)


def test_testinfra_winrm_backend(http_listener):
    import testinfra

    host = testinfra.get_host(
        f"winrm://lyncadmin:{PASSWORD}@127.0.0.1:{http_listener.port}?no_ssl=true&no_verify_ssl=true")
    result = host.run("echo from testinfra")
    assert result.rc == 0
    assert result.stdout == "from testinfra\r\n"
