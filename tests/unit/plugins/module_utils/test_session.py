import json

import pytest
import requests
from winrm import exceptions as wx

from ansible_collections.lync.migration.plugins.module_utils.lync import connection as C
from ansible_collections.lync.migration.plugins.module_utils.lync import session as S
from ansible_collections.lync.migration.plugins.module_utils.lync import transport as TR
from ansible_collections.lync.migration.plugins.module_utils.lync import transport_errors as T
from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import ENVELOPE_LINE, Call
from ansible_collections.lync.migration.plugins.module_utils.lync.response import EnvelopeProtocolError

BASE = dict(server="fe01.contoso.net", username="CONTOSO\\lyncadmin", password="pw")


def options(**kw):
    args = dict(BASE)
    args.update(kw)
    return C.ConnectionOptions(**args)


def test_defaults_are_https_ntlm_validated_certificates():
    o = options()
    assert o.endpoint == "https://fe01.contoso.net:5986/wsman"
    assert (o.transport, o.server_cert_validation, o.operation_timeout, o.read_timeout) == \
        ("ntlm", "validate", 20, 30)
    assert options(scheme="http").port == 5985
    assert "pw" not in repr(o)


def test_basic_over_http_is_refused_unless_explicitly_allowed():
    with pytest.raises(C.ConnectionOptionError) as info:
        options(transport="basic", scheme="http")
    assert info.value.option == "transport"
    assert "allow_basic_over_http=true" in str(info.value) and "scheme=https" in str(info.value)
    assert options(transport="basic", scheme="http", allow_basic_over_http=True).transport == "basic"
    assert options(transport="basic", scheme="https").transport == "basic"


def test_read_timeout_must_exceed_operation_timeout():
    with pytest.raises(C.ConnectionOptionError) as info:
        options(operation_timeout=30, read_timeout=30)
    assert info.value.option == "read_timeout"
    assert "must be greater than operation_timeout" in str(info.value) and "read_timeout=40" in str(info.value)


def test_server_and_credentials_are_required_with_a_fix_in_the_message():
    with pytest.raises(C.ConnectionOptionError, match="ansible_host"):
        C.ConnectionOptions(server=None, username="u", password="p")
    with pytest.raises(C.ConnectionOptionError, match="ansible_user/ansible_password"):
        C.ConnectionOptions(server="fe01", transport="ntlm")
    assert C.ConnectionOptions(server="fe01", transport="kerberos").transport == "kerberos"


def test_cmdlet_credential_yields_the_credential_only_when_enabled():
    assert options().credential is None
    assert options(cmdlet_credential=True).credential == ("CONTOSO\\lyncadmin", "pw")


def test_protocol_gets_timeouts_tls_and_encryption_settings(monkeypatch):
    seen = {}

    class Protocol:
        def __init__(self, **kw):
            seen.update(kw)

    monkeypatch.setattr(TR, "winrm_api", lambda: (Protocol, wx))
    S.WinRMSession(options(ca_trust_path="/etc/ca.pem", kerberos_delegation=True, message_encryption="always",
                           operation_timeout=25, read_timeout=35)).protocol
    assert seen["ca_trust_path"] == "/etc/ca.pem" and seen["server_cert_validation"] == "validate"
    assert (seen["operation_timeout_sec"], seen["read_timeout_sec"]) == (25, 35)
    assert seen["kerberos_delegation"] is True and seen["message_encryption"] == "always"


def fault(subcode=None, code=None, http=500):
    return wx.WSManFaultError(http, "m", "<r/>", "reason", fault_subcode=subcode, wsman_fault_code=code)


@pytest.mark.parametrize("exc,phase,transient,sent,quota", [
    (wx.WinRMTransportError("http", 503, ""), "create", True, False, False),
    (wx.WinRMTransportError("http", 500, ""), "receive", True, True, False),
    (wx.WinRMTransportError("http", 401, ""), "create", False, False, False),
    (wx.WinRMTransportError("http", 400, ""), "command", False, False, False),
    (wx.InvalidCredentialsError("bad"), "create", False, False, False),
    (wx.WinRMOperationTimeoutError(), "command", True, False, False),
    (requests.exceptions.ConnectionError("Connection reset by peer"), "receive", True, True, False),
    (requests.exceptions.ConnectionError("Connection refused"), "create", False, False, False),
    (requests.exceptions.ConnectionError("Connection refused"), "command", True, False, False),
    (fault(code=2150859173), "create", True, False, True),
    (fault(subcode="w:QuotaLimit"), "create", True, False, True),
    (fault(subcode="w:InvalidSelectors"), "command", False, False, False),
    # MaxConcurrentUsers (ERROR_WSMAN_QUOTA_MAX_SHELLUSERS 0x803381AB): busy, retry later.
    (fault(code=2150859179), "create", True, False, True),
    # Remote shells disabled (ERROR_WSMAN_REMOTESHELLS_NOT_ALLOWED 0x803381AC) is configuration, not a quota.
    (fault(code=2150859180, subcode="w:InternalError"), "create", True, False, False),
    (wx.WinRMTransportError("http", 413, ""), "send", False, True, False),
])
def test_transport_errors_are_classified(exc, phase, transient, sent, quota):
    result = T.classify_transport_error(exc, phase)
    assert (result.transient, result.sent, result.quota) == (transient, sent, quota)


