"""`lync-lab shell` over real WinRM (NTLM) against a lab listener on 127.0.0.1."""

from __future__ import annotations

import io

import pytest

from lync_lab import shell
from lync_lab.config import LabConfig
from lync_lab.lab import Lab
from lync_lab.powershell.clixml import decode_clixml
from lync_lab.winrm.listener import WinRMListener


@pytest.fixture(scope="module")
def listener(tmp_path_factory):
    lab = Lab(LabConfig(state_dir=tmp_path_factory.mktemp("shell"), stage=6))
    server = lab.server("lync-fe01.contoso.net")
    winrm = WinRMListener(lab, server, "127.0.0.1", 0, tls=None)
    winrm.start()
    domain, user, password = lab.ntlm_accounts()[0]
    yield winrm.port, f"{domain}\\{user}", password
    winrm.stop()
    lab.store.close()


def test_prompt_runs_lines_and_prints_plain_errors(listener, monkeypatch, capsys):
    port, user, password = listener
    lines = iter(["Get-CsUser -Identity 'Adam Barr' | Select-Object -ExpandProperty RegistrarPool",
                  "Get-CsUser -Identity 'Adam Barr' -Bogus 1", "exit", "Write-Output never"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(lines))
    code = shell.main(["--host", "127.0.0.1", "--port", str(port), "--user", user, "--password", password])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == "pool01.contoso.net\n"
    assert captured.err.startswith("Get-CsUser : A parameter cannot be found that matches parameter name 'Bogus'.\n")
    assert "CLIXML" not in captured.err and password not in captured.out + captured.err


def test_a_variable_set_on_one_line_is_there_on_the_next(listener, monkeypatch, capsys):
    """As at a PowerShell prompt, the lines run in one session state (one powershell.exe reading -Command -,
    each line run as it arrives); an error on one line does not end it."""
    port, user, password = listener
    lines = iter(["$u = Get-CsUser -Identity 'Adam Barr'", "Get-CsUser -Bogus", "$n = 2",
                  "$u.DisplayName; $n", "exit"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(lines))
    code = shell.main(["--host", "127.0.0.1", "--port", str(port), "--user", user, "--password", password])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == "Adam Barr\n2\n"
    assert captured.err.startswith("Get-CsUser : A parameter cannot be found that matches parameter name 'Bogus'.")


def test_wrong_password_is_reported_without_a_traceback(listener, capsys):
    port, user, _ = listener
    code = shell.main(["--port", str(port), "--user", user, "--password", "wrong-password"])
    assert code == 1 and "cannot open a WinRM shell" in capsys.readouterr().err


def test_decode_clixml_passes_plain_text_through():
    assert decode_clixml("plain\r\n") == "plain\r\n"
