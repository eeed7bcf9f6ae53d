# -*- coding: utf-8 -*-
"""The benchmark's own callback: writes the cs_user_move task's summary and performance to $BENCH_RESULT_PATH,
so the timed playbook needs no second task to report them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_result"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, failed):
        path = os.environ.get("BENCH_RESULT_PATH")
        if path:
            data = result._result
            with open(path, "w") as handle:
                json.dump({"failed": failed, "msg": data.get("msg"), "summary": data.get("summary"),
                           "performance": data.get("performance", {})}, handle)

    def v2_runner_on_ok(self, result):
        self._write(result, False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, True)
