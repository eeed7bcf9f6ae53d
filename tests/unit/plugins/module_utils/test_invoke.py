
from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.response import EnvelopeFatal, CmdletError
from ansible_collections.lync.migration.plugins.module_utils.lync.client import LyncClient
from ansible_collections.lync.migration.plugins.module_utils.lync.connection import ConnectionOptions
from ansible_collections.lync.migration.plugins.module_utils.lync.retry import RetryPolicy
from ansible_collections.lync.migration.plugins.module_utils.lync.transport_errors import TransportFault

from fake_lync import FakeLync, FakeSession, pool, user


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    high = RetryPolicy(retries=8, base=0.5, cap=8.0, rng=lambda: 1.0)
    assert [high.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    low = RetryPolicy(base=0.5, rng=lambda: 0.0)
    assert low.delay(3) == 0.0
    slept = []
    RetryPolicy(rng=lambda: 0.5, sleep=slept.append).wait(2)
    assert slept == [0.5]


def test_which_errors_are_retried():
    policy = RetryPolicy(retries=2)
    busy = CmdletError("SQL busy", category="ResourceUnavailable", transient=True)
    wrong = CmdletError("A parameter cannot be found that matches parameter name 'Bogus'.",
                        category="InvalidArgument")
    assert policy.may_retry_result(Call("Get-CsUser"), busy, 1)
    assert policy.may_retry_result(Call("Get-CsUser"), busy, 2)
    assert not policy.may_retry_result(Call("Get-CsUser"), busy, 3)       # max attempts reached
    assert not policy.may_retry_result(Call("Get-CsUser"), wrong, 1)      # "you asked for something wrong"
    assert not policy.may_retry_result(Call("Move-CsUser"), busy, 1)      # changes go back to the caller
    assert policy.may_retry_transport(TransportFault("503", transient=True), 1)
    assert not policy.may_retry_transport(TransportFault("401", transient=False), 1)


def make_client(lync, retries=2, sessions=None):
    FakeSession.server = lync
    options = ConnectionOptions(server="fe01", username="u", password="p", connection_retries=retries)
    factory = sessions or FakeSession
    return LyncClient(options, session_factory=factory, policy=RetryPolicy(retries=retries, sleep=lambda s: None))


def small_lync():
    return FakeLync([pool("pool01.contoso.net", legacy=True), pool("pool02.contoso.net")],
                    [user("Ken Myer", "sip:ken@contoso.net", "pool01.contoso.net"),
                     user("Hao Chen", "sip:hao@contoso.net", "pool02.contoso.net")])


def test_transient_read_errors_are_retried_until_they_succeed():
    lync = small_lync()
    lync.read_faults = ["transient"]
    results = make_client(lync).run_calls([Call("Get-CsUser", {"Identity": "Ken Myer"})])
    assert results[0].ok and results[0].attempts == 2
    assert len(lync.requests) == 2


def test_transient_read_errors_give_up_after_the_bound():
    lync = small_lync()
    lync.read_faults = ["transient"] * 10
    result = make_client(lync, retries=2).run_calls([Call("Get-CsUser", {"Identity": "Ken Myer"})])[0]
    assert not result.ok and result.error.transient and result.attempts == 3
    assert len(lync.requests) == 3


def test_permanent_errors_are_not_retried():
    lync = small_lync()
    result = make_client(lync).run_calls([Call("Get-CsUser", {"Identity": "Nobody"})])[0]
    assert not result.ok and result.error.category == "ObjectNotFound" and result.attempts == 1
    assert len(lync.requests) == 1


def test_lost_connection_after_a_move_is_not_resent_but_reported_unknown():
    lync = small_lync()
    lync.move_faults["sip:ken@contoso.net"] = ["lost_after"]
    calls = [Call("Move-CsLegacyUser", {"Identity": "sip:ken@contoso.net", "Target": "pool02.contoso.net"}),
             Call("Get-CsUser", {"Identity": "Hao Chen"})]
    results = make_client(lync).run_calls(calls)
    assert not results[0].ok and results[0].error.outcome_unknown
    assert results[1].ok and results[1].attempts == 2       # the read was simply sent again
    assert [c[0] for c in lync.calls].count("Move-CsLegacyUser") == 1


def test_results_are_reported_as_each_line_arrives_in_call_order():
    lync = small_lync()
    seen = []
    calls = [Call("Get-CsUser", {"Identity": n}) for n in ("Ken Myer", "Hao Chen", "Nobody")]
    results = make_client(lync).run_calls(calls, on_result=lambda c, r: seen.append(c.params["Identity"]))
    assert seen == ["Ken Myer", "Hao Chen", "Nobody"]
    assert [r.ok for r in results] == [True, True, False]


class FlakySession(FakeSession):
    """Fails the first shell creations with a scripted transport fault."""

    faults = []

    def open_shell(self):
        if FlakySession.faults:
            raise FlakySession.faults.pop(0)
        return super().open_shell()


def test_shell_creation_faults_retry_when_transient_and_stop_when_not():
    lync = small_lync()
    FlakySession.faults = [TransportFault("HTTP 503", transient=True, phase="create"),
                           TransportFault("quota", transient=True, quota=True, phase="create")]
    result = make_client(lync, sessions=FlakySession).run_calls([Call("Get-CsPool")])[0]
    assert result.ok and result.attempts == 3
    FlakySession.faults = [TransportFault("authentication failed", transient=False, phase="create")]
    result = make_client(lync, sessions=FlakySession).run_calls([Call("Get-CsPool")])[0]
    assert not result.ok and result.attempts == 1 and "authentication" in result.error.message


class FatalSession(FakeSession):
    def run_envelope(self, shell_id, calls, stdin_bytes, on_result=None):
        raise EnvelopeFatal(CmdletError("The specified module 'Lync' was not loaded", fqid="Modules_ModuleNotFound",
                                        category="ResourceUnavailable"))


def test_fatal_envelope_fails_every_call_with_the_servers_error():
    results = make_client(small_lync(), sessions=FatalSession).run_calls([Call("Get-CsPool"), Call("Get-CsUser")])
    assert [r.error.fqid for r in results] == ["Modules_ModuleNotFound"] * 2


def test_parallel_batches_use_several_shells_and_close_them():
    lync = FakeLync([pool("pool02.contoso.net")],
                    [user("U%d" % i, "sip:u%d@contoso.net" % i, "pool02.contoso.net") for i in range(40)])
    calls = [Call("Get-CsUser", {"Identity": "U%d" % i}) for i in range(40)]
    FakeSession.delay = 0.05
    client = make_client(lync)
    try:
        results = client.run_queue(calls, batch_size=5, parallelism=4, min_batch=5)
    finally:
        FakeSession.delay = 0.0
    assert len(results) == 40 and all(r.ok for r in results)
    assert results[17].objects[0]["SipAddress"] == "sip:u17@contoso.net"
    assert lync.shells_opened == 4 and lync.shells_closed == 0     # kept for the task's next queue
    client.close()
    assert lync.shells_closed == 4


def test_credential_is_sent_only_to_cmdlets_that_accept_it():
    lync = small_lync()
    FakeSession.server = lync
    options = ConnectionOptions(server="fe01", username="u", password="p", cmdlet_credential=True)
    client = LyncClient(options, session_factory=FakeSession)
    client.run_calls([Call("Get-CsUser", {"Identity": "Ken Myer"}), Call("Get-CsPool")])
    request = lync.requests[0]
    assert request["credential"] == {"username": "u", "password": "p"}
    assert [c["pass_credential"] for c in request["calls"]] == [True, False]
    client2 = LyncClient(options, session_factory=FakeSession)
    client2.run_calls([Call("Get-CsPool")])
    assert "credential" not in lync.requests[1]
