"""The modules on the lab's recorded answers (tests/unit/transcripts, contoso-small at stage 6): what a user sees
in the result, and what the module asked the server. Faults injected at chosen points stay in test_modules.py
(tests/unit/support/fake_lync.py)."""

import importlib

import pytest

from ansible_collections.lync.migration.plugins.module_utils.lync.journal import read_journal

from module_runner import run_module
from transcripts import ReplaySession, load, replay_step, UnrecordedRequest


def replay(case, monkeypatch, tmp_path=None):
    """Every step of a recorded case, in order; each must use up exactly the requests it made when recorded."""
    outs = []
    for step in load(case)["steps"]:
        module = importlib.import_module("ansible_collections.lync.migration.plugins.modules." + step["module"])
        out, unused = replay_step(module, step, monkeypatch, run_module, tmp_path)
        assert unused == [], "%s: the module no longer sends %d recorded requests" % (case, len(unused))
        outs.append(out)
    return outs


def sent(case, prefix):
    """What the module asked the server, cmdlet and parameters, in every recorded request of the case."""
    return [{"cmdlet": c["cmdlet"], "params": c["params"]} for s in load(case)["steps"] for e in s["exchanges"]
            for c in e["calls"] if c["cmdlet"].startswith(prefix)]


def test_user_info_sorts_every_identity_into_one_list(monkeypatch):
    [out] = replay("user_info_identities", monkeypatch)
    assert [u["identity"] for u in out["users"]] == ["David Pelton", "sip:ana.trujillo@contoso.net"]
    david, ana = out["users"]
    assert david["registrar_pool"] == "pool01.contoso.net" and david["legacy"] is True
    assert david["sip_address"] == "sip:david.pelton@contoso.net" and david["sam_account_name"] == "dpelton"
    assert ana["registrar_pool"] == "pool02.contoso.net" and ana["legacy"] is False  # moved before Phase 6
    assert out["not_found"] == ["Nobody"]
    assert [m["identity"] for m in out["malformed"]] == [" Hao Chen", ""]
    assert out["count"] == 2 and out["changed"] is False
    # malformed names are never sent, let alone trimmed
    assert not [c for c in sent("user_info_identities", "Get-CsUser") if c["params"].get("Identity") == "Hao Chen"]


def test_user_info_legacy_only_and_registrar_pool(monkeypatch):
    legacy, pool02 = replay("user_info_pools", monkeypatch)
    assert {"cmdlet": "Get-CsUser", "params": {"OnOfficeCommunicationServer": True}} in sent("user_info_pools", "Get-")
    assert legacy["count"] > 50 and all(u["legacy"] for u in legacy["users"])
    assert "sip:ana.trujillo@contoso.net" not in [u["sip_address"] for u in legacy["users"]]
    # The pool is matched without regard to case, as Lync compares FQDNs.
    assert "sip:ana.trujillo@contoso.net" in [u["sip_address"] for u in pool02["users"]]
    assert all(u["registrar_pool"] == "pool02.contoso.net" for u in pool02["users"])


def test_move_plan_in_check_mode_calls_no_move_cmdlet(monkeypatch):
    [out] = replay("move_check_mode", monkeypatch)
    assert sent("move_check_mode", "Move-") == []
    assert out["changed"] is True
    by_id = dict((r["identity"], r) for r in out["results"])
    assert by_id["David Pelton"]["outcome"] == "would_move" and by_id["David Pelton"]["cmdlet"] == "Move-CsLegacyUser"
    assert by_id["sip:ana.trujillo@contoso.net"]["outcome"] == "unchanged"
    assert out["summary"] == {"total": 2, "moved": 0, "unchanged": 1, "failed": 0, "would_move": 1, "skipped": 0,
                              "moved_earlier": 0, "reconciled": 0}
    assert out["diff"]["before"]["David Pelton"] == "pool01.contoso.net"
    assert out["diff"]["after"]["David Pelton"] == "pool02.contoso.net"


def test_move_uses_the_right_cmdlet_and_switches_writes_the_journal_and_reruns_unchanged(monkeypatch, tmp_path):
    first, again = replay("move_run_and_rerun", monkeypatch, tmp_path)
    assert not first.get("failed"), first.get("msg")
    assert first["summary"]["moved"] == 2 and first["summary"]["unchanged"] == 1
    assert sorted(sent("move_run_and_rerun", "Move-"), key=lambda c: c["params"]["Identity"]) == [
        {"cmdlet": "Move-CsLegacyUser", "params": {"Identity": sip, "Target": "pool02.contoso.net",
                                                   "ExcludeDialPlan": True, "ExcludeVoicePolicy": True}}
        for sip in ("sip:david.pelton@contoso.net", "sip:hao.chen@contoso.net")]
    entries = read_journal(str(tmp_path / "moves.jsonl"))
    assert sorted((e["identity"], e["outcome"]) for e in entries) == [
        ("David Pelton", "moved"), ("David Pelton", "sent"), ("Hao Chen", "moved"), ("Hao Chen", "sent"),
        ("sip:ana.trujillo@contoso.net", "unchanged")]
    # idempotent: the second run reads both users on the target and changes nothing
    assert again["changed"] is False and again["summary"]["unchanged"] == 2


