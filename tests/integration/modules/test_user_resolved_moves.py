"""Identities resolved once (issue 14, item 2) against the lab (contoso-small at stage 6): cs_user_info returns
what is wrong with each identity and each user's names as data, and cs_user_move, given the users a wave resolved
(name + SIP address), reads each by its address only, names it as the wave did, and takes the bulk read for a big
wave of display names."""

import json

import pytest

from ansible_collections.lync.migration.plugins.module_utils.lync.moves import DEFAULT_TUNING
from ansible_collections.lync.migration.plugins.modules import cs_user_info, cs_user_move
from ansible_collections.lync.migration.plugins.module_utils.lync.journal import read_journal

from module_runner import run_module

lync_lab = pytest.importorskip("lync_lab")

PASSWORD = "Lab-Passw0rd!"
DAVID = {"identity": "David Pelton", "sip_address": "sip:david.pelton@contoso.net"}
HAO = {"identity": "Hao Chen", "sip_address": "sip:hao.chen@contoso.net"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from lync_lab.instance import LabInstance

    root = tmp_path_factory.mktemp("lab")
    with LabInstance(root / "state", stage=6, log=root / "lab.log") as instance:
        yield {"port": instance.http_port, "state": instance.state_dir}


def connection(lab):
    return {"server": "127.0.0.1", "port": lab["port"], "scheme": "http", "username": "CONTOSO\\lyncadmin",
            "password": PASSWORD}


def user_reads(lab, since=0):
    """The Get-CsUser calls the lab answered since the ``since``-th audit line, as their parameters."""
    lines = (lab["state"] / "audit.jsonl").read_text(encoding="utf-8").splitlines()[since:]
    return [e["params"] for e in map(json.loads, lines) if e.get("cmdlet") == "Get-CsUser"]


def audit_length(lab):
    return len((lab["state"] / "audit.jsonl").read_text(encoding="utf-8").splitlines())


def test_user_info_says_what_is_wrong_with_each_identity_and_each_users_names(lab, monkeypatch):
    out = run_module(cs_user_info, {"identities": ["David Pelton", "Ken Myer ", "Nobody Here"]}, None,
                     monkeypatch=monkeypatch, connection=connection(lab))
    assert [(p["identity"], p["reason"]) for p in out["problems"]] == [("Ken Myer ", "malformed"),
                                                                       ("Nobody Here", "not_found")]
    assert out["problems"][0]["message"].startswith('"Ken Myer " is malformed: trailing whitespace')
    assert "was not found by Get-CsUser" in out["problems"][1]["message"]
    assert out["users"][0]["name_problems"] == {}
    legacy = run_module(cs_user_info, {"legacy_only": True}, None, monkeypatch=monkeypatch, connection=connection(lab))
    ken = next(u for u in legacy["users"] if u["sip_address"] == "sip:ken.myer@contoso.net")
    assert list(ken["name_problems"]) == ["display_name"]
    assert "fix the account name in Active Directory" in ken["name_problems"]["display_name"][0]
    assert [u["sip_address"] for u in legacy["users"] if u["name_problems"]] == ["sip:ken.myer@contoso.net"]


def test_resolved_users_are_read_by_address_and_keep_the_waves_names(lab, monkeypatch, tmp_path):
    before = audit_length(lab)
    journal = tmp_path / "test.jsonl"
    args = {"users": [DAVID, HAO], "target_pool": "pool02.contoso.net", "journal": str(journal), "results": "failed"}
    moved = run_module(cs_user_move, args, None, monkeypatch=monkeypatch, connection=connection(lab))
    assert not moved.get("failed"), moved.get("msg")
    assert moved["summary"]["moved"] == 2
    # No display name went to Get-CsUser: each user was read by the address the wave resolved.
    reads = user_reads(lab, before)
    assert reads and {r.get("Identity") for r in reads} <= {DAVID["sip_address"], HAO["sip_address"]}
    # The journal (and so the rollback and the report) names each user as the wave did.
    assert {(e["identity"], e["outcome"]) for e in read_journal(str(journal))} == {
        ("David Pelton", "sent"), ("David Pelton", "moved"), ("Hao Chen", "sent"), ("Hao Chen", "moved")}
    # A lean result does not echo the list of users.
    assert moved["invocation"]["module_args"]["users"] == "(2 users)"


def test_a_big_wave_of_display_names_takes_the_bulk_read(lab, monkeypatch):
    monkeypatch.setattr(cs_user_move, "TUNING", DEFAULT_TUNING._replace(bulk_read_threshold=2))
    before = audit_length(lab)
    katie = {"identity": "Katie Jordan", "sip_address": "sip:katie.jordan@contoso.net"}
    sara = {"identity": "Sara Davis", "sip_address": "sip:sara.davis@contoso.net"}
    plan = run_module(cs_user_move, {"users": [katie, sara], "target_pool": "pool02.contoso.net"}, None,
                      check_mode=True, monkeypatch=monkeypatch, connection=connection(lab))
    assert [(r["identity"], r["outcome"]) for r in plan["results"]] == [("Katie Jordan", "would_move"),
                                                                       ("Sara Davis", "would_move")]
    # One Get-CsUser of every user, no lookup by name (before, display names were looked up one by one).
    assert [r.get("Identity") for r in user_reads(lab, before)] == [None]


def test_planning_and_moving_in_one_pass_reads_resolved_users_by_address_too(lab, monkeypatch):
    """The one-pass path (moves.one_pass_applies: on_invalid=skip, from one_pass_min_identities on) has its own
    reads (move_one_pass.py); they too go by address and keep the wave's names."""
    monkeypatch.setattr(cs_user_move, "TUNING", DEFAULT_TUNING._replace(one_pass_min_identities=2))
    before = audit_length(lab)
    chen = {"identity": "Chen Yang", "sip_address": "sip:chen.yang@contoso.net"}
    claus = {"identity": "Claus Hansen", "sip_address": "sip:claus.hansen@contoso.net"}
    out = run_module(cs_user_move, {"users": [chen, claus], "target_pool": "pool02.contoso.net", "on_invalid": "skip"},
                     None, monkeypatch=monkeypatch, connection=connection(lab))
    assert not out.get("failed"), out.get("msg")
    assert out["performance"]["one_pass"] is True
    assert [(r["identity"], r["outcome"]) for r in out["results"]] == [("Chen Yang", "moved"), ("Claus Hansen", "moved")]
    assert {r.get("Identity") for r in user_reads(lab, before)} <= {chen["sip_address"], claus["sip_address"]}


def test_identities_and_users_cannot_both_be_given(lab, monkeypatch):
    out = run_module(cs_user_move, {"users": [DAVID], "identities": ["David Pelton"], "target_pool": "pool02.contoso.net"},
                     None, monkeypatch=monkeypatch, connection=connection(lab))
    assert out["failed"] and "mutually exclusive" in out["msg"]
