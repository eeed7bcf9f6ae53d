"""plugins/module_utils/lync/estimate.py and the rehearsal_estimate filter: per-wave move-time estimates from the
lab's latency model (lab/README.md "Latency": Move-CsLegacyUser 1.0 s, 20 concurrent moves per pool,
PowerShell start 1.5 s, Lync import 4.0 s)."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lync.migration.plugins.filter import rehearsal
from ansible_collections.lync.migration.plugins.module_utils.lync import estimate


def test_a_small_wave_is_one_batch_on_one_shell():
    # 2 users: one batch (fewer than min_batch), moved one after the other: 2 x 1.0 s.
    assert estimate.concurrent_moves(2, 20) == 1
    assert estimate.wave_seconds(2, estimate.REALISTIC) == 2.0


def test_a_large_wave_runs_at_the_pools_capacity_and_pays_no_start_per_batch():
    # 20,000 users, 20 at once: 1,000 moves per shell; each shell's worker started PowerShell and imported Lync once,
    # before its first move, so its 40 batches of 25 add nothing to the window.
    assert estimate.concurrent_moves(20000, 20) == 20
    assert estimate.wave_seconds(20000, estimate.REALISTIC) == 1000 * 1.0


def test_the_host_shell_quota_bounds_the_moves_at_once():
    # WinRM 2.0's MaxShellsPerUser 5 leaves the collection 4 shells (a sixth kept free, at least one).
    assert estimate.shells_for(5) == 4 and estimate.shells_for(30) == 25 and estimate.shells_for(None) == 25
    assert estimate.concurrent_moves(1000, 20, shells=4) == 4
    assert estimate.wave_seconds(1000, estimate.REALISTIC, shells=4) == 250 * 1.0


def test_latency_file_settings_and_pool_capacity_override_the_realistic_model():
    latency = {"cmdlets": {"Move-CsLegacyUser": 2.0}, "move_capacity": 10, "pool_capacity": {"pool02.contoso.net": 5},
               "import_module": {"Lync": 0}, "powershell_start": 0}
    assert estimate.model_from_latency(latency) == {"move_seconds": 2.0, "powershell_start": 0, "module_import": 0,
                                                    "capacity": 10}
    assert estimate.model_from_latency(latency, "POOL02.contoso.net")["capacity"] == 5
    with pytest.raises(estimate.EstimateError, match="move capacity"):
        estimate.model_from_latency({"move_capacity": 0})
    with pytest.raises(estimate.EstimateError, match="move_seconds"):
        estimate.model_from_latency({"cmdlets": {"Move-CsLegacyUser": -1}})


def test_time_scale_scales_the_estimate():
    # 40 users: eight batches of at least 5 (concurrency.MIN_BATCH) -> 8 shells x 5 moves x 1.0 s, halved.
    assert estimate.wave_seconds(40, estimate.REALISTIC, time_scale=0.5) == 2.5


def test_estimate_waves_states_its_assumptions_and_the_markdown_shows_each_wave():
    result = rehearsal.rehearsal_estimate([{"name": "pilot", "users": 40, "pool": "pool02.contoso.net", "phase": 6},
                                           {"name": "remaining", "users": 0, "pool": "pool02.contoso.net", "phase": 8}],
                                          max_shells_per_user=30)
    assert result["kind"] == "estimate" and result["assumptions"]
    pilot, rest = result["waves"]
    assert (pilot["concurrent_moves"], pilot["estimated_seconds"]) == (8, 5.0)
    assert (rest["concurrent_moves"], rest["estimated_seconds"]) == (0, 0.0)
    assert result["total_seconds"] == 5.0
    text = rehearsal.rehearsal_estimate_markdown(result)
    assert "| pilot | 6 | pool02.contoso.net | 40 | 8 | 5.0 s |" in text and "not a measurement" in text
    assert estimate.duration(754) == "12 min 34 s"


def test_bad_inputs_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="whole number"):
        rehearsal.rehearsal_estimate([{"name": "x", "users": "many"}])
    with pytest.raises(AnsibleFilterError, match="time_scale"):
        rehearsal.rehearsal_estimate([], time_scale=-1)
    with pytest.raises(AnsibleFilterError, match="not an estimate"):
        rehearsal.rehearsal_estimate_markdown({"waves": [{}]})


def test_rehearsal_waves_count_the_users_each_wave_names_and_the_rest():
    users = [{"PrimaryURI": "sip:%s@contoso.net" % n, "DisplayName": d} for n, d in
             (("ken", "Ken Myer"), ("ken2", "Ken Myer"), ("hao", "Hao Chen"), ("sara", "Sara Davis"), ("amy", "Amy"))]
    planned = [{"name": "test", "identities": ["Hao Chen", "sip:SARA@contoso.net"]},
               {"name": "pilot", "identities": ["Ken Myer", "Hao Chen", "Nobody"]}]
    waves, unknown = estimate.rehearsal_waves(planned, users, "pool02.contoso.net")
    assert [(w["name"], w["phase"], w["users"]) for w in waves] == [("test", 6, 2), ("pilot", 6, 2), ("remaining", 8, 1)]
    assert unknown == ["pilot: Nobody"] and waves[-1]["pool"] == "pool02.contoso.net"
