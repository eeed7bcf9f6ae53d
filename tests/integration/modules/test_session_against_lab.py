"""WinRMSession against the lab's WinRM listener (NTLM with message encryption over HTTP, as the lab
inventory connects): a reset no longer orphans a shell, and MaxShellsPerUser is recovered from with WS-Man
Enumerate. Only the WinRM layer runs; no PowerShell is started."""

from types import SimpleNamespace

import pytest

from ansible_collections.lync.migration.plugins.module_utils.lync import connection as C
from ansible_collections.lync.migration.plugins.module_utils.lync import session as S
from ansible_collections.lync.migration.plugins.module_utils.lync import shells as SH
from ansible_collections.lync.migration.plugins.module_utils.lync import transport_errors as T

FaultPlan = pytest.importorskip("lync_lab.faults").FaultPlan
ServerInfo = pytest.importorskip("lync_lab.context").ServerInfo
WinRMListener = pytest.importorskip("lync_lab.winrm.listener").WinRMListener

PASSWORD = "Lab-Passw0rd!"
USER = "CONTOSO\\lyncadmin"
SERVER = ServerInfo(fqdn="fe01.contoso.net", role="lync_frontend", pool="pool01.contoso.net")


def check_password(user, password):
    name = user.rpartition("\\")[2].lower()
    return USER if name == "lyncadmin" and password == PASSWORD else None


@pytest.fixture()
def listener(tmp_path):
    lab = SimpleNamespace(state_dir=tmp_path, faults=FaultPlan.parse(None), check_password=check_password,
                          ntlm_accounts=lambda: [("CONTOSO", "lyncadmin", PASSWORD)],
                          runtime_for=lambda server: None, scenario=SimpleNamespace(domain="contoso.net"))
    listener = WinRMListener(lab, SERVER, "127.0.0.1", 0, tls=None)
    listener.start()
    yield listener
    listener.stop()


def new_session(listener, registry):
    options = C.ConnectionOptions(server="127.0.0.1", port=listener.port, scheme="http", username=USER,
                                  password=PASSWORD, operation_timeout=2, read_timeout=6)
    return S.WinRMSession(options, sleep=lambda s: None, registry=registry)


def test_a_reset_before_the_delete_does_not_orphan_the_shell(listener):
    sess = new_session(listener, SH.ShellRegistry())
    shell = sess.open_shell()
    listener.lab.faults = FaultPlan.parse("reset=1")
    with pytest.raises(T.TransportFault) as info:   # the reset breaks the NTLM-authenticated connection
        sess.list_shells()
    assert info.value.reconnect
    listener.lab.faults = FaultPlan.parse("reset=0.5,seed=3")
    assert sess.close_shell(shell) is True
    assert listener.shells.shells_of(USER) == 0 and sess.request_retries >= 1


def test_max_shells_per_user_is_recovered_by_deleting_stale_shells_found_with_enumerate(listener):
    listener.shells.max_shells_per_user = 3
    killed_run = new_session(listener, SH.ShellRegistry())        # a run killed before it closed its shells
    stale = [killed_run.open_shell(), killed_run.open_shell()]
    registry = SH.ShellRegistry()
    this_run = new_session(listener, registry)
    mine = this_run.open_shell()                                 # in use by this process: never reclaimed
    for shell in listener.shells._shells.values():
        shell.last_used -= 600                                   # idle for ten minutes, as orphans are
    assert sorted(s["ShellId"] for s in this_run.list_shells()) == sorted(stale + [mine])

    fresh = this_run.open_shell()                                # MaxShellsPerUser, reclaim, create again
    remaining = sorted(s["ShellId"] for s in this_run.list_shells())
    assert remaining == sorted([mine, fresh]) and this_run.shells_reclaimed == 2
