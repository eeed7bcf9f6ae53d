"""The collection's envelope, sent exactly as the collection sends it, executed by the lab."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

import pytest

from lync_lab.powershell.envelope import KNOWN_ENVELOPE_SHA256, envelope_sha256

from conftest import run

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("collection_envelope", ROOT / "plugins/module_utils/lync/envelope.py")
collection = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(collection)


def send(host, calls, modules=("Lync",), credential=None):
    exe, args = collection.command_line()
    request = {"v": 1, "modules": list(modules), "calls": calls}
    if credential:
        request["credential"] = {"username": credential[0], "password": credential[1]}
    stdin = base64.b64encode(json.dumps(request).encode()) + b"\r\n"
    code, sink = run(host, " ".join([exe] + args), stdin)
    lines = [json.loads(line) for line in sink.stdout_text.splitlines()]
    return code, lines, sink


def test_lab_accepts_the_collections_current_envelope():
    assert envelope_sha256(collection.ENVELOPE_SCRIPT) in KNOWN_ENVELOPE_SHA256


def test_calls_answer_in_order_between_ready_and_done(host, engine_double):
    code, lines, sink = send(host, [
        {"id": "0", "cmdlet": "Get-CsUser", "params": {"Identity": "Ken Myer"}, "select": ["identity", "RegistrarPool"]},
        {"id": "1", "cmdlet": "Move-CsLegacyUser",
         "params": {"Identity": "Ken Myer", "Target": "pool02.contoso.net", "ExcludeDialPlan": True, "PassThru": True}},
        {"id": "2", "cmdlet": "Get-CsUser", "params": {"Identity": "Nobody"}},
    ])
    assert code == 0 and sink.stderr_text == ""
    assert lines[0] == {"ready": True, "computer": "FE01", "ps": "3.0"}
    assert lines[1] == {"id": "0", "ok": True, "objects": [
        {"Identity": "CN=Ken Myer,OU=Users,DC=contoso,DC=net", "RegistrarPool": "ocspool01.contoso.net"}]}
    assert lines[2]["ok"] is True and lines[2]["objects"][0]["RegistrarPool"] == "pool02.contoso.net"
    assert lines[3]["ok"] is False
    assert lines[3]["error"]["message"] == 'Management object not found for identity "Nobody".'
    assert lines[3]["error"]["category"] == "InvalidData" and lines[3]["error"]["target"] == "Nobody"
    assert lines[4] == {"done": True}
    assert engine_double.calls[1][1]["ExcludeDialPlan"] is True
    assert host.lab.latency.imports == ["Lync"]


def test_binding_errors_become_error_lines_and_are_audited(host, engine_double):
    code, lines, _ = send(host, [
        {"id": "0", "cmdlet": "Move-CsLegacyUser", "params": {"Identity": "Ken Myer"}},
        {"id": "1", "cmdlet": "Get-CsUser", "params": {"OnModernServer": True}},
        {"id": "2", "cmdlet": "Get-CsNoSuchThing", "params": {}},
    ])
    assert lines[1]["error"]["message"] == ("Cannot process command because of one or more missing mandatory "
                                            "parameters: Target.")
    assert lines[1]["error"]["exception"] == "System.Management.Automation.ParameterBindingException"
    assert lines[2]["error"]["fqid"].startswith("NamedParameterNotFound,")
    assert lines[3]["error"]["fqid"] == "CommandNotFoundException"
    assert [r[0] for r in engine_double.rejected] == ["Move-CsLegacyUser", "Get-CsUser"]
    assert engine_double.calls == []


def test_allow_list_refuses_other_cmdlets_and_nothing_runs(host, engine_double):
    _, lines, _ = send(host, [{"id": "0", "cmdlet": "Remove-Item", "params": {"Path": "C:\\"}},
                              {"id": "1", "cmdlet": "Get-Service", "params": {"Name": "RTCSRV"}}])
    assert lines[1]["error"]["message"] == "cmdlet not allowed: Remove-Item"
    assert lines[2]["ok"] is True
    assert [c[0] for c in engine_double.calls] == ["Get-Service"]


def test_pass_credential_reaches_the_cmdlet_but_never_the_audit_or_output(host, engine_double):
    _, lines, sink = send(host, [
        {"id": "0", "cmdlet": "Move-CsLegacyUser", "params": {"Identity": "Ken Myer", "Target": "pool02"},
         "pass_credential": True},
        {"id": "1", "cmdlet": "Get-CsUser", "params": {"Identity": "Ken Myer"}}],
        credential=("CONTOSO\\lyncadmin", "Pa$$w0rd!"))
    moved, audit = engine_double.calls[0][1], engine_double.calls[0][2]
    assert moved["Credential"].password == "Pa$$w0rd!"
    assert audit["Credential"] == {"UserName": "CONTOSO\\lyncadmin", "Password": "***"}
    assert "Credential" not in engine_double.calls[1][1]
    assert "Pa$$w0rd!" not in sink.stdout_text + sink.stderr_text


def test_nested_objects_become_hashtables_and_values_are_normalised(host, engine_double, monkeypatch):
    seen = {}

    def invoke(ctx, cmdlet, params, audit_params=None):
        seen.update(params)
        return [{"TimeCreated": None, "Id": 32178, "Keywords": ["Classic", "x"], "Nested": {"a": 1}, "Ok": True}]

    monkeypatch.setattr("lync_lab.engine.invoke", invoke)
    _, lines, _ = send(host, [{"id": "e", "cmdlet": "Get-WinEvent",
                               "params": {"FilterHashtable": {"LogName": "Lync Server", "Level": 2}, "MaxEvents": 5}}])
    assert seen["FilterHashtable"] == [{"LogName": "Lync Server", "Level": 2}]
    assert seen["MaxEvents"] == 5
    assert lines[1]["objects"] == [{"TimeCreated": None, "Id": 32178, "Keywords": ["Classic", "x"],
                                    "Nested": "@{a=1}", "Ok": True}]


def test_lync_module_missing_on_an_ocs_server_is_fatal(host, engine_double):
    engine_double.lync_installed = False
    code, lines, _ = send(host, [{"id": "0", "cmdlet": "Get-CsUser", "params": {}}])
    assert code == 1
    assert lines == [{"fatal": {
        "message": "The specified module 'Lync' was not loaded because no valid module file was found in any module directory.",
        "fqid": "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand",
        "category": "ResourceUnavailable", "target": "Lync", "exception": "System.IO.FileNotFoundException",
        "transient": True}}]
    assert engine_double.calls == []


def test_modules_outside_the_envelopes_list_are_refused(host):
    code, lines, _ = send(host, [], modules=["ActiveDirectory"])
    assert code == 1 and lines[0]["fatal"]["message"] == "module not allowed: ActiveDirectory"
