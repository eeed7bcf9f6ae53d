"""The move journal as a run that may be killed at any moment needs it: each move journalled as sent before it
is sent; a rerun reconciles what a dead run sent; one run per wave at a time; a move the server refuses because
the user is already on the target is settled as unchanged, not failed."""

import base64
import json

import pytest

from ansible_collections.lync.migration.plugins.filter.migration import journal_moves
from ansible_collections.lync.migration.plugins.module_utils.lync.journal import (
    JournalInUse,
    MoveJournal,
    read_journal,
)
from ansible_collections.lync.migration.plugins.modules import cs_user_move

from fake_lync import FakeLync, pool, user
from module_runner import run_module

TARGET = "pool02.contoso.net"


@pytest.fixture
def lync():
    return FakeLync(
        [pool("pool01.contoso.net", legacy=True), pool(TARGET)],
        [user("David Pelton", "sip:david@contoso.net", "pool01.contoso.net"),
         user("Hao Chen", "sip:hao@contoso.net", "pool01.contoso.net"),
         user("Ken Myer", "sip:ken@contoso.net", "pool01.contoso.net")])


def sent_line(sip, source="pool01.contoso.net"):
    return {"identity": sip, "sip_address": sip, "from": source, "to": TARGET, "cmdlet": "Move-CsLegacyUser",
            "outcome": "sent", "error": None, "attempts": 0, "time": "2026-12-07T10:00:00.000+00:00"}


def write_lines(path, lines):
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def move(lync, monkeypatch, journal, **extra):
    args = {"identities": ["sip:david@contoso.net", "sip:hao@contoso.net", "sip:ken@contoso.net"],
            "target_pool": TARGET, "journal": str(journal)}
    args.update(extra)
    return run_module(cs_user_move, args, lync, monkeypatch=monkeypatch)


def test_every_move_is_journalled_as_sent_before_the_server_runs_it(lync, monkeypatch, tmp_path):
    journal = tmp_path / "wave.jsonl"
    seen_at_move = {}
    real_run = lync.run

    def run(cmdlet, params):
        if cmdlet.startswith("Move-"):
            sip = params["Identity"]
            seen_at_move[sip] = [e["outcome"] for e in read_journal(str(journal)) if e["sip_address"] == sip]
        return real_run(cmdlet, params)

    monkeypatch.setattr(lync, "run", run)
    out = move(lync, monkeypatch, journal)
    assert out["summary"]["moved"] == 3
    everyone = ("sip:david@contoso.net", "sip:hao@contoso.net", "sip:ken@contoso.net")
    assert seen_at_move == {s: ["sent"] for s in everyone}


def test_a_rerun_journals_as_moved_what_a_killed_run_sent_and_the_server_completed(lync, monkeypatch, tmp_path):
    # The killed run sent David's and Hao's moves; the server completed David's (Windows runs a started
    # command to its end) and never received Hao's.
    journal = tmp_path / "wave.jsonl"
    write_lines(journal, [sent_line("sip:david@contoso.net"), sent_line("sip:hao@contoso.net")])
    lync.users[0]["RegistrarPool"] = TARGET

    plan = move(lync, monkeypatch, journal, _ansible_check_mode=True)
    by_sip = dict((e["sip_address"], e) for e in plan["results"])
    assert by_sip["sip:david@contoso.net"]["outcome"] == "unchanged"
    assert by_sip["sip:david@contoso.net"]["earlier_move"]["reconciled"] is True
    assert plan["summary"]["reconciled"] == 1
    assert [e["outcome"] for e in read_journal(str(journal))] == ["sent", "sent"]   # check mode writes nothing

    out = move(lync, monkeypatch, journal)
    assert not out.get("failed"), out.get("msg")
    by_sip = dict((e["sip_address"], e) for e in out["results"])
    assert by_sip["sip:david@contoso.net"]["outcome"] == "unchanged"
    assert "earlier run" in by_sip["sip:david@contoso.net"]["note"]
    assert by_sip["sip:hao@contoso.net"]["outcome"] == "moved"           # never reached the server: moved now
    assert out["summary"]["moved_earlier"] == 1 and out["summary"]["reconciled"] == 1
    assert [c[1]["Identity"] for c in lync.calls if c[0].startswith("Move-")] == [
        "sip:hao@contoso.net", "sip:ken@contoso.net"]
    david = [e for e in read_journal(str(journal)) if e["sip_address"] == "sip:david@contoso.net"]
    assert [(e["outcome"], e["from"], e.get("reconciled")) for e in david] == [
        ("sent", "pool01.contoso.net", None), ("moved", "pool01.contoso.net", True)]
    # The rollback reads the journal: David goes back to where he came from, with the two others.
    moves = journal_moves(base64.b64encode(journal.read_bytes()).decode())
    assert sorted((m["sip_address"], m["from"]) for m in moves) == [
        ("sip:david@contoso.net", "pool01.contoso.net"), ("sip:hao@contoso.net", "pool01.contoso.net"),
        ("sip:ken@contoso.net", "pool01.contoso.net")]

    again = move(lync, monkeypatch, journal)
    assert again["changed"] is False and again["summary"]["moved_earlier"] == 3
    assert again["summary"]["reconciled"] == 0


def test_a_second_run_of_the_same_wave_is_refused_while_the_first_holds_the_journal(lync, monkeypatch, tmp_path):
    journal = tmp_path / "wave.jsonl"
    first = MoveJournal(str(journal))
    try:
        out = move(lync, monkeypatch, journal)
        assert out["failed"]
        assert "in use by another run of this wave" in out["msg"] and "pid" in out["msg"]
        assert not [c for c in lync.calls if c[0].startswith("Move-")]
        # The wave's rollback journal shares the lock.
        with pytest.raises(JournalInUse):
            MoveJournal(str(tmp_path / "wave.rollback.jsonl"))
    finally:
        first.close()
    assert move(lync, monkeypatch, journal)["summary"]["moved"] == 3


def test_a_move_refused_because_the_user_is_already_on_the_target_is_unchanged_not_failed(
        lync, monkeypatch, tmp_path):
    real_run = lync.run

    def run(cmdlet, params):
        if cmdlet == "Move-CsLegacyUser" and params["Identity"] == "sip:hao@contoso.net":
            lync.users[1]["RegistrarPool"] = TARGET   # moved by hand between the plan and the move
        return real_run(cmdlet, params)

    monkeypatch.setattr(lync, "run", run)
    out = move(lync, monkeypatch, tmp_path / "wave.jsonl")
    assert not out.get("failed"), out.get("msg")
    hao = next(e for e in out["results"] if e["sip_address"] == "sip:hao@contoso.net")
    assert hao["outcome"] == "unchanged" and hao["error"] is None
    assert "already on pool02.contoso.net" in hao["note"] and "not homed on OCS" in hao["note"]


def test_a_move_refused_for_another_reason_still_fails(lync, monkeypatch, tmp_path):
    real_run = lync.run

    def run(cmdlet, params):
        if cmdlet == "Move-CsLegacyUser" and params["Identity"] == "sip:hao@contoso.net":
            lync.users[1]["RegistrarPool"] = "pool03.contoso.net"
        return real_run(cmdlet, params)

    monkeypatch.setattr(lync, "run", run)
    out = move(lync, monkeypatch, tmp_path / "wave.jsonl")
    assert out["failed"] and out["summary"]["failed"] == 1
