"""Bad input for the move_users role (each case a whole preflight, so in `make reliability`): every case fails
before any change, naming the field and the fix; the lab's audit log shows no write call."""

import pytest
from fast.test_bad_input import CORPUS, run_corpus, score_no_changes, verdict

# One lab and one playbook run serve every test here: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group('test_bad_input_roles')

ROLE_CASES = CORPUS["role_cases"]


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    yield from run_corpus(tmp_path_factory.mktemp("bad-input-roles"), [], ROLE_CASES)


def test_no_bad_role_input_changes_anything(corpus_run):
    score_no_changes("bad input (role)", ROLE_CASES, corpus_run)


@pytest.mark.parametrize("case", ROLE_CASES, ids=[c["id"] for c in ROLE_CASES])
def test_bad_role_input_fails_naming_the_field_and_the_fix(corpus_run, case):
    outcome, _, _ = corpus_run
    ok, why = verdict(case, outcome[case["id"]])
    assert ok, why
