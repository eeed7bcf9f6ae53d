"""The collection's wiring: every module is reachable the way the docs promise."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("cs_*.py"))


def test_every_module_is_in_the_lync_action_group():
    """`module_defaults: group/lync.migration.lync` must cover every module."""
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    group = runtime["action_groups"]["lync"]
    assert sorted(set(group)) == sorted(group), "meta/runtime.yml lists a module twice"
    assert sorted(group) == MODULES
