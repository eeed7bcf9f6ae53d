"""Bad input for the move_users role and whole playbooks (each case a whole preflight, so in `make reliability`):
every case fails before any change, naming the field and the fix; the lab's audit log shows no changing call.

Role cases (data/bad_inputs.yml `role_cases`) run in one generated playbook; playbook cases (`playbook_cases` of
every data/bad_inputs*.yml, format in docs/reliability.md) run one ansible-playbook each, against one lab per
(scenario, stage) that the cases of that stage share (harness.CorpusLab)."""

import time

import pytest
from fast.test_bad_input import CORPUS, run_corpus, score_cases, verdict
from harness import OK, CorpusLab, load_playbook_cases, score_case

ROLE_CASES = CORPUS["role_cases"]
PLAYBOOK_CASES = load_playbook_cases()
# The cases of one stage share a lab, this many at most: a stage with more gets a second lab (another xdist
# group), so that `make reliability`'s two workers share the corpus instead of one running it all.
CASES_PER_LAB = 30


def _shards(cases):
    counts, out = {}, {}
    for case in cases:
        stage = (case.get("scenario", "contoso-small"), int(case.get("stage", 6)), bool(case.get("dns", True)))
        n = counts[stage] = counts.get(stage, 0) + 1
        out[case["id"]] = stage + ((n - 1) // CASES_PER_LAB,)
    return out


LAB_KEYS = _shards(PLAYBOOK_CASES)


def lab_key(case):
    """(scenario, stage, dns, shard): the lab a case runs in."""
    return LAB_KEYS[case["id"]]


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    yield from run_corpus(tmp_path_factory.mktemp("bad-input-roles"), [], ROLE_CASES)


@pytest.mark.xdist_group("test_bad_input_roles")
def test_no_bad_role_input_changes_anything(corpus_run):
    score_cases("bad input (move_users role)", ROLE_CASES, corpus_run)


@pytest.mark.xdist_group("test_bad_input_roles")
@pytest.mark.parametrize("case", ROLE_CASES, ids=[c["id"] for c in ROLE_CASES])
def test_bad_role_input_fails_naming_the_field_and_the_fix(corpus_run, case):
    outcome, _, _ = corpus_run
    ok, why = verdict(case, outcome[case["id"]])
    assert ok, why


@pytest.fixture(scope="module")
def corpus_labs(tmp_path_factory):
    """One CorpusLab per (scenario, stage, dns), started when its first case runs; stopped at the end. Prints
    how long each lab's cases took (the corpus's runtime, docs/reliability.md)."""
    labs, spent = {}, {}
    try:
        def get(key):
            if key not in labs:
                scenario, stage, dns, shard = key
                root = tmp_path_factory.mktemp("corpus-%s-stage%d-%d" % (scenario, stage, shard))
                labs[key] = CorpusLab(root, scenario=scenario, stage=stage, dns=dns).__enter__()
                spent[key] = 0.0
            return labs[key], spent
        yield get
    finally:
        for key, corpus_lab in labs.items():
            corpus_lab.__exit__(None, None, None)
            print("\ncorpus %s stage %d (lab %d): %d cases in %.0f s, %d lab resets"
                  % (key[0], key[1], key[3], corpus_lab.cases, spent[key], corpus_lab.resets))


def _param(case):
    # The cases of one lab stay on one xdist worker (they share it), in file order.
    scenario, stage, _, shard = lab_key(case)
    return pytest.param(case, id=case["id"], marks=pytest.mark.xdist_group("corpus-%s-%d-%d" % (scenario, stage, shard)))


@pytest.mark.parametrize("case", [_param(c) for c in PLAYBOOK_CASES])
def test_bad_playbook_input_is_refused_before_any_change_naming_the_field_and_the_fix(corpus_labs, case):
    corpus_lab, spent = corpus_labs(lab_key(case))
    started = time.monotonic()
    result = corpus_lab.run_case(case)
    spent[lab_key(case)] += time.monotonic() - started
    score_case("%s: %s" % (case["_file"], case["playbook"]), case["id"], result.kind)
    assert result.kind == OK, "%s (%s, exit %d, %.0f s)\n%s" % (
        result.kind, result.why, result.run.rc, result.run.seconds, result.run.output[-3000:])
