# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller-side move journal: one JSON line per event of a user's move, fsynced before the run goes on.

Write-ahead: a move is journalled as ``sent`` before its request leaves the controller, and its outcome
(``moved``, ``failed``, ...) once known. A user whose last line is ``sent`` was being moved when the run died:
the server may have completed the move (Windows runs a started command to its end) or never received it. The
next run reconciles each such user with the server (``unsettled`` gives them), so the journal accounts for every
user the migration moved, whichever run moved them.

One run per wave at a time: the journal is locked (flock on ``<journal>.lock``, with the owner's pid and start
time inside for the message) while a run writes it; the kernel releases the lock when that process dies.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import socket
import threading

try:
    import fcntl
except ImportError:  # not on a POSIX controller: no lock (Ansible controllers are POSIX)
    fcntl = None

JOURNAL_FIELDS = ("identity", "sip_address", "from", "to", "cmdlet", "outcome", "error", "attempts", "time")
SENT = "sent"
ROLLBACK_SUFFIX = ".rollback.jsonl"


class JournalInUse(Exception):
    """Another run holds the wave's journal."""


def lock_path(journal_path):
    """The lock of a wave: a move and its rollback share it (``w.jsonl`` and ``w.rollback.jsonl``)."""
    path = os.path.abspath(journal_path)
    if path.endswith(ROLLBACK_SUFFIX):
        path = path[:-len(ROLLBACK_SUFFIX)] + ".jsonl"
    return path + ".lock"


def key_of(entry):
    """Users are matched by SIP address (what the move sends), else by the identity as given."""
    return str(entry.get("sip_address") or entry.get("identity") or "").lower()


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


class MoveJournal:
    def __init__(self, path):
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise IOError("journal directory %s does not exist" % directory)
        self._lock = threading.Lock()
        self._lock_file = self._take_lock()
        self._file = open(path, "a", encoding="utf-8")

    def _take_lock(self):
        if fcntl is None:
            return None
        handle = open(lock_path(self.path), "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise JournalInUse(
                "the journal %s is in use by another run of this wave (%s); only one run per wave at a time: wait "
                "for that run to end (or stop it), then run again" % (self.path, owner))
        handle.seek(0)
        handle.truncate()
        handle.write("pid %d on %s since %s" % (os.getpid(), socket.gethostname(), now_iso()))
        handle.flush()
        return handle

    def record_entry(self, entry, **override):
        """Journal a move entry (moves.new_entry) as it is, or with fields overridden (``source`` for its
        ``from``); other keyword arguments are added to the line (e.g. ``reconciled=True``)."""
        self._write([self._line(entry, override)])

    def record_sent(self, entries):
        """Write-ahead: one ``sent`` line per entry about to be sent, all made durable with one fsync."""
        self._write([self._line(e, {"outcome": SENT, "error": None}) for e in entries])

    @staticmethod
    def _line(entry, override):
        override = dict(override)
        if "source" in override:
            override["from"] = override.pop("source")
        line = dict((name, entry.get(name)) for name in JOURNAL_FIELDS[:-1])
        line.update((k, override.pop(k)) for k in list(override) if k in line)
        line["time"] = now_iso()
        line.update(override)
        return line

    def _write(self, entries):
        if not entries:
            return
        text = "".join(json.dumps(e, ensure_ascii=False, sort_keys=False) + "\n" for e in entries)
        with self._lock:
            self._file.write(text)
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self):
        with self._lock:
            if not self._file.closed:
                self._file.close()
            if self._lock_file is not None:
                self._lock_file.close()   # closing the descriptor releases the flock
                self._lock_file = None


def read_journal(path):
    """All entries of a journal, skipping a torn last line (the run was killed mid-write)."""
    entries = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


class EarlierRuns:
    """What earlier runs of a wave left in its journal. ``moved``: key_of(user) -> the first ``moved`` line (its
    ``from`` is where the user was homed before the migration); ``unsettled``: key -> the ``sent`` line of users
    whose last line is ``sent`` (the run died before it learnt the outcome)."""

    def __init__(self, moved=None, unsettled=None):
        self.moved = moved or {}
        self.unsettled = unsettled or {}


def earlier_runs(path):
    """EarlierRuns of the journal at ``path`` (empty when there is none yet)."""
    if not path or not os.path.exists(path):
        return EarlierRuns()
    moved, last = {}, {}
    for entry in read_journal(path):
        key = key_of(entry)
        if not key:
            continue
        last[key] = entry
        if entry.get("outcome") == "moved" and key not in moved:
            moved[key] = entry
    return EarlierRuns(moved, dict((k, e) for k, e in last.items() if e.get("outcome") == SENT))
