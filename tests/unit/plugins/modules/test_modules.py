
import pytest

from ansible_collections.lync.migration.plugins.modules import (
    cs_conferencing_policy,
    cs_object_info,
    cs_pool_info,
    cs_replication_info,
    cs_user_info,
    cs_user_move,
    cs_winevent_info,
)
from ansible_collections.lync.migration.plugins.module_utils.lync.journal import read_journal

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
def test_user_info_sorts_every_identity_into_one_list(lync, monkeypatch):
    out = run_module(cs_user_info, {"identities": ["David Pelton", "sip:ken@contoso.net", "Nobody", " Hao Chen",
                                                   "Lee Twin", ""]}, lync, monkeypatch=monkeypatch)
    assert [u["identity"] for u in out["users"]] == ["David Pelton", "sip:ken@contoso.net"]
    david = out["users"][0]
    assert david["registrar_pool"] == "pool01.contoso.net" and david["legacy"] is True
    assert david["sip_address"] == "sip:david@contoso.net" and david["sam_account_name"] == "david"
    assert out["users"][1]["legacy"] is False
    assert out["not_found"] == ["Nobody"]
    assert [a["identity"] for a in out["ambiguous"]] == ["Lee Twin"]
    assert [m["identity"] for m in out["malformed"]] == [" Hao Chen", ""]
    assert out["count"] == 2 and out["changed"] is False
    # malformed names are never sent, let alone trimmed
    assert ("Get-CsUser", {"Identity": "Hao Chen"}) not in lync.calls


def test_user_info_legacy_only_and_registrar_pool(lync, monkeypatch):
    out = run_module(cs_user_info, {"legacy_only": True}, lync, monkeypatch=monkeypatch)
    assert ("Get-CsUser", {"OnOfficeCommunicationServer": True}) in lync.calls
    assert out["count"] == 5 and all(u["legacy"] for u in out["users"])
    out = run_module(cs_user_info, {"registrar_pool": "POOL02.contoso.net"}, lync, monkeypatch=monkeypatch)
    assert [u["sip_address"] for u in out["users"]] == ["sip:ken@contoso.net"]


def test_user_info_refuses_identities_with_filter(lync, monkeypatch):
    out = run_module(cs_user_info, {"identities": ["a"], "filter": "DisplayName -eq 'a'"}, lync,
                     monkeypatch=monkeypatch)
    assert out["failed"] and "mutually exclusive" in out["msg"] and "identities" in out["msg"]


# -- cs_user_move -------------------------------------------------------------------------------------------
def test_move_plan_in_check_mode_calls_no_move_cmdlet(lync, monkeypatch):
    out = run_module(cs_user_move, {"identities": ["David Pelton", "sip:ken@contoso.net"],
                                    "target_pool": "pool02.contoso.net"}, lync, check_mode=True, diff=True,
                     monkeypatch=monkeypatch)
    assert moves(lync) == []
    assert out["changed"] is True
    by_id = dict((r["identity"], r) for r in out["results"])
    assert by_id["David Pelton"]["outcome"] == "would_move"
    assert by_id["David Pelton"]["cmdlet"] == "Move-CsLegacyUser"
    assert by_id["sip:ken@contoso.net"]["outcome"] == "unchanged"
    assert out["summary"] == {"total": 2, "moved": 0, "unchanged": 1, "failed": 0, "would_move": 1, "skipped": 0,
                              "moved_earlier": 0, "reconciled": 0}
    assert out["diff"]["before"]["David Pelton"] == "pool01.contoso.net"
    assert out["diff"]["after"]["David Pelton"] == "pool02.contoso.net"


def test_move_uses_the_right_cmdlet_and_switches_and_writes_the_journal(lync, monkeypatch, tmp_path):
    journal = tmp_path / "moves.jsonl"
    out = run_module(cs_user_move, {"identities": ["David Pelton", "Hao Chen", "sip:ken@contoso.net"],
                                    "target_pool": "pool02.contoso.net",
                                    "exclude_policies": ["dial_plan", "voice"], "batch_size": 1,
                                    "parallelism": 2, "journal": str(journal)}, lync, monkeypatch=monkeypatch)
    assert not out.get("failed"), out.get("msg")
    assert out["summary"]["moved"] == 2 and out["summary"]["unchanged"] == 1
    assert sorted(moves(lync), key=lambda c: c[1]["Identity"]) == [
        ("Move-CsLegacyUser", {"Identity": "sip:david@contoso.net", "Target": "pool02.contoso.net",
                               "ExcludeDialPlan": True, "ExcludeVoicePolicy": True}),
        ("Move-CsLegacyUser", {"Identity": "sip:hao@contoso.net", "Target": "pool02.contoso.net",
                               "ExcludeDialPlan": True, "ExcludeVoicePolicy": True})]
    entries = read_journal(str(journal))
    assert sorted((e["identity"], e["outcome"]) for e in entries) == [
        ("David Pelton", "moved"), ("David Pelton", "sent"), ("Hao Chen", "moved"), ("Hao Chen", "sent"),
        ("sip:ken@contoso.net", "unchanged")]
    # idempotent: running again changes nothing
    again = run_module(cs_user_move, {"identities": ["David Pelton", "Hao Chen"],
                                      "target_pool": "pool02.contoso.net"}, lync, monkeypatch=monkeypatch)
    assert again["changed"] is False and again["summary"]["unchanged"] == 2


