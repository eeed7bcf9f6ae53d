"""One backoff for every retry layer (retry.py): the session's request re-sends and the client's RetryPolicy
wait what backoff_delay says, and no other file computes a backoff of its own."""

import re
from pathlib import Path

from ansible_collections.lync.migration.plugins.module_utils.lync import retry as R
from ansible_collections.lync.migration.plugins.module_utils.lync.connection import ConnectionOptions
from ansible_collections.lync.migration.plugins.module_utils.lync.session import WinRMSession

MODULE_UTILS = Path(R.__file__).resolve().parent


def test_backoff_is_exponential_capped_and_fully_jittered():
    assert [R.backoff_delay(n, 0.5, 8.0, lambda: 1.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert R.backoff_delay(3, 0.5, 8.0, lambda: 0.25) == 0.5
    assert R.backoff_delay(9, 0.1, 2.0, lambda: 0.0) == 0.0


def test_the_session_and_the_request_policy_wait_the_one_backoff():
    slept = []
    session = WinRMSession(ConnectionOptions(server="fe01", username="u", password="p"), sleep=slept.append,
                           rng=lambda: 1.0)
    for attempt in range(1, 6):
        session._backoff(attempt)
    assert slept == [R.backoff_delay(n, R.REQUEST_RETRY_BASE, R.REQUEST_RETRY_CAP, lambda: 1.0) for n in range(1, 6)]
    policy = R.RetryPolicy(rng=lambda: 1.0)
    assert [policy.delay(n) for n in range(1, 6)] == [R.backoff_delay(n, 0.5, 8.0, lambda: 1.0) for n in range(1, 6)]


def test_no_other_module_computes_an_exponential_backoff():
    others = [path.name for path in MODULE_UTILS.glob("*.py")
              if path.name != "retry.py" and re.search(r"\*\*\s*\(\s*attempt", path.read_text(encoding="utf-8"))]
    assert others == []
