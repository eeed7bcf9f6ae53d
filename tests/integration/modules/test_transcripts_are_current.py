"""The transcripts the unit tests replay are what the lab answers today: each case is recorded again against a
fresh lab and compared with the committed file (re-record with `make transcripts` when the lab or a module
changes on purpose)."""

from __future__ import annotations

import json

import pytest

from record_transcripts import record_case
from transcript_cases import CASES
from transcripts import load


def exchanges_by_request(step):
    # Parallel shells send requests in any order: compare each step's requests and answers as a set.
    return sorted(json.dumps(e, sort_keys=True) for e in step["exchanges"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_committed_transcript_matches_the_lab(case, tmp_path):
    committed = load(case)
    now = json.loads(json.dumps(record_case(case, tmp_path)))
    assert [s["module"] for s in now["steps"]] == [s["module"] for s in committed["steps"]]
    for index, (step_now, step_committed) in enumerate(zip(now["steps"], committed["steps"])):
        assert step_now["args"] == step_committed["args"], (case, index)
        assert exchanges_by_request(step_now) == exchanges_by_request(step_committed), (
            "%s step %d: the lab answers differently from tests/unit/transcripts/%s.json; run `make transcripts` "
            "if the change is meant" % (case, index, case))
