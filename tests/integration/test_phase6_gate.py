"""The Phase 6 gate against a lab where Phase 4 has not run (stage 4): Import-CsLegacyConfiguration is missing,
so the role must stop before any move and say to run Phase 4."""

from __future__ import annotations

import re

LAB_STAGE = 4


def test_without_the_legacy_import_the_gate_sends_the_user_to_phase_4(lab, playbook, lab_shell):
    run = playbook("phase6-move-users.yml", extra={"move_users_waves": ["test"]})
    assert run.rc != 0
    text = re.sub(r"\s+", " ", run.stdout)
    assert "Phase 6 preflight failed; nothing was changed" in text
    assert "Run Phase 4 (phase4-merge-topologies.yml) first" in text
    # The evidence: the OCS pool's legacy meeting policies have no imported Tag: copy on Lync.
    assert "Standard Meeting Policy" in text
    assert lab.move_calls() == []
    assert lab_shell("David Pelton") == "pool01.contoso.net"
