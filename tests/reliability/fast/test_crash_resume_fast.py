"""Crash and resume, the fast set: one move of 300 users whose ansible-playbook process group is SIGKILLed once or
twice at seeded points, then rerun, then rolled back (scenarios.crash_and_resume says what is checked). (The lab
itself killed mid-batch, and 20 seeded runs of 2,000 users, are in tests/reliability/test_crash_resume.py:
make reliability.)"""

from scenarios import assert_kept_promises, crash_and_resume, record

USERS = 300


def test_killed_controller_then_rerun_moves_every_user_exactly_once(tmp_path):
    verdict = crash_and_resume(tmp_path, seed=101, users=USERS, time_scale=0.005)
    record("crash-resume (fast)", verdict["runs"], USERS, verdict,
           unexpected_changes=len(verdict["sent_after_kill"]))
    assert_kept_promises(verdict, verdict["report"])