def test_rollback_to_the_legacy_pool_uses_move_csuser(monkeypatch):
    [out] = replay("move_back_to_the_legacy_pool", monkeypatch)
    assert out["results"][0]["outcome"] == "moved"
    # -Confirm:$false answers the prompt Move-CsUser shows otherwise (office-docs-powershell Move-CsUser.md).
    assert sent("move_back_to_the_legacy_pool", "Move-") == [
        {"cmdlet": "Move-CsUser", "params": {"Identity": "sip:ana.trujillo@contoso.net", "Target": "pool01.contoso.net",
                                             "Confirm": False, "MoveConferenceData": True}}]


def test_invalid_identities_fail_before_any_move_listing_each(monkeypatch):
    [out] = replay("move_invalid_identities", monkeypatch)
    assert out["failed"] and sent("move_invalid_identities", "Move-") == []
    for name in ("Nobody", "Hao Chen ", "Katie Jordan"):
        assert name in out["msg"]
    assert "on_invalid=skip" in out["msg"] and "nothing was moved" in out["msg"]


def test_on_invalid_skip_moves_the_others(monkeypatch):
    [out] = replay("move_skip_invalid", monkeypatch)
    assert not out.get("failed")
    assert [(r["identity"], r["outcome"]) for r in out["results"]] == [("David Pelton", "moved"),
                                                                       ("Nobody", "skipped")]


def test_unknown_target_pool_fails_naming_the_registrar_pools(monkeypatch):
    [out] = replay("move_to_unknown_pool", monkeypatch)
    assert out["failed"] and "is not a pool in the topology" in out["msg"] and "pool09.contoso.net" in out["msg"]
    assert "pool02.contoso.net" in out["msg"]  # names the Registrar pools to choose from
    assert sent("move_to_unknown_pool", "Move-") == []


def test_pool_info_flags_registrar_and_legacy_and_errors_carry_the_servers_details(monkeypatch):
    pools, missing = replay("pool_info", monkeypatch)
    by_fqdn = dict((p["fqdn"], p) for p in pools["pools"])
    assert by_fqdn["pool01.contoso.net"]["legacy"] and by_fqdn["pool01.contoso.net"]["registrar"]
    assert by_fqdn["pool02.contoso.net"]["registrar"] and not by_fqdn["pool02.contoso.net"]["legacy"]
    assert not by_fqdn["lync-sql01.contoso.net"]["registrar"]
    assert missing["failed"] and missing["msg"].startswith("Get-CsPool failed: Cannot find pool")
    assert missing["error"]["category"] == "ObjectNotFound" and missing["error"]["cmdlet"] == "Get-CsPool"
    assert missing["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_replication_info_reads_the_replicas(monkeypatch):
    [out] = replay("replication_info", monkeypatch)
    assert out["all_up_to_date"] is True and out["stale"] == []
    assert out["replicas"] == [{"replica_fqdn": "lync-fe01.contoso.net", "up_to_date": True,
                                "last_status_report": "2013-06-03T09:00:00",
                                "last_update_creation": "2013-06-03T09:00:00"}]


def test_object_info_returns_the_chosen_properties(monkeypatch):
    [out] = replay("object_info", monkeypatch)
    assert out["objects"] == [{"SipAddress": "sip:hao.chen@contoso.net", "RegistrarPool": "pool01.contoso.net"}]


def test_conferencing_policy_check_and_diff_then_change_then_nothing(monkeypatch):
    check, run, rerun = replay("conferencing_policy", monkeypatch)
    assert check["changed"] and check["diff"]["before"]["allow_anonymous_participants_in_meetings"] is True
    assert check["diff"]["after"]["allow_anonymous_participants_in_meetings"] is False
    assert run["changed"] and rerun["changed"] is False
    assert sent("conferencing_policy", "Set-") == [
        {"cmdlet": "Set-CsConferencingPolicy",
         "params": {"Identity": "Global", "AllowAnonymousParticipantsInMeetings": False}}]


def test_a_request_that_was_not_recorded_fails_the_test(monkeypatch):
    monkeypatch.setattr(ReplaySession, "exchanges", [])
    session = ReplaySession(None)
    from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call, build_request, \
        encode_request
    calls = [Call("Get-CsUser", {"Identity": "Ken Myer"})]
    with pytest.raises(UnrecordedRequest, match="Ken Myer"):
        session.run_envelope("replay-shell", calls, encode_request(build_request(calls)))
