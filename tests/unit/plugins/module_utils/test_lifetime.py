"""Stop means stop: a process tied with lifetime.die_with_parent() ends when its parent is killed, the way an
Ansible worker (which leaves the run's process group with setsid) must end when ansible-playbook is killed."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.lync.migration.plugins.module_utils.lync import lifetime

# The parent forks a child that starts a new session (as Ansible's WorkerProcess does), ties itself to the
# parent, and then would write a line every 20 ms for ever; the parent prints the child's pid and waits.
PARENT = textwrap.dedent("""
    import os, sys, time
    sys.path[:0] = %(path)r
    from ansible_collections.lync.migration.plugins.module_utils.lync import lifetime
    if %(no_prctl)r:
        lifetime._prctl_pdeathsig = lambda sig: False
    pid = os.fork()
    if pid == 0:
        os.setsid()
        how = lifetime.die_with_parent()
        with open(%(log)r, "a") as log:
            log.write("tied %%s\\n" %% how)
            while True:
                log.write("%%f\\n" %% time.time())
                log.flush()
                time.sleep(0.02)
    print(pid, flush=True)
    time.sleep(600)
""")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (dead, not yet reaped by init) counts as dead
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("no_prctl", [False, True], ids=["prctl", "watchdog"])
def test_a_tied_worker_in_its_own_session_dies_when_its_parent_is_killed(tmp_path, no_prctl):
    if not no_prctl and not sys.platform.startswith("linux"):
        pytest.skip("prctl is Linux only")
    log = tmp_path / "child.log"
    script = PARENT % {"path": [p for p in sys.path if p], "no_prctl": no_prctl, "log": str(log)}
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 10
    while "tied" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert log.read_text().startswith("tied %s" % ("watchdog" if no_prctl else "prctl"))
    # The run's process group is killed: the child is not in it (setsid), as an Ansible worker is not.
    os.killpg(parent.pid, signal.SIGKILL)
    parent.wait()
    killed_at = time.time()
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(child), "the worker outlived its parent"
    last = float(log.read_text().splitlines()[-1])
    # Nothing written after the parent died (the watchdog looks every WATCH_INTERVAL).
    assert last <= killed_at + lifetime.WATCH_INTERVAL + 0.05


def test_a_process_whose_parent_is_already_gone_ends_at_once(monkeypatch):
    ended = []
    monkeypatch.setattr(lifetime, "_tied", {})
    monkeypatch.setattr(lifetime, "_prctl_pdeathsig", lambda sig: True)
    parents = iter([4242, 1])   # the parent changes between the look before and after the tie
    monkeypatch.setattr(lifetime.os, "getppid", lambda: next(parents))
    assert lifetime.die_with_parent(exit_now=lambda: ended.append(True)) == "orphaned"
    assert ended == [True]
