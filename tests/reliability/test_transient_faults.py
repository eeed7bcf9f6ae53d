"""Transient faults (make reliability): with 5% of each fault kind injected, a 2,000-user move completes with no
duplicate moves; retries are bounded and visible per user in the report; permanent errors are never retried
and are reported per user."""

from harness import score
from scenarios import assert_kept_promises, transient_faults

USERS = 2000
MAX_ATTEMPTS = 1 + 3   # the first send and connection_retries (default 3) re-sends


def test_two_thousand_users_through_five_percent_faults_of_each_kind(tmp_path):
    verdict = transient_faults(tmp_path, seed=8, users=USERS, rate=0.05, time_scale=0.01)
    last = verdict["outputs"][-1]
    note = "completed" if last.rc == 0 else "did not complete in %d runs: %s" % (
        len(verdict["outputs"]), str(verdict["report"].get("failure"))[:120])
    # lost = not on the target pool after the last run (a run that did not complete leaves them where they were).
    score("transient faults 5% each", verdict["runs"], USERS, lost=len(verdict["lost"]),
          duplicated=len(verdict["duplicated"]), leaked=0, unexpected_changes=0, note=note)
    assert verdict["outputs"][-1].rc == 0, verdict["outputs"][-1].output[-4000:]
    assert_kept_promises(verdict)
    rows = [u for r in verdict["reports"] for u in r["users"]]
    attempts = [u["attempts"] for u in rows if u.get("attempts") is not None]
    assert max(attempts) <= MAX_ATTEMPTS, max(attempts)
    assert any(a > 1 for a in attempts), "no user needed a retry: the faults did not reach the moves"
    for identity in verdict["permanent"]:
        mine = [u for u in rows if u["identity"] == identity]
        assert mine and all(u["outcome"] in ("skipped", "failed") and u["error"] for u in mine), mine
        assert all(u["attempts"] == 0 for u in mine), "a permanent error was retried: %r" % mine
    moved_identities = {str(e["params"].get("Identity")).lower() for e in verdict["audit"]
                        if e["cmdlet"].startswith("Move-")}
    assert "sip:ken.myer@contoso.net" not in moved_identities
