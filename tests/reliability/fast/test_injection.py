"""Injection: identities, OUs, filters and display names carrying PowerShell metacharacters reach the cmdlets as
literal data. The lab's audit log is the witness: only the expected cmdlets ran, the hostile values are what
they received, and only the hostile users themselves (moved by name on purpose) changed."""

import pytest
import yaml
from harness import (DATA, LAB_INVENTORY, LabInstance, registrar_pools, run_cases, score, successful_moves,
                     write_calls)
from lync_lab.model import opath
from lync_lab.model.scenario import scenario_path

from ansible_collections.lync.migration.plugins.module_utils.lync.identity import equals_filter, \
    escape_filter_value

# One lab and one playbook run serve every test here: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group('test_injection')

INJECTION = yaml.safe_load((DATA / "injection.yml").read_text(encoding="utf-8"))
PAYLOADS = INJECTION["payloads"] + [u["name"] for u in INJECTION["hostile_users"]]
EXPECTED_READS = {"Get-CsUser", "Get-CsPool"}


# -- escape_filter_value against the lab's OPATH parser (the same grammar Get-CsUser -Filter reads) -------
@pytest.mark.parametrize("value", PAYLOADS, ids=range(len(PAYLOADS)))
def test_escaped_filter_value_matches_exactly_that_display_name(value):
    users = [{"DisplayName": value}, {"DisplayName": "David Pelton"}, {"DisplayName": "x"},
             {"DisplayName": value + " "}, {"DisplayName": "Patrick O'Brien"}]
    test = opath.compile_filter(equals_filter("DisplayName", value), {"DisplayName"})
    assert [u for u in users if test(u)] == [users[0]]


def test_escape_filter_value_doubles_every_kind_of_single_quote_and_refuses_control_characters():
    assert escape_filter_value("O'Brien") == "'O''Brien'"
    assert escape_filter_value("a\u2019b\u2018c") == "'a\u2019\u2019b\u2018\u2018c'"
    for bad in ("a\nb", "a\rb", "a\x00b"):
        with pytest.raises(ValueError):
            escape_filter_value(bad)
    with pytest.raises(ValueError):
        equals_filter("DisplayName -or 1", "x")


# -- through the modules, against a lab whose directory holds hostile display names --------------------
@pytest.fixture(scope="module")
def injection_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("injection")
    raw = yaml.safe_load(scenario_path("contoso-small").read_text(encoding="utf-8"))
    raw["users"] = raw["users"] + INJECTION["hostile_users"]
    scenario = tmp / "contoso-hostile.yml"
    scenario.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with LabInstance(tmp / "lab", scenario=scenario, stage=6) as lab:
        before_pools = registrar_pools(lab)
        hostile_names = [u["name"] for u in INJECTION["hostile_users"]]
        cases = [
            {"id": "info-identities", "module": "cs_user_info", "args": {"identities": INJECTION["payloads"]}},
            {"id": "move-payloads", "module": "cs_user_move",
             "args": {"identities": INJECTION["payloads"], "target_pool": "pool02.contoso.net", "on_invalid": "skip"}},
            {"id": "move-hostile-users", "module": "cs_user_move",
             "args": {"identities": hostile_names, "target_pool": "pool02.contoso.net"}},
            {"id": "object-info", "module": "cs_object_info",
             "args": {"cmdlet": "Get-CsUser", "parameters": {"Identity": INJECTION["payloads"][0]}}},
        ]
        for n, ou in enumerate(INJECTION["payloads"][:4] + INJECTION["multiline_payloads"]):
            cases.append({"id": "ou-%d" % n, "module": "cs_user_info", "args": {"ou": ou}})
        for n, value in enumerate(hostile_names):
            # What a wave's filter looks like when written with the escaping function.
            cases.append({"id": "filter-%d" % n, "module": "cs_user_info",
                          "args": {"filter": equals_filter("DisplayName", value)}})
        inventory = lab.write_inventory(LAB_INVENTORY, tmp / "inventory")
        results, audit, _ = run_cases(tmp, lab, inventory, cases)
        yield dict(lab=lab, audit=audit, results=results, before_pools=before_pools,
                   after_pools=registrar_pools(lab), hostile=INJECTION["hostile_users"])


def test_only_the_expected_cmdlets_ran(injection_run):
    audit = injection_run["audit"]
    ran = {e["cmdlet"] for e in audit}
    writes = write_calls(audit)
    hostile_sips = {"sip:" + u["sip"] for u in injection_run["hostile"]}
    unexpected = [e for e in writes if e["cmdlet"] != "Move-CsLegacyUser"
                  or str(e["params"].get("Identity")).lower() not in hostile_sips]
    score("injection", 1, len(hostile_sips), lost=0, duplicated=0, leaked=0,
          unexpected_changes=len(unexpected))
    assert ran <= EXPECTED_READS | {"Move-CsLegacyUser"}, ran
    assert unexpected == [], unexpected[:5]


def test_hostile_users_moved_once_by_name_and_nobody_else_changed(injection_run):
    moves = successful_moves(injection_run["audit"])
    hostile_sips = {"sip:" + u["sip"] for u in injection_run["hostile"]}
    assert moves == {s: 1 for s in hostile_sips}
    changed = {k for k in injection_run["after_pools"] if injection_run["after_pools"][k] != injection_run["before_pools"].get(k)}
    assert changed == hostile_sips
    result = injection_run["results"]["move-hostile-users"]
    assert result["summary"]["moved"] == len(hostile_sips), result.get("msg")


def test_hostile_values_reached_get_csuser_verbatim(injection_run):
    received = [e["params"].get("Identity") for e in injection_run["audit"] if e["cmdlet"] == "Get-CsUser"]
    received_ou = [e["params"].get("OU") for e in injection_run["audit"] if e["cmdlet"] == "Get-CsUser"]
    for payload in INJECTION["payloads"] + [u["name"] for u in injection_run["hostile"]]:
        assert payload in received, "Get-CsUser never received %r" % payload
    for ou in INJECTION["payloads"][:4] + INJECTION["multiline_payloads"]:
        assert ou in received_ou, "Get-CsUser never received -OU %r" % ou


def test_payloads_are_reported_not_found_and_hostile_names_found_by_filter(injection_run):
    results = injection_run["results"]
    assert sorted(results["info-identities"]["not_found"]) == sorted(INJECTION["payloads"])
    for n, user in enumerate(injection_run["hostile"]):
        found = [u["sip_address"] for u in results["filter-%d" % n]["users"]]
        assert found == ["sip:" + user["sip"]], (user["name"], results["filter-%d" % n].get("msg"))
