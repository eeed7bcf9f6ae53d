"""The artifacts `make dist` builds, as a user gets them. `make dist-test` builds them first; run alone, these tests
fail when they are missing rather than test something older or build something else."""

from __future__ import annotations

from pathlib import Path

import pytest

from dist_support import artifact, galaxy_version, lab_version


@pytest.fixture(scope="session")
def collection_tarball() -> Path:
    return artifact(f"lync-migration-{galaxy_version()}.tar.gz")


@pytest.fixture(scope="session")
def lab_wheel() -> Path:
    return artifact(f"lync_lab-{lab_version()}-py3-none-any.whl")
