"""The lync.migration filters users call in playbooks (no lab needed)."""

from __future__ import annotations

import base64
import csv
import importlib.util
import io
import json
import sys

import pytest
from ansible.errors import AnsibleFilterError

from conftest import REPO

# The filters use the collection's module_utils: the working tree is lync.migration through the venv's link.
sys.path.insert(0, str(REPO / ".ansible" / "collections"))
_spec = importlib.util.spec_from_file_location("lync_migration_filters", REPO / "plugins" / "filter" / "migration.py")
filters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(filters)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_sip_uri_canonicalises_and_refuses_what_is_not_a_sip_uri():
    assert filters.sip_uri("David.Pelton@Contoso.NET") == "sip:David.Pelton@contoso.net"
    assert filters.sip_uri("sip:hao.chen@contoso.net", ["contoso.net"]) == "sip:hao.chen@contoso.net"
    for bad in ["David Pelton", "sip:foo", " hao.chen@contoso.net", "a..b@contoso.net", "x@-bad.net"]:
        with pytest.raises(AnsibleFilterError):
            filters.sip_uri(bad)
    with pytest.raises(AnsibleFilterError, match="not one of the SIP domains"):
        filters.sip_uri("hao.chen@fabrikam.com", ["contoso.net"])


def test_identity_problems_reports_spaces_without_trimming():
    assert filters.identity_problems("Ken Myer") == []
    problems = filters.identity_problems("Ken Myer ")
    assert len(problems) == 1 and "'Ken Myer '" in problems[0] and "trailing" in problems[0]
    assert "leading" in filters.identity_problems(" Ken Myer")[0]
    assert filters.identity_problems("   ") == ["identity is only whitespace"]
    # The filter is the modules' rule (module_utils/lync/identity.py), control characters C0 and C1 alike.
    assert [p.split(" in ")[0] for p in filters.identity_problems(" Ken\x85Myer ")] == [
        "leading whitespace", "trailing whitespace", "control character U+0085"]


def test_batch_splits_in_order():
    assert filters.batch(range(5), 2) == [[0, 1], [2, 3], [4]]
    with pytest.raises(AnsibleFilterError):
        filters.batch([1], 0)


def test_identities_from_csv_keeps_values_as_written_and_checks_encoding_and_header():
    data = "\ufeffIdentity,dept\r\nJosé Álvarez,IT\r\n\r\nKen Myer ,x\r\n".encode("utf-8")
    assert filters.identities_from_csv(b64(data), "w.csv") == ["José Álvarez", "Ken Myer "]
    with pytest.raises(AnsibleFilterError, match="w.csv is not UTF-8"):
        filters.identities_from_csv(b64("identity\nJosé".encode("latin-1")), "w.csv")
    with pytest.raises(AnsibleFilterError, match="no 'identity' column"):
        filters.identities_from_csv(b64(b"name\nx\n"), "w.csv")


def test_wave_overlaps_compares_sip_addresses_case_insensitively():
    waves = {"test": [{"sip_address": "sip:hao.chen@contoso.net"}], "pilot": [{"sip_address": "SIP:Hao.Chen@contoso.net"},
                                                                           {"sip_address": "sip:sara.davis@contoso.net"}]}
    assert filters.wave_overlaps(waves) == [{"user": "sip:hao.chen@contoso.net", "waves": ["test", "pilot"]}]


def test_users_csv_defuses_formulas_and_has_the_header():
    rows = [{"identity": "=HYPERLINK(\"http://x\")", "sip_address": "+sip", "from": "-p", "to": "@t",
             "outcome": "moved", "error": None, "attempts": 1}]
    text = filters.users_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["identity", "sip_address", "from", "to", "outcome", "error", "attempts"]
    assert parsed[1][:4] == ["'=HYPERLINK(\"http://x\")", "'+sip", "'-p", "'@t"]
    assert parsed[1][4:] == ["moved", "", "1"]


def test_journal_moves_keeps_the_first_origin_and_ignores_a_torn_line():
    lines = [
        {"identity": "David Pelton", "sip_address": "sip:david.pelton@contoso.net", "from": "pool01.contoso.net",
         "to": "pool02.contoso.net", "outcome": "moved"},
        {"identity": "David Pelton", "sip_address": "sip:david.pelton@contoso.net", "from": "pool02.contoso.net",
         "to": "pool02.contoso.net", "outcome": "unchanged"},
        {"identity": "Hao Chen", "sip_address": "sip:hao.chen@contoso.net", "from": "pool01.contoso.net",
         "to": "pool02.contoso.net", "outcome": "failed"},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + '\n{"identity": "Sara'
    moves = filters.journal_moves(b64(text.encode("utf-8")))
    assert moves == [{"identity": "David Pelton", "sip_address": "sip:david.pelton@contoso.net",
                      "from": "pool01.contoso.net", "to": "pool02.contoso.net"}]


def test_outcome_totals_counts_every_outcome():
    rows = [{"outcome": "moved"}, {"outcome": "moved"}, {"outcome": "skipped"}]
    assert filters.outcome_totals(rows) == {"total": 3, "moved": 2, "unchanged": 0, "would_move": 0, "failed": 0,
                                            "skipped": 1}
