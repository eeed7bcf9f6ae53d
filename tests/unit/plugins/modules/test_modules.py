"""The modules under faults injected at chosen points (tests/unit/support/fake_lync.py), and argument checks that
reach no server. What the modules do on the lab's real answers: test_modules_replayed.py."""
import pytest

from ansible_collections.lync.migration.plugins.modules import (
    cs_object_info,
    cs_user_info,
    cs_user_move,
    cs_winevent_info,
)

from fake_lync import FakeLync, pool, user
from module_runner import run_module


@pytest.fixture
def lync():
    return FakeLync(
        [pool("pool01.contoso.net", legacy=True), pool("pool02.contoso.net"), pool("pool03.contoso.net"),
         pool("fs01.contoso.net", registrar=False)],
        [user("David Pelton", "sip:david@contoso.net", "pool01.contoso.net"),
         user("Hao Chen", "sip:hao@contoso.net", "pool01.contoso.net"),
         user("Ken Myer", "sip:ken@contoso.net", "pool02.contoso.net"),
         user("Pat Space ", "sip:pat@contoso.net", "pool01.contoso.net"),
         user("Lee Twin", "sip:lee1@contoso.net", "pool01.contoso.net"),
         user("Lee Twin", "sip:lee2@contoso.net", "pool01.contoso.net")])


def moves(lync):
    return [c for c in lync.calls if c[0].startswith("Move-")]


# -- cs_user_info -------------------------------------------------------------------------------------------
def test_user_info_refuses_identities_with_filter(lync, monkeypatch):
    out = run_module(cs_user_info, {"identities": ["a"], "filter": "DisplayName -eq 'a'"}, lync,
                     monkeypatch=monkeypatch)
    assert out["failed"] and "mutually exclusive" in out["msg"] and "identities" in out["msg"]


# -- cs_user_move -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target,fragment", [
    ("pool09.contoso.net", "is not a pool in the topology"),
    ("fs01.contoso.net", "is not a Registrar pool"),
])
def test_bad_target_pool_fails_before_reading_users(lync, monkeypatch, target, fragment):
    out = run_module(cs_user_move, {"identities": ["David Pelton"], "target_pool": target}, lync,
                     monkeypatch=monkeypatch)
    assert out["failed"] and fragment in out["msg"] and target in out["msg"]
    assert "pool02.contoso.net" in out["msg"]  # names the Registrar pools to choose from
    assert moves(lync) == []


@pytest.mark.parametrize("args,fragment", [
    ({"batch_size": 0}, "option batch_size: batch_size must be between 1 and 1000"),
    ({"parallelism": 26}, "option parallelism: parallelism must be between 1 and 25"),
    ({"identities": []}, "option identities"),
    ({"exclude_policies": ["mobility"]}, "exclude_policies"),
    ({"transport": "basic", "scheme": "http"}, "option transport"),
    ({"operation_timeout": 40}, "option read_timeout"),
])
def test_argument_validation_names_the_option(lync, monkeypatch, args, fragment):
    full = {"identities": ["David Pelton"], "target_pool": "pool02.contoso.net"}
    full.update(args)
    out = run_module(cs_user_move, full, lync, monkeypatch=monkeypatch)
    assert out["failed"] and fragment in out["msg"]
    assert lync.calls == [] or moves(lync) == []


def test_transient_failure_is_retried_after_rereading_and_one_failure_does_not_stop_others(lync, monkeypatch):
    lync.move_faults["sip:david@contoso.net"] = ["transient"]
    lync.move_faults["sip:hao@contoso.net"] = ["lost_after"]       # moved, but the answer was lost
    out = run_module(cs_user_move, {"identities": ["David Pelton", "Hao Chen", "sip:ken@contoso.net"],
                                    "target_pool": "pool03.contoso.net"}, lync, monkeypatch=monkeypatch)
    by_id = dict((r["identity"], r) for r in out["results"])
    assert by_id["David Pelton"]["outcome"] == "moved" and by_id["David Pelton"]["attempts"] == 2
    assert by_id["Hao Chen"]["outcome"] == "moved" and by_id["Hao Chen"]["attempts"] == 1
    # Hao was moved once only: the re-read showed the first attempt had worked
    assert [c[1]["Identity"] for c in moves(lync)].count("sip:hao@contoso.net") == 1
    assert by_id["sip:ken@contoso.net"]["cmdlet"] == "Move-CsUser"
    assert not out.get("failed")


