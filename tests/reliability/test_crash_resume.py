"""Crash and resume (make reliability): 20 runs over seeds, each killing ansible-playbook's process group
(SIGKILL, as an AWX cancel or a crash does; Ansible's workers are not in it) at random points of a 2,000-user
move with the lab's latency on, then running the same command again, then rolling every moved user back; plus
the lab itself killed mid-batch and restarted with --keep. No request reaches the lab after a kill, every user
ends on the target pool, the lab's audit log shows exactly one successful move per user, the journals and the
final report list as moved exactly the users the audit log shows moved, and rollback-users.yml returns each of
them to the pool they came from."""

import os

import pytest
from scenarios import assert_kept_promises, crash_and_resume, lab_killed_mid_batch, record

USERS = int(os.environ.get("RELIABILITY_USERS", "2000"))
RUNS = int(os.environ.get("RELIABILITY_CRASH_RUNS", "20"))
SEED = int(os.environ.get("RELIABILITY_SEED", "2013"))


@pytest.mark.parametrize("run", range(RUNS))
def test_killed_controller_then_rerun(tmp_path, run):
    verdict = crash_and_resume(tmp_path, seed=SEED * 1000 + run, users=USERS, time_scale=0.002, max_kills=3)
    record("crash-resume (process group SIGKILL)", verdict["runs"], USERS, verdict,
           unexpected_changes=len(verdict["sent_after_kill"]))
    assert_kept_promises(verdict, verdict["report"])


@pytest.mark.parametrize("run", range(2))
def test_killed_lab_then_restart_with_keep(tmp_path, run):
    verdict = lab_killed_mid_batch(tmp_path, seed=SEED * 1000 + 500 + run, users=USERS, time_scale=0.005)
    record("lab SIGKILL mid-batch, --keep", verdict["runs"], USERS, verdict)
    assert_kept_promises(verdict, verdict["report"])
