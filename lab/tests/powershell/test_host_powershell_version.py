"""Each host runs its own Windows PowerShell: what 2.0 (the OCS 2007 R2 servers' Windows Server 2008 R2) lacks
is refused there with 2.0's own wording, while the collection's loader and envelope run on it."""

from __future__ import annotations

import base64
import dataclasses
import importlib.util
from pathlib import Path

import pytest

from conftest import ps, run

ROOT = Path(__file__).resolve().parents[3]
# The collection's envelope module, imported as a module of its package (it has relative imports).
_IMPORTER = ROOT / "lab/tests/powershell/collection_envelope.py"
_spec = importlib.util.spec_from_file_location("collection_envelope", _IMPORTER)
_importer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_importer)
collection = _importer.envelope


@pytest.fixture
def ps2(host, monkeypatch):
    monkeypatch.setattr(host, "server", dataclasses.replace(
        host.server, host=dataclasses.replace(host.server.host, powershell="2.0")))
    return host


def test_an_operator_powershell_3_added_stops_the_whole_script_on_2_0(ps2, engine_double):
    """PowerShell-Docs about_Comparison_Operators: -in/-notin were introduced in PowerShell 3.0. PowerShell 2.0
    reads '-' then a word and refuses the script while parsing (ExpectedValueExpression), so nothing runs, not even
    the command before it (2.0 transcripts cited in lab/lync_lab/powershell/versions.py)."""
    code, sink = ps(ps2, "Get-Service RTCSRV; Get-Service | Where-Object { $_.Name -notin @('W3SVC') }")
    assert code == 1
    assert "You must provide a value expression on the right-hand side of the '-' operator." in sink.stderr_text
    assert engine_double.calls == []


def test_the_same_script_runs_on_powershell_3(host, engine_double):
    code, sink = ps(host, "Get-Service RTCSRV; Get-Service | Where-Object { $_.Name -notin @('W3SVC') }")
    assert code == 0 and [c[0] for c in engine_double.calls] == ["Get-Service", "Get-Service"]


def test_a_cmdlet_powershell_3_added_is_not_recognized_on_2_0(ps2, engine_double):
    """ConvertTo-Json is in the PowerShell 3.0 reference, not in 2.0's: on 2.0 the name is not recognized."""
    code, sink = ps(ps2, "Get-Service RTCSRV | ConvertTo-Json")
    assert code == 1 and "The term 'ConvertTo-Json' is not recognized" in sink.stderr_text


def test_the_loader_refuses_an_envelope_written_for_powershell_3_on_2_0(ps2, engine_double):
    """[ScriptBlock]::Create parses the text it is given: a 3.0 operator stops it before anything runs."""
    exe, args = collection.command_line()
    script = collection.ENVELOPE_SCRIPT.replace("@('Lync') -notcontains $m", "$m -notin @('Lync')")
    stdin = base64.b64encode(script.encode("utf-8")) + b"\r\n" + collection.encode_request({"v": 1}).split(b"\r\n")[1]
    code, sink = run(ps2, " ".join([exe] + args), stdin)
    assert code == 1 and "ExpectedValueExpression" in sink.stderr_text
    assert engine_double.calls == []


def test_the_collections_envelope_runs_on_powershell_2_0(ps2, engine_double):
    exe, args = collection.command_line()
    stdin = collection.encode_request(collection.build_request([collection.Call("Get-Service", {"Name": "RTCSRV"})],
                                                              modules=()))
    code, sink = run(ps2, " ".join([exe] + args), stdin)
    assert code == 0 and sink.stderr_text == ""
    assert '"ps":"2.0"' in sink.stdout_text and [c[0] for c in engine_double.calls] == ["Get-Service"]


def test_modules_a_later_windows_brings_are_missing_on_2008_r2(ps2, engine_double):
    """CimCmdlets came with PowerShell 3.0 (PowerShell-Docs reference/3.0/CimCmdlets); a Windows Server 2008 R2
    host with its PowerShell 2.0 cannot import it."""
    code, sink = ps(ps2, "Import-Module CimCmdlets")
    assert code == 1 and "The specified module 'CimCmdlets' was not loaded" in sink.stderr_text
