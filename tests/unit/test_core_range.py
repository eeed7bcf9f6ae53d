"""requires_ansible admits exactly the ansible-core minor versions `make test-core-range` tests (mk/core-range.mk)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def core_range_versions():
    text = (ROOT / "mk" / "core-range.mk").read_text()
    return re.search(r"^CORE_VERSIONS \?= (.+)$", text, re.M).group(1).split()


def test_requires_ansible_admits_exactly_the_tested_minor_versions():
    admitted = SpecifierSet(yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"])
    tested = core_range_versions()
    tested_minors = {tuple(int(p) for p in v.split(".")[:2]) for v in tested}
    assert all(Version(v) in admitted for v in tested), (tested, str(admitted))
    for minor in range(9, 31):
        # the first and a late patch of each 2.x: a minor is in or out as a whole
        edges = [Version("2.%d.0" % minor), Version("2.%d.99" % minor)]
        assert [v in admitted for v in edges] == [(2, minor) in tested_minors] * 2, (minor, str(admitted))
