"""Phase 10 (playbooks/phase10-decommission-legacy.yml): conference directories, SRV check, decommissioning,
BackCompatSite; rerun; the hard gate with one Exchange UM contact, or one conference directory, left on a legacy
pool."""

from __future__ import annotations

import late_phases_lab as late
from phase_lab import seed_state

PLAYBOOK = "phase10-decommission-legacy.yml"

full_run = late.full_run_marker()
lab = late.phase_lab("phase10", 10)


@full_run
def test_check_mode_changes_nothing(lab):
    late.assert_check_mode_changes_nothing(lab, PLAYBOOK)
    report = lab.latest_report("phase10")
    assert [(o["kind"], o["name"]) for o in report["on_legacy_pools_at_entry"]] == [("conference directory", "3")]


@full_run
def test_run_decommissions_and_matches_stage_11(lab, tmp_path):
    _proc, calls = late.assert_run_succeeds(lab, PLAYBOOK)
    # No Export-CsUserData: it exports Lync pools only (Export-CsUserData.md); the legacy pool's back-end backup is
    # the guided step P10.1-confdir-backup, confirmed before the move.
    assert "Export-CsUserData" not in calls
    assert calls.index("Move-CsConferenceDirectory") < calls.index("Merge-CsLegacyTopology")
    report = lab.latest_report("phase10")
    steps = [s["id"] for s in report["guided_steps"]]
    assert steps.index("P10.1-confdir-backup") < steps.index("P10.2-sipinternaltls")
    srv = [r for r in report["sip_internal_srv"] if r["type"] == "SRV"]
    assert [t["target"].rstrip(".") for t in srv[0]["targets"]] == ["pool02.contoso.net"]
    assert report["on_legacy_pools_before_decommissioning"] == [] and report["backcompat_site_deleted"] is True
    assert late.state_differences(lab.dump(), seed_state(11, tmp_path)) == []


@full_run
def test_second_run_changes_nothing(lab):
    late.assert_rerun_changes_nothing(lab, PLAYBOOK)


def _one_um_contact_back_on_the_legacy_pool(tx):
    key, doc = next((k, d) for k, d in tx.query("exum_contact") if "subscriberaccess" in k)
    tx.put("exum_contact", key, dict(doc, RegistrarPool="pool01.contoso.net"))


def _gate_messages(output: str) -> str:
    return output.split("preflight failed")[-1].split("PLAY RECAP")[0]


def test_a_um_contact_left_on_the_legacy_pool_is_named_and_nothing_changes(tmp_path_factory):
    proc = late.assert_gate_refuses(tmp_path_factory, "phase10-gate", 10, PLAYBOOK,
                               prepare=_one_um_contact_back_on_the_legacy_pool)
    assert ("Exchange UM contact sip:subscriberaccess@contoso.net is still homed on the legacy pool pool01.contoso.net"
            in proc.stdout)
    assert "sip:autoattendant" not in _gate_messages(proc.stdout)


def _confdir_3_on_the_legacy_pool(tx):
    # Stage 10 seeds it there already (Phase 10's P10.1 moves it); made explicit so the test does not depend on it.
    key, doc = next((k, d) for k, d in tx.query("confdir") if str(d.get("Identity")) == "3")
    tx.put("confdir", key, dict(doc, ServiceId="UserServer:pool01.contoso.net", pool="pool01.contoso.net"))


def test_a_conference_directory_on_a_legacy_pool_phase_10_does_not_move_is_named_and_nothing_changes(tmp_path_factory):
    # P10.1 moves the conference directories of the pools lync_migration_legacy_pools names. A legacy pool the
    # inventory leaves out (here: the list is empty, pool01 is only known as a BackCompatSite pool) keeps its
    # conference directory, and the hard gate must refuse before anything changes, naming it.
    proc = late.assert_gate_refuses(tmp_path_factory, "phase10-confdir-gate", 10, PLAYBOOK,
                               prepare=_confdir_3_on_the_legacy_pool, extra={"lync_migration_legacy_pools": []})
    assert ("conference directory 3 is still homed on the legacy pool pool01.contoso.net: P10.1 of this phase moves "
            "conference directories only from lync_migration_legacy_pools; add the pool there") in proc.stdout
    assert "Exchange UM contact" not in _gate_messages(proc.stdout)
