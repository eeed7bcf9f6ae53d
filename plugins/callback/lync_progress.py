# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lync_progress
type: aggregate
short_description: Show users moved, failed, remaining and the rate while cs_user_move runs
description:
  - >-
    A module's output reaches Ansible only when it ends; a wave of 10,000 users runs for minutes. This plugin
    gives every C(lync.migration.cs_user_move) run a progress directory (environment variable
    C(LYNC_MIGRATION_PROGRESS_DIR), inherited by the module) and prints the lines the module writes there
    after its batches, while the task is still running, for example
    C(lync progress: pool02.contoso.net: 5200/10000 moved, 3 failed, 4797 remaining, 19.8 users/s, 24 shells).
  - The lines go through Ansible's display, so they appear in the terminal and in AWX job output (as verbose
    events). Enable it in ansible.cfg (C(callbacks_enabled = lync.migration.lync_progress)) or with
    C(ANSIBLE_CALLBACKS_ENABLED).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
requirements:
  - enabled in callbacks_enabled
options:
  interval:
    description: Seconds between looks at the progress directory.
    type: float
    default: 5.0
    env:
      - name: LYNC_PROGRESS_INTERVAL
    ini:
      - section: callback_lync_progress
        key: interval
"""

import json
import os
import shutil
import tempfile
import threading

from ansible.plugins.callback import CallbackBase
from ansible_collections.lync.migration.plugins.module_utils.lync.progress import PROGRESS_ENV


def progress_text(doc):
    """One operator line from a progress document written by cs_user_move."""
    text = "lync progress: %s: %d/%d moved, %d failed, %d remaining, %.1f users/s" % (
        doc.get("target"), doc.get("moved", 0), doc.get("total", 0), doc.get("failed", 0),
        doc.get("remaining", 0), doc.get("per_second", 0.0))
    if doc.get("shells"):
        text += ", %d shells" % doc["shells"]
    if doc.get("final"):
        text += " (done in %.1f s)" % doc.get("seconds", 0.0)
    return text


class ProgressTail:
    """Reads new complete lines from every file of a directory; remembers how far it read each."""

    def __init__(self, directory):
        self.directory = directory
        self._offsets = {}

    def newest(self):
        """For each file with new lines since the last call: its newest document (older ones are stale)."""
        out = []
        try:
            names = sorted(os.listdir(self.directory))
        except OSError:
            return out
        for name in names:
            path = os.path.join(self.directory, name)
            try:
                with open(path, "rb") as handle:
                    handle.seek(self._offsets.get(name, 0))
                    data = handle.read()
            except (IOError, OSError):
                continue
            end = data.rfind(b"\n")
            if end < 0:
                continue
            self._offsets[name] = self._offsets.get(name, 0) + end + 1
            last = None
            for line in data[:end].splitlines():
                try:
                    last = json.loads(line.decode("utf-8"))
                except ValueError:
                    continue
            if isinstance(last, dict):
                out.append(last)
        return out


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lync.migration.lync_progress"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super(CallbackModule, self).__init__(display=display, options=options)
        self._own_dir = None
        self._stop = threading.Event()
        self._thread = None
        self._lock = threading.Lock()
        directory = os.environ.get(PROGRESS_ENV)
        if not directory:
            # Set before the worker processes fork, so every module run inherits it.
            directory = self._own_dir = tempfile.mkdtemp(prefix="lync-progress-")
            os.environ[PROGRESS_ENV] = directory
        self._tail = ProgressTail(directory)
        self._interval = 5.0

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._interval = max(0.2, float(self.get_option("interval")))

    def _show_new(self):
        with self._lock:
            for doc in self._tail.newest():
                self._display.display(progress_text(doc))

    def _run(self):
        while not self._stop.wait(self._interval):
            self._show_new()

    def v2_playbook_on_start(self, playbook):
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="lync-progress", daemon=True)
            self._thread.start()

    def v2_runner_on_ok(self, result):
        self._show_new()   # the final line of a finished move, before the next task starts

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._show_new()

    def v2_playbook_on_stats(self, stats):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._show_new()
        if self._own_dir:
            shutil.rmtree(self._own_dir, ignore_errors=True)
