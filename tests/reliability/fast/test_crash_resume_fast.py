"""Crash and resume, the fast set: a few SIGKILLs of the ansible-playbook process tree and one of the lab."""

import pytest
from scenarios import assert_kept_promises, crash_and_resume, lab_killed_mid_batch, record

USERS = 300


@pytest.mark.parametrize("seed", [101, 202])
def test_killed_controller_then_rerun_moves_every_user_exactly_once(tmp_path, seed):
    verdict = crash_and_resume(tmp_path, seed=seed, users=USERS, time_scale=0.005)
    record("crash-resume (fast)", verdict["runs"], USERS, verdict)
    assert_kept_promises(verdict, verdict["report"])


def test_killed_lab_restarted_with_keep_loses_and_duplicates_nobody(tmp_path):
    verdict = lab_killed_mid_batch(tmp_path, seed=303, users=USERS, time_scale=0.01)
    record("lab killed mid-batch (fast)", verdict["runs"], USERS, verdict)
    assert_kept_promises(verdict, verdict["report"])
