import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from lync_lab.model.store import Store


def test_commit_rollback_and_case_insensitive_keys(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    with store.transaction() as tx:
        tx.put("user", "DPelton", {"DisplayName": "David Pelton"})
        tx.meta_put("stage", 6)
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.put("user", "hchen", {"DisplayName": "Hao Chen"})
            raise RuntimeError("boom")
    with store.transaction(write=False) as tx:
        assert tx.get("user", "DPELTON") == {"DisplayName": "David Pelton"}
        assert tx.get("user", "hchen") is None
        assert [k for k, _ in tx.query("user")] == ["dpelton"]
        assert tx.meta_get("stage") == 6
    with store.transaction() as tx:
        tx.put("user", "x", {})
        tx.discard()
    with store.transaction(write=False) as tx:
        assert tx.get("user", "x") is None
    store.close()


def test_state_survives_reopen_and_snapshot_restore(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    with store.transaction() as tx:
        tx.put("user", "a", {"n": 1})
    store.snapshot(tmp_path / "snap.sqlite")
    with store.transaction() as tx:
        tx.put("user", "a", {"n": 2})
    store.close()
    again = Store(tmp_path / "s.sqlite")
    with again.transaction(write=False) as tx:
        assert tx.get("user", "a") == {"n": 2}
    again.close()
    restored = Store.restore(tmp_path / "snap.sqlite", tmp_path / "s.sqlite")
    with restored.transaction(write=False) as tx:
        assert tx.get("user", "a") == {"n": 1}
    restored.close()


def test_committed_writes_survive_kill_9(tmp_path):
    db = tmp_path / "s.sqlite"
    writer = textwrap.dedent(f"""
        import sys, time
        from lync_lab.model.store import Store
        s = Store({str(db)!r})
        i = 0
        while True:
            with s.transaction() as tx:
                tx.put("n", str(i), {{"i": i}})
            i += 1
            if i == 50:
                print("ready", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = Store(db)
    with store.transaction(write=False) as tx:
        rows = tx.query("n")
    store.close()
    assert len(rows) >= 50
    # no gap: every committed transaction is there, the interrupted one is not half-there
    assert sorted(int(k) for k, _ in rows) == list(range(len(rows)))