def test_permanent_move_errors_fail_the_task_after_the_rest(lync, monkeypatch):
    lync.move_faults["sip:david@contoso.net"] = ["transient"] * 10
    out = run_module(cs_user_move, {"identities": ["David Pelton", "Hao Chen"],
                                    "target_pool": "pool02.contoso.net"}, lync, monkeypatch=monkeypatch)
    assert out["failed"] and "1 of 2 users failed" in out["msg"] and "results" in out["msg"]
    by_id = dict((r["identity"], r) for r in out["results"])
    assert by_id["Hao Chen"]["outcome"] == "moved"
    assert by_id["David Pelton"]["outcome"] == "failed"
    assert by_id["David Pelton"]["attempts"] == 3          # connection_retries=2 in the test connection
    assert "SQL Server is unavailable" in by_id["David Pelton"]["error"]["message"]
    assert out["changed"] is True


# -- the other modules --------------------------------------------------------------------------------------
def test_object_info_refuses_anything_but_reads(lync, monkeypatch):
    for cmdlet in ("Move-CsUser", "Remove-CsUser", "Get-ChildItem", "Invoke-Expression"):
        out = run_module(cs_object_info, {"cmdlet": cmdlet}, lync, monkeypatch=monkeypatch)
        assert out["failed"] and "option cmdlet" in out["msg"] and cmdlet in out["msg"]
    assert lync.calls == []
    out = run_module(cs_object_info, {"cmdlet": "Get-CsUser", "parameters": {"Identity": "Ken Myer"},
                                      "properties": ["SipAddress"]}, lync, monkeypatch=monkeypatch)
    assert out["objects"] == [{"SipAddress": "sip:ken@contoso.net"}]
    out = run_module(cs_object_info, {"cmdlet": "Get-CsUser", "parameters": {"Identity; rm": "x"}}, lync,
                     monkeypatch=monkeypatch)
    assert out["failed"] and "option parameters" in out["msg"]


def test_winevent_info_builds_the_filter_hashtable_and_treats_no_match_as_empty(lync, monkeypatch):
    from fake_lync import FakeCmdletError
    seen = []

    def run(cmdlet, params):
        seen.append((cmdlet, params))
        raise FakeCmdletError("No events were found that match the specified selection criteria.",
                              "ObjectNotFound", fqid="NoMatchingEventsFound,Microsoft.PowerShell.Commands."
                                                     "GetWinEventCommand")
    monkeypatch.setattr(lync, "run", run)
    out = run_module(cs_winevent_info, {"log_name": "Lync Server", "provider_name": "LS User Replicator",
                                        "event_id": [30024], "max_events": 1}, lync, monkeypatch=monkeypatch)
    assert out["count"] == 0 and not out.get("failed")
    assert seen == [("Get-WinEvent", {"FilterHashtable": {"LogName": "Lync Server",
                                                          "ProviderName": "LS User Replicator", "Id": [30024]},
                                      "MaxEvents": 1})]
    assert lync.requests[0]["modules"] == []   # no Lync module needed (works on OCS servers too)


def test_move_reports_the_request_level_retries_it_survived(lync, monkeypatch):
    # Each shell's session re-sent one WinRM request (say a Receive after an HTTP 500): the task's performance
    # facts add them up over every shell, the plan's included, apart from the users' move attempts.
    from fake_lync import FakeSession

    opened = FakeSession.open_shell

    def open_shell_after_one_resend(self):
        self.request_retries = getattr(self, "request_retries", 0) + 1
        return opened(self)

    monkeypatch.setattr(FakeSession, "open_shell", open_shell_after_one_resend)
    monkeypatch.setattr(FakeSession, "delay", 0.05)   # both move shells busy at once (the plan's worker is reused)
    out = run_module(cs_user_move, {"identities": ["David Pelton", "Hao Chen"], "target_pool": "pool02.contoso.net",
                                    "batch_size": 1, "parallelism": 2}, lync, monkeypatch=monkeypatch)
    assert out["summary"]["moved"] == 2
    assert out["performance"]["request_retries"] == lync.shells_opened >= 2
    assert out["performance"]["shells_reclaimed"] == 0
    assert all(r["attempts"] == 1 for r in out["results"])
