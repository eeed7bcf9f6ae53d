"""Helpers the Phase 7-10 and site.yml tests share, on top of phase_lab.PhaseLab."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "plugins" / "module_utils" / "lync"))
LAB_VARS = ["-e", "@tools/demo-lab-vars.yml"]

# The topology documents are compared as documents (element order and whitespace aside): the CMS stores the XML
# the publisher sent, and Topology Builder, the seed and the roles each write it their own way.
TOPOLOGY_KINDS = {"topology"}
# Files the runs write on the servers (exports, backups, merge input) are the run's artefacts, not the
# organisation's state a stage describes.
ARTEFACT_KINDS = {"file"}


def _same_xml(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    import xml.etree.ElementTree as ET

    def canon(el):
        return "<%s %s>%s%s</>" % (el.tag, sorted(el.attrib.items()), (el.text or "").strip(),
                                   "".join(sorted(canon(c) for c in el)))

    return canon(ET.fromstring(a.encode())) == canon(ET.fromstring(b.encode()))


def state_differences(got: dict, want: dict) -> list[str]:
    """Object-by-object differences between a lab's dump_state and a stage seed's, as readable lines."""
    out = []
    for kind in sorted(set(got) | set(want)):
        if kind in ARTEFACT_KINDS:
            continue
        a, b = dict(got.get(kind, {})), dict(want.get(kind, {}))
        if kind == "_meta":
            a.pop("stage", None)
            b.pop("stage", None)
        for key in sorted(set(a) | set(b)):
            x, y = a.get(key), b.get(key)
            if kind in TOPOLOGY_KINDS and x and y:
                if all(_same_xml(x.get(f), y.get(f)) for f in set(x) | set(y)):
                    continue
            if x != y:
                out.append(f"{kind}/{key}: playbook {json.dumps(x, default=str)[:300]} != seed {json.dumps(y, default=str)[:300]}")
    return out


def changing_calls(entries: list[dict]) -> list[str]:
    return [e["cmdlet"] for e in entries if e.get("cmdlet") and e["cmdlet"].split("-")[0] not in ("Get", "Test")]


def lab_extra_vars() -> dict:
    """tools/demo-lab-vars.yml with the lab inventory's confirmations added (an extra variable replaces the
    inventory's list, so both are passed)."""
    import yaml

    data = yaml.safe_load((REPO / "tools" / "demo-lab-vars.yml").read_text())
    inv = REPO / "inventories" / "lab" / "group_vars" / "all" / "confirmations.yml"
    listed = (yaml.safe_load(inv.read_text()) or {}).get("lync_migration_confirmed_steps", []) if inv.exists() else []
    data["lync_migration_confirmed_steps"] = list(dict.fromkeys(listed + data["lync_migration_confirmed_steps"]))
    return data


def make_lab(tmp_path_factory, name: str, stage: int, prepare=None):
    """A started PhaseLab in a fresh directory with this working tree as lync.migration, serving the lab's DNS
    zone (P10.2 checks SRV records); ``prepare(tx)`` changes the seeded state before the lab starts."""
    from phase_lab import PhaseLab, collections_tree

    root = tmp_path_factory.mktemp(name)
    lab = PhaseLab(root, stage, collections_tree(root), dns=True)
    lab.start(prepare=prepare)
    return lab


def run(lab, playbook: str, *args: str, extra: dict | None = None):
    """ansible-playbook with the lab-only variables; returns (completed process, audit entries of this run)."""
    before = len(lab.audit())
    data = lab_extra_vars()
    data.update(extra or {})
    proc = lab.playbook(playbook, *args, extra=data)
    return proc, lab.audit()[before:]


def full_run_marker():
    """The check/run/rerun tests of Phases 7-10 and site.yml take minutes (a playbook run is 30-60 s on 2 cores), so
    `make test` runs only their gate tests; `make phases-late` (mk/phases.mk) runs them all."""
    import os

    import pytest

    return pytest.mark.skipif(os.environ.get("LYNC_LATE_PHASE_RUNS") != "1",
                              reason="full phase runs: make phases-late (LYNC_LATE_PHASE_RUNS=1)")


def phase_lab(name: str, stage: int, prepare=None):
    """A module-scoped pytest fixture: a started lab at ``stage`` for one test module, stopped after it."""
    import pytest

    @pytest.fixture(scope="module")
    def lab(tmp_path_factory):
        started = make_lab(tmp_path_factory, name, stage, prepare=prepare)
        yield started
        started.stop()

    return lab


def assert_check_mode_changes_nothing(lab, playbook: str, extra: dict | None = None):
    """--check succeeds and makes only Get-/Test- calls; returns the completed process."""
    proc, audit = run(lab, playbook, "--check", extra=extra)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert changing_calls(audit) == []
    return proc


def assert_run_succeeds(lab, playbook: str, extra: dict | None = None):
    """A real run succeeds; returns (completed process, the changing calls it made, in order)."""
    proc, audit = run(lab, playbook, extra=extra)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc, changing_calls(audit)


def assert_rerun_changes_nothing(lab, playbook: str, extra: dict | None = None):
    """A second run reports changed=0 and makes only Get-/Test- calls."""
    from phase_lab import recap

    proc, audit = run(lab, playbook, extra=extra)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc.stdout)["changed"] == 0
    assert changing_calls(audit) == []
    return proc


def assert_gate_refuses(tmp_path_factory, name: str, stage: int, playbook: str, prepare=None,
                        extra: dict | None = None):
    """A lab at ``stage`` (changed by ``prepare``) refuses the playbook and changes nothing: neither a changing
    call in the audit nor a difference in the lab's state. Returns the completed process for the message checks."""
    early = make_lab(tmp_path_factory, name, stage, prepare=prepare)
    try:
        before = early.dump()
        proc, audit = run(early, playbook, extra=extra)
        after = early.dump()
    finally:
        early.stop()
    assert proc.returncode != 0, proc.stdout[-4000:]
    assert changing_calls(audit) == []
    assert state_differences(after, before) == []
    return proc
