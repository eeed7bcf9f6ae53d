"""Calls engine.invoke directly, as the PowerShell layer does (tests of the model only)."""

import pytest

from lync_lab import engine
from lync_lab.errors import PSError
from lync_lab.context import CmdletContext, SessionInfo


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
