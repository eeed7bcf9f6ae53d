import pytest

from lync_lab import engine
from lync_lab.config import LabConfig
from lync_lab.errors import PSError
from lync_lab.lab import CmdletContext, Lab, SessionInfo


class Shell:
    """Calls engine.invoke the way the PowerShell layer does, as CONTOSO\\lyncadmin on one server."""

    def __init__(self, lab, fqdn, session=None):
        self.lab = lab
        self.ctx = CmdletContext(lab, lab.server(fqdn), session or SessionInfo("CONTOSO\\lyncadmin", "ntlm"))

    def __call__(self, cmdlet, **params):
        return engine.invoke(self.ctx, cmdlet, params, dict(params))

    def fails(self, cmdlet, **params) -> PSError:
        with pytest.raises(PSError) as info:
            self(cmdlet, **params)
        return info.value


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
