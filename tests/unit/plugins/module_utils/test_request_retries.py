"""Request-level retries in the WinRM session and the read-only budget of the client (fake protocol objects)."""

import json

import pytest
import requests
from winrm import exceptions as wx

from ansible_collections.lync.migration.plugins.module_utils.lync import connection as C
from ansible_collections.lync.migration.plugins.module_utils.lync import retry as R
from ansible_collections.lync.migration.plugins.module_utils.lync import session as S
from ansible_collections.lync.migration.plugins.module_utils.lync import shells as SH
from ansible_collections.lync.migration.plugins.module_utils.lync import transport_errors as T
from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.client import LyncClient
from ansible_collections.lync.migration.plugins.module_utils.lync.retry import RetryPolicy

OPTIONS = dict(server="fe01.contoso.net", username="CONTOSO\\lyncadmin", password="pw")
INTERNAL = dict(fault_subcode="w:InternalError", wsman_fault_code=2147500037)


def internal_error():
    return wx.WSManFaultError(500, "m", "<r/>", "Retry the request.", **INTERNAL)


def reset():
    return requests.exceptions.ConnectionError("Connection reset by peer")


def not_found():
    return wx.WSManFaultError(500, "m", "<r/>", "shell not found", fault_subcode="w:InvalidSelectors",
                              wsman_fault_code=2150858843)


def max_shells():
    return wx.WSManFaultError(500, "m", "<r/>", "maximum number of 30 concurrent shells",
                              fault_subcode="w:QuotaLimit", wsman_fault_code=2150859173)


def ndjson(*docs):
    return b"".join(json.dumps(d).encode() + b"\r\n" for d in docs)


class Transport:
    def __init__(self):
        self.sessions_closed = 0

    def close_session(self):
        self.sessions_closed += 1


class ScriptedProtocol:
    """pywinrm's Protocol surface. ``faults`` maps a request name to the exceptions its next calls raise."""

    def __init__(self, output, faults=None, shells=None):
        self.output = list(output)
        self.faults = dict((k, list(v)) for k, v in (faults or {}).items())
        self.transport = Transport()
        self.calls = []
        self.deleted = []
        self.listed = shells or []
        self.opened = 0

    def _maybe_fail(self, name):
        self.calls.append(name)
        queue = self.faults.get(name)
        if queue:
            raise queue.pop(0)

    def open_shell(self, codepage, noprofile):
        self._maybe_fail("create")
        self.opened += 1
        return "S%d" % self.opened

    def run_command(self, shell_id, exe, args, console_mode_stdin, skip_cmd_shell):
        self._maybe_fail("command")
        return "C1"

    def send_command_input(self, shell_id, command_id, chunk, end):
        self._maybe_fail("send")

    def get_command_output_raw(self, shell_id, command_id):
        self._maybe_fail("receive")
        part = self.output.pop(0)
        return part, b"", 0, not self.output

    def cleanup_command(self, shell_id, command_id):
        self._maybe_fail("signal")

    def close_shell(self, shell_id, close_session=True):
        self._maybe_fail("delete")
        self.deleted.append(shell_id)

    def build_wsman_header(self, action, resource_uri, shell_id=None, message_id=None):
        return {"@xmlns:env": "http://www.w3.org/2003/05/soap-envelope",
                "@xmlns:n": SH.ENUMERATION_NS, "@xmlns:w": SH.WSMAN_NS,
                "env:Header": {"a:Action": action, "w:ResourceURI": resource_uri}}

    def send_message(self, message):
        self._maybe_fail("enumerate")
        assert "Enumerate" in message and SH.CMD_RESOURCE_URI in message
        shells = "".join(
            '<rsp:Shell><rsp:ShellId>%s</rsp:ShellId><rsp:Owner>%s</rsp:Owner>'
            '<rsp:ShellInactivity>%s</rsp:ShellInactivity></rsp:Shell>' % s for s in self.listed)
        return ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="%s" xmlns:w="%s" '
                'xmlns:rsp="%s"><s:Body><n:EnumerateResponse><w:Items>%s</w:Items><w:EndOfSequence/>'
                '</n:EnumerateResponse></s:Body></s:Envelope>' % (SH.ENUMERATION_NS, SH.WSMAN_NS, SH.SHELL_NS, shells)
                ).encode()


