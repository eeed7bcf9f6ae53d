# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller-side move journal: one JSON line per user outcome, fsynced as soon as it is known, so an
interrupted run still tells which users moved."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import threading

JOURNAL_FIELDS = ("identity", "sip_address", "from", "to", "cmdlet", "outcome", "error", "attempts", "time")


class MoveJournal:
    def __init__(self, path):
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise IOError("journal directory %s does not exist" % directory)
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")

    def record(self, identity, sip_address, source, target, cmdlet, outcome, error, attempts):
        entry = {
            "identity": identity,
            "sip_address": sip_address,
            "from": source,
            "to": target,
            "cmdlet": cmdlet,
            "outcome": outcome,
            "error": error,
            "attempts": attempts,
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
        }
        line = json.dumps(entry, ensure_ascii=False, sort_keys=False) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())
        return entry

    def close(self):
        with self._lock:
            if not self._file.closed:
                self._file.close()


def read_journal(path):
    """All entries of a journal, skipping a torn last line (the run was killed mid-write)."""
    entries = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
    return entries
