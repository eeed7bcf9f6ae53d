"""cs_user_info reads users as cs_user_move plans them: Get-CsPool in the first request, lookups over several
shells, and SIP addresses of big lists matched against one bulk Get-CsUser."""

from ansible_collections.lync.migration.plugins.modules import cs_user_info
from fake_lync import FakeCmdletError, FakeLync, pool, user
from module_runner import run_module


def directory(count=6):
    return FakeLync([pool("pool01.contoso.net", site="Site:BackCompatSite", legacy=True), pool("pool02.contoso.net")],
                    [user("User %d" % i, "sip:u%d@contoso.net" % i, "pool01.contoso.net" if i % 2 else "pool02.contoso.net")
                     for i in range(count)])


def test_identities_and_pools_are_read_in_one_powershell_process(monkeypatch):
    lync = directory()
    out = run_module(cs_user_info, {"identities": ["sip:u1@contoso.net", "User 2", "sip:nobody@contoso.net"]},
                     lync, monkeypatch=monkeypatch)
    assert len(lync.requests) == 1
    assert [c["cmdlet"] for c in lync.requests[0]["calls"]] == ["Get-CsPool"] + ["Get-CsUser"] * 3
    assert [(u["identity"], u["registrar_pool"], u["legacy"]) for u in out["users"]] == [
        ("sip:u1@contoso.net", "pool01.contoso.net", True), ("User 2", "pool02.contoso.net", False)]
    assert out["not_found"] == ["sip:nobody@contoso.net"]


def test_many_sip_addresses_are_matched_against_one_bulk_read_with_every_property(monkeypatch):
    monkeypatch.setattr(cs_user_info, "BULK_READ_THRESHOLD", 3)
    lync = directory()
    out = run_module(cs_user_info, {"identities": ["sip:U3@contoso.net", "sip:u4@contoso.net", "User 5",
                                                   "sip:nobody@contoso.net"]}, lync, monkeypatch=monkeypatch)
    reads = [params for cmdlet, params in lync.calls if cmdlet == "Get-CsUser"]
    assert reads[0] == {}                                          # the bulk read
    assert sorted(p["Identity"] for p in reads[1:]) == ["User 5", "sip:nobody@contoso.net"]
    first = out["users"][0]
    assert (first["identity"], first["sip_address"], first["user_principal_name"], first["legacy"]) == (
        "sip:U3@contoso.net", "sip:u3@contoso.net", "u3@contoso.net", True)
    assert [u["identity"] for u in out["users"]] == ["sip:U3@contoso.net", "sip:u4@contoso.net", "User 5"]
    assert out["not_found"] == ["sip:nobody@contoso.net"]


def test_an_ou_is_listed_in_the_same_process_as_the_pools(monkeypatch):
    lync = directory()
    out = run_module(cs_user_info, {"legacy_only": True}, lync, monkeypatch=monkeypatch)
    assert [[c["cmdlet"] for c in r["calls"]] for r in lync.requests] == [["Get-CsPool", "Get-CsUser"]]
    assert out["count"] == 3 and all(u["legacy"] for u in out["users"])


def test_a_failing_get_cspool_fails_with_the_servers_message(monkeypatch):
    lync = directory()
    original = lync.run

    def refuse_pools(cmdlet, params):
        if cmdlet == "Get-CsPool":
            raise FakeCmdletError("Access is denied", "PermissionDenied")
        return original(cmdlet, params)

    lync.run = refuse_pools
    out = run_module(cs_user_info, {"identities": ["sip:u1@contoso.net"]}, lync, monkeypatch=monkeypatch)
    assert out["failed"] and "Get-CsPool failed: Access is denied" in out["msg"]