@pytest.mark.parametrize("phase,sent", [("command", False), ("send", True), ("receive", True)])
def test_a_shell_gone_from_the_server_is_lost_not_permanent(phase, sent):
    """WSManFault 2150858843 (shell not found: deleted after IdleTimeout). On a Command nothing started; on a Send or
    Receive the command was running in it, so its outcome is unknown."""
    result = T.classify_transport_error(fault(subcode="w:InvalidSelectors", code=2150858843), phase)
    assert (result.transient, result.sent, result.shell_lost) == (True, sent, True)


class FakeProtocol:
    """pywinrm's Protocol surface, scripted: records sends, returns stdout in pieces, times out once."""

    def __init__(self, stdout_parts, exit_code=0, stderr=b""):
        self.parts = list(stdout_parts)
        self.sent = []
        self.opened = []
        self.cleaned = False
        self.exit_code = exit_code
        self.stderr = stderr
        self.timeouts = 1

    def open_shell(self, codepage, noprofile):
        self.opened.append(codepage)
        return "S1"

    def run_command(self, shell_id, exe, args, console_mode_stdin, skip_cmd_shell):
        self.command = (exe, args)
        return "C1"

    def send_command_input(self, shell_id, command_id, chunk, end):
        self.sent.append((len(chunk), end))

    def get_command_output_raw(self, shell_id, command_id):
        if self.timeouts:
            self.timeouts -= 1
            raise wx.WinRMOperationTimeoutError()
        part = self.parts.pop(0)
        done = not self.parts
        return part, self.stderr if done else b"", self.exit_code if done else 0, done

    def cleanup_command(self, shell_id, command_id):
        self.cleaned = True


def ndjson(*docs):
    return b"".join(json.dumps(d).encode() + b"\r\n" for d in docs)


def test_run_envelope_streams_results_and_chunks_large_stdin():
    out = ndjson({"ready": True}, {"id": "0", "ok": True, "objects": [{"A": 1}]},
                 {"id": "1", "ok": True, "objects": []}, {"done": True})
    proto = FakeProtocol([out[:40], out[40:90], out[90:]])
    sess = S.WinRMSession(options(), protocol_factory=lambda o: proto)
    assert sess.open_shell() == "S1" and proto.opened == [65001]
    seen = []
    # Until the host's MaxEnvelopeSizekb is known a Send fits WinRM 2.0's 150 KB (base64 plus the SOAP header).
    chunk = sess.stdin_chunk_bytes
    assert chunk * 4 // 3 + TR.SEND_ENVELOPE_OVERHEAD <= 150 * 1024
    stdin = b"A" * (chunk * 2 + 10)
    parser = sess.run_envelope("S1", [Call("Get-CsUser"), Call("Get-CsPool")], stdin,
                               lambda i, r: seen.append((i, r.objects)))
    assert seen == [(0, [{"A": 1}]), (1, [])]
    assert parser.done and proto.cleaned      # this command ended: the next request starts a new worker
    # The envelope's line, then the request, in Sends that each fit; stdin stays open for the next request.
    total = len(ENVELOPE_LINE) + len(stdin)
    assert proto.sent == [(chunk, False), (chunk, False), (total - 2 * chunk, False)]
    assert proto.command[0] == "powershell.exe" and "-EncodedCommand" in proto.command[1]


def test_output_that_stops_early_reports_the_clixml_error_and_cleans_up():
    stderr = b'#< CLIXML\r\n<Objs Version="1.1.0.1"><S S="Error">Out of memory_x000D__x000A_</S></Objs>'
    proto = FakeProtocol([ndjson({"ready": True}, {"id": "0", "ok": True, "objects": []})], exit_code=1,
                         stderr=stderr)
    sess = S.WinRMSession(options(), protocol_factory=lambda o: proto)
    with pytest.raises(EnvelopeProtocolError) as info:
        sess.run_envelope("S1", [Call("Get-CsUser"), Call("Get-CsUser")], b"x\r\n")
    assert "Out of memory" in str(info.value)
    assert info.value.parser.missing_calls() == [1]
    assert proto.cleaned
