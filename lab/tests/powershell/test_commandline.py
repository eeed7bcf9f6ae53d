"""cmd.exe and powershell.exe command lines, as a WinRS client sends them."""

from __future__ import annotations

import base64

import pytest

from lync_lab.powershell.commandline import CommandLineError, parse_powershell_args, split_windows_args

from conftest import encoded, run


def test_other_programs_get_cmds_not_recognized_message(host):
    code, sink = run(host, "ipconfig /all")
    assert code == 1
    assert sink.stderr_text == ("'ipconfig' is not recognized as an internal or external command,\r\n"
                                "operable program or batch file.\r\n")
    code, sink = run(host, "cmd /c dir")
    assert code == 1 and sink.stderr_text.startswith("'cmd' is not recognized")


def test_hostname_and_echo_work_like_cmd(host):
    assert run(host, "hostname")[1].stdout_text == "FE01\r\n"
    assert run(host, "echo hello world")[1].stdout_text == "hello world\r\n"


@pytest.mark.parametrize("switches", [
    "-NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand",
    "-nop -noni -ep bypass -enc", "-nol -nop -noni -ex Unrestricted -e", "/NoProfile -ec",
])
def test_encoded_command_abbreviations_run_the_script(host, switches):
    code, sink = run(host, f"PowerShell.EXE {switches} {encoded('Write-Output lab')}")
    assert (code, sink.stdout_text, sink.stderr_text) == (0, "lab\r\n", "")


def test_full_path_and_command_switch(host):
    line = r'''"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -Command "Write-Output 'a b'"'''
    code, sink = run(host, line)
    assert (code, sink.stdout_text) == (0, "a b\r\n")


def test_first_non_switch_argument_starts_the_command(host):
    code, sink = run(host, "powershell -NoProfile Write-Output 42")
    assert (code, sink.stdout_text) == (0, "42\r\n")


def test_command_dash_reads_the_script_from_stdin_line_by_line(host):
    code, sink = run(host, "powershell -NoProfile -Command -", b"$x = 'pool02'\r\nWrite-Output $x\r\nGet-Nothing\r\n")
    assert sink.stdout_text == "pool02\r\n"
    assert "Get-Nothing : The term 'Get-Nothing' is not recognized" in sink.stderr_text
    assert code == 1


def test_powershell_start_is_charged_once_per_process(host):
    run(host, f"powershell -NoProfile -EncodedCommand {encoded('Write-Output 1; Write-Output 2')}")
    assert host.lab.latency.starts == 1
    run(host, "ipconfig")
    assert host.lab.latency.starts == 1


def test_bad_base64_is_refused_before_anything_runs(host):
    code, sink = run(host, "powershell -EncodedCommand not*base64")
    assert code == -196608
    assert "not properly encoded" in sink.stderr_text
    assert host.lab.latency.starts == 0


def test_file_switch_names_the_missing_file(host):
    with pytest.raises(CommandLineError, match="The argument 'x.ps1' to the -File parameter does not exist"):
        parse_powershell_args(["-File", "x.ps1"])


def test_windows_argument_splitting_rules():
    assert split_windows_args(r'a "b c" d\"e "f\\" g') == ["a", "b c", 'd"e', "f\\", "g"]
    assert base64.b64decode(parse_powershell_args(["-e", encoded("x")]).switches["encodedcommand"]) == "x".encode("utf-16-le")


def test_xml_formats_are_refused_clearly_rather_than_answered_as_text(host):
    code, sink = run(host, f"powershell -OutputFormat XML -EncodedCommand {encoded('Write-Output 1')}")
    assert code == -196608 and "is not supported by the lync.migration lab" in sink.stderr_text
    assert sink.stdout_text == ""
