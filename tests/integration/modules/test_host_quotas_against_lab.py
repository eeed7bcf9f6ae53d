"""The collection's WinRM layer (session.py, client.py, batch_queue.py) against lab hosts with Windows' real quotas.

The lab's hosts (lync_lab.hosts) enforce what Microsoft documents for their WinRM version: on WinRM 2.0
(Windows Server 2008 R2, the OCS servers) 5 shells per user, 150 KB envelopes, a 180 s IdleTimeout (win32
WinRM/installation-and-configuration-for-windows-remote-management.md); on a WMF 3.0 host without KB2842230 a
shell runs out of memory at 150 MB. Each test starts its lab with lync_lab.instance.LabInstance.
"""

import json
import time

import pytest
import yaml

from ansible_collections.lync.migration.plugins.module_utils.lync import connection as C
from ansible_collections.lync.migration.plugins.module_utils.lync import session as S
from ansible_collections.lync.migration.plugins.module_utils.lync import shells as SH
from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.client import LyncClient

lync_lab = pytest.importorskip("lync_lab")

PASSWORD = "Lab-Passw0rd!"
OCS_FE_PORT = 55989      # ocs-fe01 in contoso-small: Windows Server 2008 R2, WinRM 2.0


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """contoso-small at stage 6, its Lync Front End (2012 R2, WinRM 3.0) with IdleTimeout 1000 ms, the minimum
    quotas.md allows, so that the service deletes an idle shell within the test."""
    from lync_lab.instance import LabInstance
    from lync_lab.model.scenario import SCENARIO_DIR

    root = tmp_path_factory.mktemp("quota-lab")
    raw = yaml.safe_load((SCENARIO_DIR / "contoso-small.yml").read_text(encoding="utf-8"))
    admin = [s for s in raw["servers"] if s.get("admin")][0]
    admin["quotas"] = {"IdleTimeout": 1000}
    scenario = root / "contoso-short-idle.yml"
    scenario.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with LabInstance(root / "state", scenario=scenario, stage=6, log=root / "lab.log") as instance:
        yield instance


def client(port, registry=None):
    options = C.ConnectionOptions(server="127.0.0.1", port=port, scheme="http", username="CONTOSO\\lyncadmin",
                                  password=PASSWORD, operation_timeout=5, read_timeout=15)
    registry = registry or SH.ShellRegistry()
    return LyncClient(options, session_factory=lambda o: S.WinRMSession(o, registry=registry))


def audit(instance):
    path = instance.state_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_shell_the_service_deleted_for_idleness_is_replaced_and_the_batch_runs_once(lab):
    """quotas.md: IdleTimeout, after which an inactive shell is deleted; the next Command names a shell that is
    not there (WSManFault 2150858843). The Command never started, so the batch is sent on a new shell, once."""
    lync = client(lab.http_port)
    first = lync.run_calls([Call("Get-CsPool")])
    assert first[0].ok
    shell = lync._local.shell_id
    time.sleep(2.0)                              # the lab's reaper deletes the idle shell (1 s)
    before = len(audit(lab))
    again = lync.run_calls([Call("Get-CsPool"), Call("Get-CsSite")])
    assert [r.ok for r in again] == [True, True]
    assert [r.attempts for r in again] == [1, 1]          # not a failed attempt: nothing had run
    assert lync._local.shell_id != shell
    assert [a["cmdlet"] for a in audit(lab)[before:]] == ["Get-CsPool", "Get-CsSite"]
    lync.close()


def test_the_quotas_are_read_from_winrm_config_and_bound_parallelism_on_a_winrm2_host(lab):
    """installation page: WinRM 2.0 allows 5 shells per user; a client may read that with a WS-Man Get of
    winrm/config (what `winrm get winrm/config` shows). Twenty shells asked for: four run, none is refused."""
    registry = SH.ShellRegistry()
    ocs = client(lab.port_of(OCS_FE_PORT), registry)
    assert ocs.shell_limit() == 4
    quotas = registry.quotas(("http://127.0.0.1:%d/wsman" % lab.port_of(OCS_FE_PORT), "contoso\\lyncadmin"))
    assert (quotas["MaxShellsPerUser"], quotas["MaxEnvelopeSizekb"], quotas["IdleTimeout"]) == (5, 150, 180000)
    calls = [Call("Get-WmiObject", {"Class": "MSFT_SIPPoolSetting"}) for _index in range(40)]
    results = ocs.run_queue(calls, batch_size=2, parallelism=20, min_batch=1)
    assert all(r.ok for r in results) and 1 < ocs.last_peak_shells <= 4
    ocs.close()                                  # its workers hold their shells until the client is closed
    auto = client(lab.port_of(OCS_FE_PORT), registry)
    assert all(r.ok for r in auto.run_queue(calls, batch_size=2, parallelism="auto", min_batch=1))
    assert auto.last_peak_shells <= 4
    auto.close()


def test_a_request_bigger_than_winrm2_envelope_size_is_sent_in_chunks_that_fit(lab):
    """installation page: MaxEnvelopeSizekb is 150 KB on WinRM 2.0; a bigger request gets HTTP 413
    (ansible.windows#620). A 300 KB request travels in Sends that each fit."""
    ocs = client(lab.port_of(OCS_FE_PORT))
    name = "sip:" + "a" * 300_000 + "@contoso.net"
    [result] = ocs.run_calls([Call("Get-WmiObject", {"Class": "MSFT_SIPESUserSetting",
                                                     "Filter": "PrimaryURI = '%s'" % name})])
    assert result.ok and result.objects == []
    ocs.close()


def test_a_read_beyond_a_wmf3_hosts_150_mb_fails_once_with_the_reason(tmp_path):
    """contoso-large's pilot Front End runs WMF 3.0 without KB2842230: shells run out of memory at 150 MB whatever
    MaxMemoryPerShellMB says (KB2842230 as Ansible's Windows setup guide cites it). Reading all 20,000 users in one
    call needs more (lab memory model, lab/lync_lab/winrm/shells.py): PowerShell ends with an
    OutOfMemoryException; sending the same read again would end the same way, so it is not retried."""
    from lync_lab.instance import LabInstance

    with LabInstance(tmp_path / "state", scenario="contoso-large", stage=6, log=tmp_path / "lab.log") as large:
        lync = client(large.http_port)
        [everyone] = lync.run_calls([Call("Get-CsUser", {}, select=["SipAddress"])])
        assert not everyone.ok and everyone.attempts == 1
        assert "KB2842230" in everyone.error.message and "OutOfMemoryException" in everyone.error.message
        [some] = lync.run_calls([Call("Get-CsUser", {"ResultSize": 1000}, select=["SipAddress"])])
        assert some.ok and len(some.objects) == 1000
        lync.close()
