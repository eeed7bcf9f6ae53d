"""cs_user_move's lean result for big waves (results, results_file) and a plan that pays one PowerShell start."""

import json

from ansible_collections.lync.migration.plugins.modules import cs_user_move
from fake_lync import FakeLync, pool, user
from module_runner import CONNECTION, run_module

TARGET = "pool02.contoso.net"


def wave():
    return FakeLync([pool("pool01.contoso.net", site="Site:BackCompatSite", legacy=True), pool(TARGET)],
                    [user("Ann Lee", "sip:ann@contoso.net", "pool01.contoso.net"),
                     user("Bob Ray", "sip:bob@contoso.net", TARGET),
                     user("Cy Dunn", "sip:cy@contoso.net", "pool01.contoso.net")])


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_failed_lists_only_users_needing_attention_and_the_file_has_every_user_in_order(monkeypatch, tmp_path):
    lync = wave()
    path = tmp_path / "results.jsonl"
    identities = ["sip:cy@contoso.net", "sip:nobody@contoso.net", "sip:bob@contoso.net", "sip:ann@contoso.net"]
    out = run_module(cs_user_move, {"identities": identities, "target_pool": TARGET, "on_invalid": "skip",
                                    "results": "failed", "results_file": str(path)}, lync, monkeypatch=monkeypatch)
    assert not out.get("failed"), out
    assert [(e["identity"], e["outcome"]) for e in out["results"]] == [("sip:nobody@contoso.net", "skipped")]
    assert out["summary"] == {"total": 4, "moved": 2, "unchanged": 1, "skipped": 1, "failed": 0, "would_move": 0,
                              "moved_earlier": 0, "reconciled": 0}
    listed = lines(path)
    assert [(e["identity"], e["outcome"]) for e in listed] == [
        ("sip:cy@contoso.net", "moved"), ("sip:nobody@contoso.net", "skipped"), ("sip:bob@contoso.net", "unchanged"),
        ("sip:ann@contoso.net", "moved")]
    assert listed[0]["from"] == "pool01.contoso.net" and listed[0]["cmdlet"] == "Move-CsLegacyUser"
    assert listed[0]["attempts"] == 1
    # The echo of the arguments names how many identities there were, not each one, and never the password.
    text = json.dumps(out)
    assert out["invocation"]["module_args"]["identities"] == "(4 identities)"
    assert CONNECTION["password"] not in text


def test_none_lists_nobody_and_a_check_mode_plan_still_fills_the_file(monkeypatch, tmp_path):
    lync = wave()
    path = tmp_path / "plan.jsonl"
    out = run_module(cs_user_move, {"identities": ["sip:ann@contoso.net", "sip:bob@contoso.net"],
                                    "target_pool": TARGET, "results": "none", "results_file": str(path)},
                     lync, check_mode=True, monkeypatch=monkeypatch)
    assert out["results"] == [] and out["changed"] and out["summary"]["would_move"] == 1
    assert [e["outcome"] for e in lines(path)] == ["would_move", "unchanged"]
    assert not [call for call in lync.calls if call[0].startswith("Move-")]


def test_all_is_the_default_and_keeps_every_user_and_the_arguments_echo(monkeypatch):
    out = run_module(cs_user_move, {"identities": ["sip:ann@contoso.net", "sip:bob@contoso.net"],
                                    "target_pool": TARGET}, wave(), check_mode=True, monkeypatch=monkeypatch)
    assert [e["identity"] for e in out["results"]] == ["sip:ann@contoso.net", "sip:bob@contoso.net"]
    assert out["invocation"]["module_args"]["identities"] == ["sip:ann@contoso.net", "sip:bob@contoso.net"]


def test_the_gate_writes_every_user_to_the_file_and_moves_nobody(monkeypatch, tmp_path):
    lync = wave()
    path = tmp_path / "gate.jsonl"
    out = run_module(cs_user_move, {"identities": ["sip:ann@contoso.net", "sip:nobody@contoso.net"],
                                    "target_pool": TARGET, "results": "failed", "results_file": str(path)},
                     lync, monkeypatch=monkeypatch)
    assert out["failed"] and "nothing was moved" in out["msg"]
    assert [e["identity"] for e in out["results"]] == ["sip:nobody@contoso.net"]
    assert [(e["identity"], e["outcome"]) for e in lines(path)] == [
        ("sip:ann@contoso.net", "would_move"), ("sip:nobody@contoso.net", "failed")]
    assert not [call for call in lync.calls if call[0].startswith("Move-")]


def test_an_unwritable_results_file_fails_naming_the_option(monkeypatch, tmp_path):
    out = run_module(cs_user_move, {"identities": ["sip:ann@contoso.net"], "target_pool": TARGET,
                                    "results_file": str(tmp_path / "no-such-dir" / "r.jsonl")},
                     wave(), check_mode=True, monkeypatch=monkeypatch)
    assert out["failed"] and out["msg"].startswith("option results_file: cannot write")


def test_the_plan_reads_pools_and_users_in_one_powershell_process(monkeypatch):
    lync = wave()
    run_module(cs_user_move, {"identities": ["sip:ann@contoso.net", "sip:cy@contoso.net"], "target_pool": TARGET},
               lync, check_mode=True, monkeypatch=monkeypatch)
    assert len(lync.requests) == 1
    assert [c["cmdlet"] for c in lync.requests[0]["calls"]] == ["Get-CsPool", "Get-CsUser", "Get-CsUser"]


def test_a_large_plan_reads_pools_with_the_bulk_user_read(monkeypatch):
    monkeypatch.setattr(cs_user_move, "TUNING", cs_user_move.TUNING._replace(bulk_read_threshold=2))
    lync = wave()
    out = run_module(cs_user_move, {"identities": ["sip:ann@contoso.net", "sip:cy@contoso.net"],
                                    "target_pool": TARGET}, lync, check_mode=True, monkeypatch=monkeypatch)
    assert out["summary"]["would_move"] == 2
    assert [[(c["cmdlet"], c["params"]) for c in r["calls"]] for r in lync.requests] == [
        [("Get-CsPool", {}), ("Get-CsUser", {})]]


def test_a_failing_get_cspool_fails_the_task_before_any_move(monkeypatch):
    lync = wave()
    original = lync.run

    def broken(cmdlet, params):
        if cmdlet == "Get-CsPool":
            from fake_lync import FakeCmdletError
            raise FakeCmdletError("Access is denied", "PermissionDenied")
        return original(cmdlet, params)

    lync.run = broken
    out = run_module(cs_user_move, {"identities": ["sip:ann@contoso.net"], "target_pool": TARGET}, lync,
                     monkeypatch=monkeypatch)
    assert out["failed"] and "Get-CsPool failed: Access is denied" in out["msg"]
    assert not [call for call in lync.calls if call[0].startswith("Move-")]
