"""Which OCS 2007 R2 pool homes a user (module_utils/lync/legacy.py), the one rule Phase 1, Phase 2 and the capture
use: MSFT_SIPESUserSetting.HomeServerDN names the pool's service control point, CN=LC Services,CN=Microsoft,<the
pool's MSFT_SIPPoolSetting.PoolDN> (OfficeDocs-SkypeForBusiness: Lync/LyncServer/
lync-server-2013-schema-classes-and-descriptions.md, msRTCSIP-PoolService; Skype/SfbServer/manage/
trusted-applications.md shows a HomeServer value of that shape)."""

from ansible_collections.lync.migration.plugins.filter.migration import legacy_home_pools
from ansible_collections.lync.migration.plugins.module_utils.lync.legacy import home_pool, home_pool_dn, split_dn

POOL_DN = "CN={3A1E},CN=Pools,CN=RTC Service,CN=Microsoft,CN=System,DC=contoso,DC=net"
POOLS = [{"PoolFQDN": "pool01.contoso.net", "PoolDN": POOL_DN},
         {"PoolFQDN": "pool03.contoso.net", "PoolDN": POOL_DN.replace("3A1E", "77B0")}]


def test_the_home_pool_is_the_one_whose_pooldn_follows_the_service_rdns_whatever_the_case():
    user = {"HomeServerDN": "CN=Lc Services,CN=Microsoft," + POOL_DN.upper()}
    assert home_pool_dn(user["HomeServerDN"]) == POOL_DN.lower()
    assert home_pool(user, POOLS)["PoolFQDN"] == "pool01.contoso.net"
    assert home_pool({"HomeServerDN": None}, POOLS) is None
    assert home_pool({"HomeServerDN": "CN=LC Services,CN=Microsoft,CN={0000},CN=Pools"}, POOLS) is None


def test_a_dn_that_is_not_a_pools_service_object_names_no_pool():
    # One RDN less (what the lab used to give) is the CN=Microsoft container, not the pool.
    assert home_pool({"HomeServerDN": "CN=LC Services," + POOL_DN}, POOLS) is None
    assert home_pool({"HomeServerDN": POOL_DN}, POOLS) is None
    assert home_pool_dn("CN=LC Services,CN=Microsoft") == ""


def test_an_escaped_comma_does_not_split_the_first_rdn():
    assert split_dn("CN=Myer\\, Ken,OU=Users,DC=contoso,DC=net") == ("CN=Myer\\, Ken", "OU=Users,DC=contoso,DC=net")


def test_the_filter_gives_each_users_pool_in_order():
    users = [{"HomeServerDN": "CN=LC Services,CN=Microsoft," + POOLS[1]["PoolDN"]},
             {"HomeServerDN": "CN=LC Services,CN=Microsoft," + POOL_DN}, {"PrimaryURI": "sip:x@contoso.net"}]
    assert legacy_home_pools(users, POOLS) == ["pool03.contoso.net", "pool01.contoso.net", None]
