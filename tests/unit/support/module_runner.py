"""Run a module's main() in-process with given args and return its JSON result (tests only)."""

import contextlib
import io
import json
import sys

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19 has no testing helper: set the arguments the way AnsiballZ does
    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8")
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from fake_lync import FakeSession

CONNECTION = {"server": "fe01.contoso.net", "username": "CONTOSO\\lyncadmin", "password": "Secret!1",
              "connection_retries": 2}


def run_module(module, args, lync, check_mode=False, diff=False, monkeypatch=None, connection=None):
    full = dict(connection or CONNECTION)
    full.update(args)
    if check_mode:
        full["_ansible_check_mode"] = True
    if diff:
        full["_ansible_diff"] = True
    if lync is not None:  # None: the real WinRM session (tests against the lab)
        FakeSession.server = lync
        monkeypatch.setattr(LyncModule, "session_factory", FakeSession)
    # Retries in tests must not sleep.
    from ansible_collections.lync.migration.plugins.module_utils.lync.retry import RetryPolicy
    monkeypatch.setattr(RetryPolicy, "wait", lambda self, attempt: None)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    with patch_module_args(full):
        try:
            module.main()
        except SystemExit:
            pass
    text = out.getvalue()
    return json.loads(text[text.index("{"):])
