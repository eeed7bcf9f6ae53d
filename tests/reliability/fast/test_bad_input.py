"""Bad input: every case of data/bad_inputs.yml fails before any change, naming the field and the fix, and the
lab's audit log shows no write call (anything but Get-/Test-) while the corpus runs."""

import re

import pytest
import yaml
from harness import (DATA, LAB_INVENTORY, OK, SILENT, UNCLEAR, UNSAFE, LabInstance, add_bare_host,
                     load_playbook_cases, run_cases, score_case, write_calls)

# One lab and one playbook run serve every test here: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group('test_bad_input')

CORPUS = yaml.safe_load((DATA / "bad_inputs.yml").read_text(encoding="utf-8").replace("@DATA@", str(DATA)))
CASES = CORPUS["module_cases"] + CORPUS["role_cases"]
# The module cases run in one short playbook (make test); the role cases, each a whole preflight, run in
# tests/reliability/test_bad_input_roles.py (make reliability).
MODULE_CASES = CORPUS["module_cases"]


# The whole corpus: the module and role cases here plus the playbook cases of every data/bad_inputs*.yml.
CORPUS_MINIMUM = 150


def test_corpus_has_enough_cases_with_unique_ids():
    ids = [c["id"] for c in CASES + load_playbook_cases()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, "case ids used twice: %s" % duplicates
    assert len(ids) >= CORPUS_MINIMUM, "%d cases, at least %d expected" % (len(ids), CORPUS_MINIMUM)


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    yield from run_corpus(tmp_path_factory.mktemp("bad-input"), MODULE_CASES, [])


def run_corpus(tmp, module_cases, role_cases):
    with LabInstance(tmp / "lab", scenario="contoso-small", stage=6) as lab:
        inventory = lab.write_inventory(LAB_INVENTORY, tmp / "inventory")
        add_bare_host(inventory)
        outcome, audit, run = run_cases(tmp, lab, inventory, module_cases, role_cases)
        yield outcome, write_calls(audit), run


def case_kind(case, result, writes):
    """The corpus table's kind for one case of a shared run (scoreboard.py): the run's changing calls cannot be
    told apart per case, so any of them makes every case of the run unsafe."""
    if writes:
        return UNSAFE
    if verdict(case, result)[0]:
        return OK
    return UNCLEAR if result.get("failed") else SILENT


def score_cases(table, cases, corpus_run):
    """One corpus-table row per case, and no changing call may have reached the lab."""
    outcome, writes, _ = corpus_run
    for case in cases:
        score_case(table, case["id"], case_kind(case, outcome[case["id"]], writes))
    assert writes == [], "write calls reached the lab: %r" % writes[:5]


def test_no_bad_input_changes_anything(corpus_run):
    score_cases("bad input (modules)", MODULE_CASES, corpus_run)


def verdict(case, result):
    if "expect_result" in case:
        ok = all(len(result.get(k) or []) == n for k, n in case["expect_result"].items())
        return ok, "result %r" % {k: result.get(k) for k in case["expect_result"]}
    if not result.get("failed"):
        return False, "did not fail (%s)" % str(result.get("msg", ""))[:300]
    msg = str(result.get("msg", ""))
    missing = [p for p in case["expect"] if not re.search(p, msg, re.IGNORECASE)]
    return not missing, "message %r lacks %r" % (msg[:600], missing)


@pytest.mark.parametrize("case", MODULE_CASES, ids=[c["id"] for c in MODULE_CASES])
def test_bad_input_fails_naming_the_field_and_the_fix(corpus_run, case):
    outcome, _, _ = corpus_run
    ok, why = verdict(case, outcome[case["id"]])
    assert ok, why
