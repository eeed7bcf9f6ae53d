"""A pipeline whose first command finds nothing: the next commands get no input and ask for nothing."""

from lync_lab.config import LabConfig
from lync_lab.context import SessionInfo
from lync_lab.lab import Lab
from lync_lab.powershell.runtime import HostRuntime


class _Out:
    def __init__(self):
        self.out, self.err = [], []

    def stdout(self, text):
        self.out.append(text)

    def stderr(self, text):
        self.err.append(text)


class _NoStdin:
    def read(self):
        return b""


def _run(tmp_path, script):
    lab = Lab(LabConfig(scenario="contoso-small", stage=6, state_dir=tmp_path))
    try:
        server = lab.server("lync-fe01.contoso.net")
        out = _Out()
        code = HostRuntime(lab, server).run(SessionInfo(user="CONTOSO\\lyncadmin", auth="ntlm"),
                                            'powershell.exe -NoProfile -Command "%s"' % script, _NoStdin(), out)
        return code, "".join(out.out), "".join(out.err)
    finally:
        lab.store.close()


def test_nothing_piped_into_convertto_json_writes_nothing(tmp_path):
    code, out, err = _run(tmp_path, "Get-CsUser -Filter {DisplayName -eq 'Nobody Here'} | ConvertTo-Json")
    assert (code, out, err) == (0, "", "")


def test_nothing_piped_into_measure_object_counts_zero(tmp_path):
    code, out, err = _run(tmp_path, "Get-CsUser -Filter {DisplayName -eq 'Nobody Here'} | Measure-Object | ConvertTo-Json")
    assert code == 0 and err == ""
    assert '"Count":  0' in out
