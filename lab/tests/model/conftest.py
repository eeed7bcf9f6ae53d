import pytest

from lync_lab.config import LabConfig
from lync_lab.lab import Lab
from model_shell import Shell


@pytest.fixture
def make_lab(tmp_path):
    labs = []

    def make(stage, **options):
        lab = Lab(LabConfig(stage=stage, state_dir=tmp_path / f"lab{len(labs)}", **options))
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.store.close()
        lab.audit.close()


@pytest.fixture
def fe(make_lab):
    """A stage-6 lab (just before Phase 6: users still on OCS) seen from the Lync Front End."""
    return Shell(make_lab(6), "lync-fe01.contoso.net")
