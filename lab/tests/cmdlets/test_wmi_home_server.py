"""Where OCS 2007 R2's WMI says a user is homed: MSFT_SIPESUserSetting.HomeServerDN names the pool's service control
point, and MSFT_SIPPoolSetting.PoolDN the pool's own object, its grandparent.

Sources: MicrosoftDocs/OfficeDocs-SkypeForBusiness:Lync/LyncServer/lync-server-2013-schema-classes-and-descriptions.md
(msRTCSIP-Pool represents one pool; msRTCSIP-PoolService is the pool's service control point, and the
msRTCSIP-PrimaryHomeServer of the users a pool hosts points to it) and Skype/SfbServer/manage/trusted-applications.md
(Get-CsTrustedApplicationEndpoint shows HomeServer `CN=Lc Services,CN=Microsoft,CN=co1:2,CN=Pools,CN=RTC Service,...`:
the service object under CN=Microsoft under the pool object in CN=Pools). lab/FIDELITY.md, Get-WmiObject.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "model"))
from model_shell import Shell  # noqa: E402

from lync_lab.config import LabConfig  # noqa: E402
from lync_lab.lab import Lab  # noqa: E402


@pytest.fixture(scope="module")
def ocs(tmp_path_factory):
    lab = Lab(LabConfig(stage=1, scenario="contoso-small", state_dir=tmp_path_factory.mktemp("small")))
    yield Shell(lab, "ocs-fe01.contoso.net")
    lab.store.close()
    lab.audit.close()


def test_a_users_home_server_is_its_pools_service_object_under_the_pool(ocs):
    pools = {p["PoolDN"]: p["PoolFQDN"] for p in ocs("Get-WmiObject", Class="MSFT_SIPPoolSetting")}
    users = ocs("Get-WmiObject", Class="MSFT_SIPESUserSetting")
    assert users
    for user in users:
        service, container, pool_dn = user["HomeServerDN"].split(",", 2)
        assert (service.lower(), container.lower()) == ("cn=lc services", "cn=microsoft")
        assert pool_dn in pools, user["PrimaryURI"]


def test_a_pools_dn_is_its_own_object_in_the_pools_container(ocs):
    for pool in ocs("Get-WmiObject", Class="MSFT_SIPPoolSetting"):
        first, parent = pool["PoolDN"].split(",", 1)
        assert first == "CN=" + pool["PoolFQDN"].split(".")[0]
        assert parent.startswith("CN=Pools,CN=RTC Service,")


def test_servers_name_the_same_pool_object(ocs):
    pools = {p["PoolDN"] for p in ocs("Get-WmiObject", Class="MSFT_SIPPoolSetting")}
    for server in ocs("Get-WmiObject", Class="MSFT_SIPESServerSetting"):
        assert server["PoolDN"] in pools
        assert server["HomeServerDN"] == "CN=LC Services,CN=Microsoft," + server["PoolDN"]
