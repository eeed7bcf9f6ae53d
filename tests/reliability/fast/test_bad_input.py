"""Bad input: every case of data/bad_inputs.yml fails before any change, naming the field and the fix, and the
lab's audit log shows no write call (anything but Get-/Test-) while the corpus runs."""

import json
import re

import pytest
import yaml
from harness import DATA, LabProcess, case_playbook, collections_root, lab_inventory, playbook_env, \
    run_playbook, score, write_calls, add_bare_host, VENV_BIN, read_case_results

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
    lab = LabProcess(tmp / "lab", scenario="contoso-small", stage=6).start()
    try:
        inventory = lab_inventory(tmp / "inventory", lab)
        add_bare_host(inventory)
        results = tmp / "results.json"
        book = case_playbook(tmp / "cases.yml", module_cases, role_cases, results,
                             tmp / "reports", tmp / "journal")
        before = len(lab.audit())
        run = run_playbook([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(book)],
                           playbook_env(collections_root(tmp / "collections")))
        assert results.exists(), "the corpus playbook did not finish:\n" + run.output[-5000:]
        writes = write_calls(lab.audit()[before:])
        outcome = read_case_results(results)
        missing = [c["id"] for c in module_cases + role_cases if c["id"] not in outcome]
        assert not missing, "cases without a result: %s\n%s" % (missing, run.output[-5000:])
        yield outcome, writes, run
    finally:
        lab.stop()


def test_no_bad_input_changes_anything(corpus_run):
    outcome, writes, _ = corpus_run
    failed_cases = [c for c in MODULE_CASES if not verdict(c, outcome[c["id"]])[0]]
    score("bad input (modules)", len(MODULE_CASES), 0, lost=0, duplicated=0, leaked=0,
          unexpected_changes=len(writes) + len(failed_cases))
    assert writes == [], "write calls reached the lab: %r" % writes[:5]


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
