"""LyncModule closes its client's workers on every way out of a module, an uncaught exception too (their shells
would otherwise stay on the server until its IdleTimeout)."""

import atexit

import pytest

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule

from fake_lync import FakeLync, FakeSession, pool, user
from module_runner import CONNECTION, patch_module_args


@pytest.fixture
def at_exit(monkeypatch):
    """atexit's registry for this test: the functions registered and not unregistered, in order."""
    registered = []
    monkeypatch.setattr(atexit, "register", lambda func: registered.append(func) or func)
    monkeypatch.setattr(atexit, "unregister", lambda func: registered.remove(func) if func in registered else None)
    return registered


@pytest.fixture
def lync(monkeypatch):
    server = FakeLync([pool("pool01.contoso.net")], [user("Ann Beebe", "sip:ann@contoso.net", "pool01.contoso.net")])
    FakeSession.server = server
    monkeypatch.setattr(LyncModule, "session_factory", FakeSession)
    return server


@pytest.fixture
def module_args():
    with patch_module_args(dict(CONNECTION)):
        yield


def module_with_a_worker():
    module = LyncModule(argument_spec={})
    assert module.run_calls([Call("Get-CsUser", {"Identity": "sip:ann@contoso.net"})])[0].ok
    return module


def test_a_module_that_crashes_closes_its_workers_when_the_process_ends(lync, at_exit, module_args):
    module = module_with_a_worker()
    assert lync.shells_opened >= 1 and lync.shells_closed < lync.shells_opened
    assert len(at_exit) == 1
    # The module raised instead of calling exit_json/fail_json: the interpreter runs atexit's functions.
    at_exit[0]()
    assert lync.shells_closed == lync.shells_opened and module._client is None


def test_exit_json_closes_the_workers_and_leaves_nothing_for_atexit(lync, at_exit, module_args):
    module = module_with_a_worker()
    with pytest.raises(SystemExit):
        module.exit_json(changed=False)
    assert lync.shells_closed == lync.shells_opened and at_exit == []


def test_a_client_built_again_after_closing_is_closed_at_exit_too(lync, at_exit, module_args):
    module = module_with_a_worker()
    module.close_client()
    assert at_exit == []
    module.run_calls([Call("Get-CsUser", {"Identity": "sip:ann@contoso.net"})])
    assert len(at_exit) == 1 and lync.shells_closed < lync.shells_opened
    at_exit[0]()
    assert lync.shells_closed == lync.shells_opened