def session(proto, registry=None):
    return S.WinRMSession(C.ConnectionOptions(**OPTIONS), protocol_factory=lambda o: proto,
                          sleep=lambda s: None, registry=registry or SH.ShellRegistry())


ANSWER = ndjson({"ready": True}, {"id": "0", "ok": True, "objects": [{"RegistrarPool": "pool01"}]}, {"done": True})


def test_a_receive_refused_with_http_500_is_polled_again_on_the_same_command():
    proto = ScriptedProtocol([ANSWER[:30], ANSWER[30:]], faults={"receive": [internal_error()]})
    sess = session(proto)
    seen = []
    parser = sess.run_envelope("S1", [Call("Move-CsLegacyUser", {"Identity": "u"})], b"req\r\n",
                               lambda i, r: seen.append(r.ok))
    assert parser.done and seen == [True]
    assert proto.calls.count("command") == 1            # the same command, polled again: nothing re-run
    assert proto.calls.count("receive") == 3 and sess.request_retries == 1


def test_a_reset_during_receive_rebuilds_the_connection_before_polling_again():
    proto = ScriptedProtocol([ANSWER], faults={"receive": [reset()]})
    sess = session(proto)
    assert sess.run_envelope("S1", [Call("Get-CsUser")], b"req\r\n").done
    assert proto.transport.sessions_closed == 1 and proto.calls.count("command") == 1


def test_receive_retries_are_bounded_and_then_the_fault_is_raised_as_sent():
    proto = ScriptedProtocol([ANSWER], faults={"receive": [internal_error()] * (R.REQUEST_RETRIES + 1)})
    with pytest.raises(T.TransportFault) as info:
        session(proto).run_envelope("S1", [Call("Get-CsUser")], b"req\r\n")
    assert info.value.sent and info.value.phase == "receive"
    assert proto.calls.count("receive") == R.REQUEST_RETRIES + 1


def test_delete_is_idempotent_a_shell_already_gone_is_closed():
    registry = SH.ShellRegistry()
    proto = ScriptedProtocol([], faults={"delete": [reset(), not_found()]})
    sess = session(proto, registry)
    shell = sess.open_shell()
    assert sess.close_shell(shell) is True                  # reset, then "not found": the first Delete did it
    assert proto.calls.count("delete") == 2 and registry.orphans(sess._registry_key) == set()
    assert registry.live(sess._registry_key) == set()


def test_a_delete_that_keeps_failing_is_remembered_and_retried_before_the_next_create():
    registry = SH.ShellRegistry()
    proto = ScriptedProtocol([], faults={"delete": [internal_error()] * (R.REQUEST_RETRIES + 1)})
    sess = session(proto, registry)
    shell = sess.open_shell()
    assert sess.close_shell(shell) is False
    assert registry.orphans(sess._registry_key) == {shell}
    sess.open_shell()
    assert proto.deleted == [shell] and registry.orphans(sess._registry_key) == set()


def test_signal_failures_do_not_fail_a_finished_envelope():
    proto = ScriptedProtocol([ANSWER], faults={"signal": [internal_error()] * 10})
    assert session(proto).run_envelope("S1", [Call("Get-CsUser")], b"req\r\n").done


def test_a_lost_command_answer_is_resent_for_reads_but_not_for_writes():
    reads = ScriptedProtocol([ANSWER], faults={"command": [reset()]})
    assert session(reads).run_envelope("S1", [Call("Get-CsUser")], b"req\r\n").done
    assert reads.calls.count("command") == 2

    writes = ScriptedProtocol([ANSWER], faults={"command": [reset()]})
    with pytest.raises(T.TransportFault) as info:
        session(writes).run_envelope("S1", [Call("Move-CsLegacyUser", {"Identity": "u"})], b"req\r\n")
    assert writes.calls.count("command") == 1 and info.value.phase == "command"


