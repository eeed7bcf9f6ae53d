"""The move_users role's filters (plugins/filter/move_users.py): the plan of each wave, the rollback's plan, the
verification, the conferencing policies of the moved users and the report's rows."""

from __future__ import annotations

import base64
import json

from ansible_collections.lync.migration.plugins.filter import move_users as f

DAVID = {"identity": "David Pelton", "sip_address": "sip:david.pelton@contoso.net", "display_name": "David Pelton"}
HAO = {"sip_address": "sip:hao.chen@contoso.net", "display_name": "Hao Chen"}


def test_a_wave_keeps_each_user_once_moves_them_by_address_and_prefixes_the_problems_with_the_wave():
    by_identity = {"users": [DAVID], "problems": [
        {"identity": "Ken Myer ", "reason": "malformed", "message": '"Ken Myer " is malformed: trailing'},
        {"identity": "Nobody", "reason": "not_found", "message": '"Nobody" was not found by Get-CsUser; check'},
        {"identity": "Chen", "reason": "ambiguous", "message": '"Chen" matches more than one user (2)'}]}
    by_ou = {"users": [dict(DAVID, identity=None), HAO]}
    skipped_filter = {"skipped": True, "changed": False}
    wave = f.resolved_wave([by_identity, by_ou, skipped_filter], "pilot")
    assert [u["sip_address"] for u in wave["users"]] == [DAVID["sip_address"], HAO["sip_address"]]
    # The name the wave gave, else the address (an OU's users were not named by the wave).
    assert wave["moves"] == [{"identity": "David Pelton", "sip_address": DAVID["sip_address"]},
                             {"identity": HAO["sip_address"], "sip_address": HAO["sip_address"]}]
    assert wave["identities"] == ["David Pelton", HAO["sip_address"]]
    assert [p["message"] for p in wave["problems"]] == [
        'wave pilot: "Ken Myer " is malformed: trailing; or remove it from the wave',
        'wave pilot: "Nobody" was not found by Get-CsUser; check, or remove it from the wave',
        'wave pilot: "Chen" matches more than one user (2)']
    assert all(p["wave"] == "pilot" for p in wave["problems"])


def test_the_legacy_wave_leaves_out_named_users_and_refuses_bad_display_names():
    ken = {"sip_address": "sip:ken.myer@contoso.net", "display_name": "Ken Myer ",
           "name_problems": {"display_name": ["trailing whitespace in 'Ken Myer '", "second"]}}
    upn_only = {"sip_address": "sip:a@contoso.net", "display_name": "A", "name_problems": {"user_principal_name": ["x"]}}
    plan = [{"name": "test", "users": [{"sip_address": "SIP:David.Pelton@contoso.net"}]}]
    wave = f.legacy_wave([DAVID, ken, upn_only], plan, "remaining")
    assert wave["identities"] == ["sip:a@contoso.net"]
    assert wave["problems"] == [{"wave": "remaining", "identity": "Ken Myer ", "sip_address": ken["sip_address"],
                                 "reason": "malformed", "message": "wave remaining: sip:ken.myer@contoso.net: "
                                 "trailing whitespace in 'Ken Myer '; second"}]
    assert f.accounts_with_name_problems([DAVID, ken, upn_only]) == [
        {"sip_address": ken["sip_address"], "display_name": "Ken Myer ", "fields": ["display_name"]},
        {"sip_address": "sip:a@contoso.net", "display_name": "A", "fields": ["user_principal_name"]}]


def _journal(path, *lines):
    return {"item": path, "content": base64.b64encode("".join(json.dumps(x) + "\n" for x in lines).encode()).decode()}


def test_the_rollback_moves_each_journals_moved_users_back_to_the_pool_they_came_from():
    moved = [{"identity": "David Pelton", "sip_address": "sip:d@contoso.net", "from": "pool01.contoso.net",
              "to": "pool02.contoso.net", "outcome": "moved"},
             {"identity": "Hao Chen", "sip_address": "sip:h@contoso.net", "from": "pool03.contoso.net",
              "to": "pool02.contoso.net", "outcome": "moved"},
             {"identity": "Ana", "sip_address": "sip:a@contoso.net", "from": "pool02.contoso.net",
              "to": "pool02.contoso.net", "outcome": "unchanged"}]
    waves = f.rollback_waves([_journal("/j/pilot.jsonl", *moved)], ["POOL01.contoso.net"])
    assert [(w["name"], w["target"], w["legacy"], w["identities"]) for w in waves] == [
        ("pilot", "pool01.contoso.net", True, ["sip:d@contoso.net"]),
        ("pilot", "pool03.contoso.net", False, ["sip:h@contoso.net"])]
    assert waves[0]["journal"] == "pilot.rollback.jsonl" and waves[0]["journal_source"] == "/j/pilot.jsonl"
    assert waves[0]["moves"] == [{"identity": "sip:d@contoso.net", "sip_address": "sip:d@contoso.net"}]


