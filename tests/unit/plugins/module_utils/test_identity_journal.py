import os
import threading

import pytest

from ansible_collections.lync.migration.plugins.module_utils.lync.identity import (
    equals_filter,
    escape_filter_value,
    identity_problem,
    split_identities,
)
from ansible_collections.lync.migration.plugins.module_utils.lync.journal import MoveJournal, read_journal
from ansible_collections.lync.migration.plugins.module_utils.lync.moves import new_entry


@pytest.mark.parametrize("identity,fragment", [
    ("", "empty"),
    ("   ", "only whitespace"),
    (" Ken Myer", "leading whitespace"),
    ("Ken Myer ", "trailing whitespace"),
    ("Ken\tMyer", "U+0009"),
    ("Ken\x00Myer", "U+0000"),
])
def test_malformed_identities_are_named_with_the_reason(identity, fragment):
    assert fragment in identity_problem(identity)


def test_well_formed_identities_pass_and_are_never_trimmed():
    assert identity_problem("sip:ken.myer@contoso.net") is None
    assert identity_problem("O'Brien, Pat") is None
    good, bad = split_identities(["Ken Myer", " Ken Myer", "ken myer", "Hao Chen"])
    assert good == ["Ken Myer", "Hao Chen"]
    assert bad == [{"identity": " Ken Myer", "reason": identity_problem(" Ken Myer")}]


def test_filter_values_cannot_close_the_literal():
    assert escape_filter_value("Ken Myer") == "'Ken Myer'"
    assert escape_filter_value("O'Brien") == "'O''Brien'"
    evil = "x' -or DisplayName -like '*"
    escaped = escape_filter_value(evil)
    # Inside the literal every quote is doubled, so the literal ends only at the last character.
    body = escaped[1:-1]
    assert body.replace("''", "") .count("'") == 0
    assert escape_filter_value("a\u2019b") == "'a\u2019\u2019b'"   # PowerShell's typographic single quote
    assert equals_filter("RegistrarPool", "pool01.contoso.net") == "RegistrarPool -eq 'pool01.contoso.net'"
    with pytest.raises(ValueError):
        escape_filter_value("a\nb")
    with pytest.raises(ValueError):
        equals_filter("Name -or 1", "x")


def test_journal_lines_are_fsynced_json_and_thread_safe(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    path = tmp_path / "moves.jsonl"
    journal = MoveJournal(str(path))
    entries = [dict(new_entry("u%d" % i, "p2", "sip:u%d@c" % i, "p1", "Move-CsLegacyUser", "moved"), attempts=1)
               for i in range(20)]
    threads = [threading.Thread(target=journal.record_entry, args=(entry,)) for entry in entries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    journal.close()
    entries = read_journal(str(path))
    assert len(entries) == 20 and len(synced) == 20
    assert set(entries[0]) == {"identity", "sip_address", "from", "to", "cmdlet", "outcome", "error", "attempts",
                               "time"}
    with open(path, "a") as handle:
        handle.write('{"identity": "torn')
    assert len(read_journal(str(path))) == 20


def test_journal_in_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(IOError):
        MoveJournal(str(tmp_path / "nope" / "moves.jsonl"))
