# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stop means stop: the process that talks to the server dies with the process that started it.

Ansible's worker processes call setsid(), so a SIGKILL to ansible-playbook's process group (Ctrl-C that
escalates, an AWX cancel, a crash) does not reach them: a worker moving users would go on sending new moves
after the run is gone. die_with_parent() ties the calling process to its parent: on Linux with
prctl(PR_SET_PDEATHSIG, SIGKILL), so the kernel kills it the moment the parent dies; elsewhere a watchdog
thread polls the parent and ends the process when it is gone. Requests already sent may still finish on the
server (Windows runs a started command to its end); nothing new is sent. What was sent but not confirmed is in
the write-ahead journal (journal.py), and the next run reconciles it.

The action plugin calls it in the worker process, and LyncModule in the module's process (the same process when
the module runs in-process; the worker's child otherwise, which then dies with the worker).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL = 0.05   # seconds between the watchdog's looks at the parent (platforms without prctl)

_tied = {}   # pid -> parent pid this process is tied to (a forked child must tie itself again)


def _prctl_pdeathsig(sig):
    """True when the kernel will send ``sig`` to this process when its parent dies."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError, TypeError, ValueError):
        return False


def _watch(parent, exit_now):
    while os.getppid() == parent:
        threading.Event().wait(WATCH_INTERVAL)
    exit_now()


def die_with_parent(exit_now=None):
    """Make this process end when its parent process ends. Idempotent per process. Returns how: "prctl",
    "watchdog", or "orphaned" when the parent was already gone (the process then exits at once)."""
    exit_now = exit_now or (lambda: os._exit(1))
    pid, parent = os.getpid(), os.getppid()
    if _tied.get(pid) == parent:
        return "prctl" if sys.platform.startswith("linux") else "watchdog"
    how = "prctl" if _prctl_pdeathsig(signal.SIGKILL) else "watchdog"
    if how == "watchdog":
        threading.Thread(target=_watch, args=(parent, exit_now), name="lync-parent-watch", daemon=True).start()
    if os.getppid() != parent:   # the parent died before the tie was made: the kernel will not tell us
        exit_now()
        return "orphaned"
    _tied[pid] = parent
    return how
