# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of a long task for the operator, while it runs: users done, failed, remaining, rate, shells.

A module writes JSON lines to a file in the directory named by PROGRESS_ENV when it is set; the
lync.migration.lync_progress callback plugin sets it (and imports the name from here) and shows the lines while
the task runs, in AWX too. The counts are kept for the module's ``performance`` result either way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

PROGRESS_ENV = "LYNC_MIGRATION_PROGRESS_DIR"


class Progress:
    INTERVAL = 1.0   # seconds between lines, so 10,000 small batches do not flood the output

    def __init__(self, total, target, clock=None, name="cs_user_move"):
        self._clock = clock or time.monotonic
        self.started = self._clock()
        self.total = total
        self.target = target
        self.moved = 0
        self.failed = 0
        self._last_line = None
        self._file = None
        directory = os.environ.get(PROGRESS_ENV)
        if directory and os.path.isdir(directory):
            try:
                self._file = open(os.path.join(directory, "%s-%d.jsonl" % (name, os.getpid())), "a")
            except (IOError, OSError):
                self._file = None   # progress is a convenience; never fail the moves for it

    def user_done(self, outcome):
        if outcome == "moved":
            self.moved += 1
        elif outcome == "failed":
            self.failed += 1

    def line(self, shells=None, limit=None, final=False):
        elapsed = max(self._clock() - self.started, 1e-6)
        done = self.moved + self.failed
        return {"target": self.target, "total": self.total, "moved": self.moved, "failed": self.failed,
                "remaining": self.total - done, "seconds": round(elapsed, 1),
                "per_second": round(self.moved / elapsed, 2), "shells": shells, "limit": limit, "final": final}

    def batch_done(self, stats):
        now = self._clock()
        if self._last_line is not None and now - self._last_line < self.INTERVAL:
            return
        self._last_line = now
        self._write(self.line(stats.get("shells"), stats.get("limit")))

    def close(self):
        self._write(self.line(final=True))
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, doc):
        if self._file is not None:
            try:
                self._file.write(json.dumps(doc) + "\n")
                self._file.flush()
            except (IOError, OSError, ValueError):
                pass