def test_rollback_to_the_legacy_pool_uses_move_csuser(lync, monkeypatch):
    out = run_module(cs_user_move, {"identities": ["Ken Myer"], "target_pool": "pool01.contoso.net",
                                    "move_conference_data": True}, lync, monkeypatch=monkeypatch)
    assert out["results"][0]["outcome"] == "moved"
    # -Confirm:$false answers the prompt Move-CsUser shows otherwise (office-docs-powershell Move-CsUser.md).
    assert moves(lync) == [("Move-CsUser", {"Identity": "sip:ken@contoso.net", "Target": "pool01.contoso.net",
                                            "Confirm": False, "MoveConferenceData": True})]


def test_invalid_identities_fail_before_any_move_listing_each(lync, monkeypatch):
    out = run_module(cs_user_move, {"identities": ["David Pelton", "Nobody", "Lee Twin", "Hao Chen ",
                                                   "Pat Space "],
                                    "target_pool": "pool02.contoso.net"}, lync, monkeypatch=monkeypatch)
    assert out["failed"] and moves(lync) == []
    for name in ("Nobody", "Lee Twin", "Hao Chen ", "Pat Space"):
        assert name in out["msg"]
    assert "on_invalid=skip" in out["msg"] and "nothing was moved" in out["msg"]


def test_on_invalid_skip_moves_the_others(lync, monkeypatch):
    out = run_module(cs_user_move, {"identities": ["David Pelton", "Nobody"], "target_pool": "pool02.contoso.net",
                                    "on_invalid": "skip"}, lync, monkeypatch=monkeypatch)
    assert not out.get("failed")
    assert [(r["identity"], r["outcome"]) for r in out["results"]] == [("David Pelton", "moved"),
                                                                       ("Nobody", "skipped")]


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
def test_pool_info_flags_registrar_and_legacy(lync, monkeypatch):
    out = run_module(cs_pool_info, {}, lync, monkeypatch=monkeypatch)
    by_fqdn = dict((p["fqdn"], p) for p in out["pools"])
    assert by_fqdn["pool01.contoso.net"]["legacy"] and by_fqdn["pool01.contoso.net"]["registrar"]
    assert not by_fqdn["pool02.contoso.net"]["legacy"]
    assert not by_fqdn["fs01.contoso.net"]["registrar"]


def test_pool_info_error_carries_the_servers_details(lync, monkeypatch):
    out = run_module(cs_pool_info, {"identity": "nope.contoso.net"}, lync, monkeypatch=monkeypatch)
    assert out["failed"] and out["msg"].startswith("Get-CsPool failed: Cannot find pool")
    assert out["error"]["category"] == "ObjectNotFound" and out["error"]["cmdlet"] == "Get-CsPool"
    assert out["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_replication_info_lists_stale_replicas(lync, monkeypatch):
    out = run_module(cs_replication_info, {}, lync, monkeypatch=monkeypatch)
    assert out["stale"] == ["edge01.contoso.net"] and out["all_up_to_date"] is False
    assert out["replicas"][0] == {"replica_fqdn": "fe01.contoso.net", "up_to_date": True,
                                  "last_status_report": "1/1/2014", "last_update_creation": "1/1/2014"}


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


def test_conferencing_policy_is_idempotent_with_check_and_diff(lync, monkeypatch):
    policy = {"Identity": "Global", "AllowAnonymousParticipantsInMeetings": True}
    sets = []

    def run(cmdlet, params):
        lync.calls.append((cmdlet, params))
        if cmdlet == "Get-CsConferencingPolicy":
            return [dict(policy)]
        if cmdlet == "Set-CsConferencingPolicy":
            sets.append(params)
            policy["AllowAnonymousParticipantsInMeetings"] = params["AllowAnonymousParticipantsInMeetings"]
            return []
        raise AssertionError(cmdlet)
    monkeypatch.setattr(lync, "run", run)
    args = {"identity": "Global", "allow_anonymous_participants_in_meetings": False}
    out = run_module(cs_conferencing_policy, args, lync, check_mode=True, diff=True, monkeypatch=monkeypatch)
    assert out["changed"] and sets == []
    assert out["diff"]["before"]["allow_anonymous_participants_in_meetings"] is True
    assert out["diff"]["after"]["allow_anonymous_participants_in_meetings"] is False
    out = run_module(cs_conferencing_policy, args, lync, monkeypatch=monkeypatch)
    assert out["changed"] and sets == [{"Identity": "Global", "AllowAnonymousParticipantsInMeetings": False}]
    out = run_module(cs_conferencing_policy, args, lync, monkeypatch=monkeypatch)
    assert out["changed"] is False and len(sets) == 1


def test_move_reports_the_request_level_retries_it_survived(lync, monkeypatch):
    # Each shell's session re-sent one WinRM request (say a Receive after an HTTP 500): the task's performance
    # facts add them up over every shell, the plan's included, apart from the users' move attempts.
    from fake_lync import FakeSession

    opened = FakeSession.open_shell

    def open_shell_after_one_resend(self):
        self.request_retries = getattr(self, "request_retries", 0) + 1
        return opened(self)

    monkeypatch.setattr(FakeSession, "open_shell", open_shell_after_one_resend)
    out = run_module(cs_user_move, {"identities": ["David Pelton", "Hao Chen"], "target_pool": "pool02.contoso.net",
                                    "batch_size": 1, "parallelism": 2}, lync, monkeypatch=monkeypatch)
    assert out["summary"]["moved"] == 2
    assert out["performance"]["request_retries"] == lync.shells_opened >= 2
    assert out["performance"]["shells_reclaimed"] == 0
    assert all(r["attempts"] == 1 for r in out["results"])