def test_verification_names_users_elsewhere_and_users_not_found():
    results = [{"sip_address": "sip:d@contoso.net", "to": "pool02.contoso.net"},
               {"sip_address": "sip:h@contoso.net", "to": "pool02.contoso.net"},
               {"sip_address": "sip:k@contoso.net", "to": "pool02.contoso.net"}]
    verified = {"users": [{"sip_address": "sip:d@contoso.net", "registrar_pool": "POOL02.contoso.net"},
                          {"sip_address": "sip:h@contoso.net", "registrar_pool": "pool01.contoso.net"}],
                "not_found": ["sip:K@contoso.net"]}
    assert f.not_on_target(verified, results) == [
        {"sip_address": "sip:h@contoso.net", "registrar_pool": "pool01.contoso.net", "expected": "pool02.contoso.net"},
        {"sip_address": "sip:K@contoso.net", "registrar_pool": None, "expected": "pool02.contoso.net"}]
    assert f.not_on_target({"skipped": True}, results) == []


def test_each_moved_user_gets_their_own_policy_else_the_sites_else_global():
    users = [{"sip_address": "sip:d@contoso.net"}, {"sip_address": "sip:h@contoso.net"},
             {"sip_address": "sip:k@contoso.net"}]
    assignments = [{"SipAddress": "sip:D@contoso.net", "ConferencingPolicy": "Standard"},
                   {"SipAddress": "sip:h@contoso.net", "ConferencingPolicy": None}]
    policies = [{"Identity": "Tag:Standard", "AllowAnonymousParticipantsInMeetings": False},
                {"Identity": "Site:Redmond", "AllowAnonymousParticipantsInMeetings": True},
                {"Identity": "Global", "AllowAnonymousParticipantsInMeetings": True}]
    found = f.moved_users_policies(users, assignments, policies, "Site:Redmond")
    assert [(p["identity"], p["users"], p["exists"], p["allow_anonymous_participants_in_meetings"]) for p in found] == [
        ("Tag:Standard", ["sip:d@contoso.net"], True, False),
        ("Site:Redmond", ["sip:h@contoso.net", "sip:k@contoso.net"], True, True)]
    assert [p["identity"] for p in f.moved_users_policies(users[1:], [], policies[:1] + policies[2:], "Redmond")] == [
        "Global"]
    acted = f.policy_actions(found + [{"identity": "Tag:Other", "allow_anonymous_participants_in_meetings": False}],
                             ["Tag:Standard"])
    assert [(p["identity"], p["action"], p["allow_anonymous_participants_in_meetings"]) for p in acted] == [
        ("Tag:Standard", "set to True", True), ("Site:Redmond", "ok", True), ("Tag:Other", "reported only", False)]


def test_report_rows_flatten_errors_add_the_users_set_aside_and_waves_count_their_own():
    results = [{"wave": "test", "identity": "David Pelton", "sip_address": "sip:d@contoso.net", "from": "pool01",
                "to": "pool02", "outcome": "moved", "error": None, "attempts": 1, "cmdlet": "Move-CsLegacyUser",
                "earlier_move": None, "note": None},
               {"wave": "pilot", "identity": "Hao Chen", "sip_address": "sip:h@contoso.net", "from": "pool01",
                "to": "pool02", "outcome": "failed", "error": {"message": "busy", "fqid": "X"}, "attempts": 3}]
    skipped = [{"wave": "pilot", "identity": "Ken Myer ", "message": "wave pilot: trailing"}]
    rows = f.move_report_rows(results, skipped, "pool02")
    assert [(r["identity"], r["outcome"], r["error"]) for r in rows] == [
        ("David Pelton", "moved", None), ("Hao Chen", "failed", "busy"), ("Ken Myer ", "skipped", "wave pilot: trailing")]
    assert rows[2]["to"] == "pool02" and rows[2]["sip_address"] is None and rows[2]["attempts"] == 0
    waves = f.wave_summaries([{"name": "test", "identities": ["David Pelton"]},
                              {"name": "pilot", "identities": ["Hao Chen"]}], rows)
    assert [(w["name"], w["users"], w["totals"]["moved"], w["totals"]["failed"], w["totals"]["skipped"])
            for w in waves] == [("test", 1, 1, 0, 0), ("pilot", 1, 0, 1, 1)]
    assert waves[0]["moved_by_migration"]["this_run"] == 1
