"""Phase 10 (playbooks/phase10-decommission-legacy.yml): conference directories, SRV check, decommissioning,
BackCompatSite; rerun; the hard gate with one Exchange UM contact left on the legacy pool."""

from __future__ import annotations

import pytest

from late_phases_lab import changing_calls, full_run_marker, make_lab, run, state_differences
from phase_lab import recap, seed_state

PLAYBOOK = "phase10-decommission-legacy.yml"

full_run = full_run_marker()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = make_lab(tmp_path_factory, "phase10", 10)
    yield lab
    lab.stop()


@full_run
def test_check_mode_changes_nothing(lab):
    proc, audit = run(lab, PLAYBOOK, "--check")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert changing_calls(audit) == []
    report = lab.latest_report("phase10")
    assert [(o["kind"], o["name"]) for o in report["on_legacy_pools_at_entry"]] == [("conference directory", "3")]


@full_run
def test_run_decommissions_and_matches_stage_11(lab, tmp_path):
    proc, audit = run(lab, PLAYBOOK)
    assert proc.returncode == 0, proc.stdout[-4000:]
    calls = changing_calls(audit)
    assert calls.index("Export-CsUserData") < calls.index("Move-CsConferenceDirectory") < calls.index("Merge-CsLegacyTopology")
    report = lab.latest_report("phase10")
    srv = [r for r in report["sip_internal_srv"] if r["type"] == "SRV"]
    assert [t["target"].rstrip(".") for t in srv[0]["targets"]] == ["pool02.contoso.net"]
    assert report["on_legacy_pools_before_decommissioning"] == [] and report["backcompat_site_deleted"] is True
    assert state_differences(lab.dump(), seed_state(11, tmp_path)) == []


@full_run
def test_second_run_changes_nothing(lab):
    proc, audit = run(lab, PLAYBOOK)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc.stdout)["changed"] == 0
    assert changing_calls(audit) == []


def _one_um_contact_back_on_the_legacy_pool(tx):
    key, doc = next((k, d) for k, d in tx.query("exum_contact") if "subscriberaccess" in k)
    tx.put("exum_contact", key, dict(doc, RegistrarPool="pool01.contoso.net"))


def test_a_um_contact_left_on_the_legacy_pool_is_named_and_nothing_changes(tmp_path_factory):
    left = make_lab(tmp_path_factory, "phase10-gate", 10, prepare=_one_um_contact_back_on_the_legacy_pool)
    try:
        before = left.dump()
        proc, audit = run(left, PLAYBOOK)
        after = left.dump()
    finally:
        left.stop()
    assert proc.returncode != 0
    assert ("Exchange UM contact sip:subscriberaccess@contoso.net is still homed on the legacy pool pool01.contoso.net"
            in proc.stdout)
    assert "sip:autoattendant" not in proc.stdout.split("preflight failed")[-1].split("PLAY RECAP")[0]
    assert changing_calls(audit) == []
    assert state_differences(after, before) == []
