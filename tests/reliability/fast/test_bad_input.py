"""Bad input: every case of data/bad_inputs.yml fails before any change, naming the field and the fix, and the
lab's audit log shows no write call (anything but Get-/Test-) while the corpus runs."""

import re

import pytest
import yaml
from harness import DATA, LAB_INVENTORY, LabInstance, add_bare_host, run_cases, score, write_calls

# One lab and one playbook run serve every test here: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group('test_bad_input')

CORPUS = yaml.safe_load((DATA / "bad_inputs.yml").read_text(encoding="utf-8").replace("@DATA@", str(DATA)))
CASES = CORPUS["module_cases"] + CORPUS["role_cases"]
# The module cases run in one short playbook (make test); the role cases, each a whole preflight, run in
# tests/reliability/test_bad_input_roles.py (make reliability).
MODULE_CASES = CORPUS["module_cases"]


def test_corpus_has_at_least_fifty_cases_with_unique_ids():
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 50 and len(set(ids)) == len(ids)


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    yield from run_corpus(tmp_path_factory.mktemp("bad-input"), MODULE_CASES, [])


def run_corpus(tmp, module_cases, role_cases):
    with LabInstance(tmp / "lab", scenario="contoso-small", stage=6) as lab:
        inventory = lab.write_inventory(LAB_INVENTORY, tmp / "inventory")
        add_bare_host(inventory)
        outcome, audit, run = run_cases(tmp, lab, inventory, module_cases, role_cases)
        yield outcome, write_calls(audit), run


def score_no_changes(name, cases, corpus_run):
    """Score the corpus (a case that did not fail as expected counts as an unexpected change) and check that no
    write call reached the lab."""
    outcome, writes, _ = corpus_run
    failed_cases = [c for c in cases if not verdict(c, outcome[c["id"]])[0]]
    score(name, len(cases), 0, lost=0, duplicated=0, leaked=0, unexpected_changes=len(writes) + len(failed_cases))
    assert writes == [], "write calls reached the lab: %r" % writes[:5]


def test_no_bad_input_changes_anything(corpus_run):
    score_no_changes("bad input (modules)", MODULE_CASES, corpus_run)


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