def test_a_create_refused_before_handling_is_sent_again():
    proto = ScriptedProtocol([], faults={"create": [internal_error(), reset()]})
    assert session(proto).open_shell() == "S1" and proto.calls.count("create") == 3


def test_max_shells_deletes_only_stale_shells_nobody_here_uses_then_creates():
    registry = SH.ShellRegistry()
    proto = ScriptedProtocol([], faults={"create": [max_shells()]}, shells=[
        ("STALE", "CONTOSO\\lyncadmin", "PT600.000S"),      # an orphan of a killed run
        ("FRESH", "CONTOSO\\lyncadmin", "PT5.000S"),        # someone's shell between two requests
        ("OTHER", "CONTOSO\\kim", "PT900.000S"),            # another account's (admins list every shell)
        ("MINE", "CONTOSO\\lyncadmin", "PT900.000S"),       # a shell a thread of this process holds
    ])
    registry.opened((C.ConnectionOptions(**OPTIONS).endpoint, "contoso\\lyncadmin"), "MINE")
    sess = session(proto, registry)
    assert sess.open_shell() == "S1"
    assert proto.deleted == ["STALE"] and sess.shells_reclaimed == 1


def test_a_write_whose_answer_was_lost_is_not_resent_but_a_read_is_within_a_larger_budget():
    class LostAnswers:
        """Every envelope's answer is lost mid-receive (the command ran: sent=True)."""
        envelopes = []

        def __init__(self, options):
            pass

        def open_shell(self):
            return "S"

        def close_shell(self, shell_id):
            return True

        def run_envelope(self, shell_id, calls, stdin_bytes, on_result=None):
            LostAnswers.envelopes.append([c.cmdlet for c in calls])
            raise T.TransportFault("connection reset during receive", transient=True, sent=True, phase="receive")

    options = C.ConnectionOptions(connection_retries=3, **OPTIONS)
    client = LyncClient(options, session_factory=LostAnswers, policy=RetryPolicy(retries=3, sleep=lambda s: None))
    move, = client.run_calls([Call("Move-CsLegacyUser", {"Identity": "u", "Target": "pool02"})])
    assert LostAnswers.envelopes == [["Move-CsLegacyUser"]]       # sent once; the caller re-reads first
    assert not move.ok and move.error.outcome_unknown and move.attempts == 1

    LostAnswers.envelopes = []
    read, = client.run_calls([Call("Get-CsUser", {"Identity": "u"})])
    assert not read.ok and not read.error.outcome_unknown
    assert read.attempts == len(LostAnswers.envelopes) == 1 + 3 * 3   # READ_ONLY_RETRY_FACTOR x retries
    assert RetryPolicy(retries=3).attempts_allowed(read_only=False) == 4
    assert RetryPolicy(retries=0).attempts_allowed(read_only=True) == 1   # no retries asked, none given


def test_the_client_sums_request_level_resends_of_the_shells_it_closed():
    proto = ScriptedProtocol([ANSWER, ANSWER], faults={"receive": [internal_error(), reset()]})

    def factory(options):
        return S.WinRMSession(options, protocol_factory=lambda o: proto, sleep=lambda s: None,
                              registry=SH.ShellRegistry())

    client = LyncClient(C.ConnectionOptions(**OPTIONS), session_factory=factory,
                        policy=RetryPolicy(retries=3, sleep=lambda s: None))
    [result] = client.run_calls([Call("Get-CsUser", {"Identity": "u"})])
    assert result.ok and result.attempts == 1          # re-polls are not new attempts of the call
    client.close()
    assert client.request_retries == 2 and client.shells_reclaimed == 0
