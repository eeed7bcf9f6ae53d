"""The collection's envelope, sent exactly as the collection sends it, executed by the lab."""

from __future__ import annotations

import base64
import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from lync_lab.powershell.envelope import KNOWN_ENVELOPE_SHA256, KNOWN_LOADER_SHA256, envelope_sha256
from lync_lab.powershell.values import EnumValue, XElementValue

from conftest import run

ROOT = Path(__file__).resolve().parents[3]
# The collection's envelope module, imported as a module of its package (it has relative imports).
_IMPORTER = ROOT / "lab/tests/powershell/collection_envelope.py"
_spec = importlib.util.spec_from_file_location("collection_envelope", _IMPORTER)
_importer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_importer)
collection = _importer.envelope


def send(host, calls, modules=("Lync",), credential=None, min_ps=None):
    exe, args = collection.command_line()
    request = {"v": 1, "modules": list(modules), "calls": calls}
    if min_ps:
        request["min_ps"] = min_ps
    if credential:
        request["credential"] = {"username": credential[0], "password": credential[1]}
    stdin = collection.encode_request(request)
    code, sink = run(host, " ".join([exe] + args), stdin)
    lines = [json.loads(line) for line in sink.stdout_text.splitlines()]
    return code, lines, sink


def test_lab_accepts_the_collections_current_envelope():
    assert envelope_sha256(collection.ENVELOPE_SCRIPT) in KNOWN_ENVELOPE_SHA256
    assert envelope_sha256(collection.LOADER_SCRIPT) in KNOWN_LOADER_SHA256


def on_powershell_2(host, monkeypatch):
    """The host as a Windows Server 2008 R2 box with its own PowerShell 2.0."""
    monkeypatch.setattr(host, "server", dataclasses.replace(
        host.server, host=dataclasses.replace(host.server.host, powershell="2.0")))


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
        "transient": False}}]
    assert engine_double.calls == []


def test_modules_outside_the_envelopes_list_are_refused(host):
    code, lines, _ = send(host, [], modules=["ActiveDirectory"])
    assert code == 1 and lines[0]["fatal"]["message"] == "module not allowed: ActiveDirectory"


def test_typed_results_travel_as_values_not_property_bags(host, engine_double, monkeypatch):
    """Get-CsAdForest returns an LcForestSettingsState (office-docs-powershell Get-CsAdForest.md, OUTPUTS) and
    Get-CsTopology -AsXml an XElement (Publish-CsTopology.md types -Document as System.Xml.Linq.XElement and
    converts the result with .ToString()). The envelope's S function returns such objects as their value: the
    enum's name, the XML text, never their members (value__, FirstAttribute, ...)."""
    forest = EnumValue("Microsoft.Rtc.Management.Deployment.LcForestSettingsState", "LC_FORESTSETTINGS_STATE_READY", 1)
    tree = XElementValue('<Topology xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008" />')
    results = {"Get-CsAdForest": [forest], "Get-CsTopology": [tree],
               "Get-CsPool": [{"Identity": "pool02.contoso.net", "State": forest, "Doc": tree, "N": 3}]}
    monkeypatch.setattr("lync_lab.engine.invoke", lambda ctx, cmdlet, params, audit_params=None: results[cmdlet])
    _, lines, _ = send(host, [{"id": "0", "cmdlet": "Get-CsAdForest", "params": {}},
                              {"id": "1", "cmdlet": "Get-CsTopology", "params": {"AsXml": True}},
                              {"id": "2", "cmdlet": "Get-CsPool", "params": {}}])
    assert lines[1]["objects"] == ["LC_FORESTSETTINGS_STATE_READY"]
    assert lines[2]["objects"] == [tree.text]
    assert lines[3]["objects"] == [{"Identity": "pool02.contoso.net", "State": "LC_FORESTSETTINGS_STATE_READY",
                                    "Doc": tree.text, "N": 3}]


def test_a_host_older_than_the_request_needs_is_refused_before_any_module_or_call(host, engine_double, monkeypatch):
    """The Lync Server 2013 Management Shell needs Windows PowerShell 3.0 (OfficeDocs-SkypeForBusiness
    Lync/LyncServer/lync-server-2013-additional-software-requirements.md: WMF 3.0 on Windows Server 2008 R2 SP1).
    The envelope compares $PSVersionTable.PSVersion with the request's min_ps first: a fatal line, no import."""
    on_powershell_2(host, monkeypatch)
    code, lines, _ = send(host, [{"id": "0", "cmdlet": "Move-CsLegacyUser", "params": {"Identity": "Ken Myer",
                                                                                      "Target": "pool02"}}],
                          min_ps="3.0")
    assert code == 1
    assert lines == [{"fatal": {"message": "Windows PowerShell 2.0 is older than 3.0", "fqid": "PowerShellVersionTooOld",
                                "category": "NotInstalled", "target": "2.0", "exception": "", "transient": False},
                      "ps": "2.0", "computer": "FE01"}]
    assert engine_double.calls == [] and host.lab.latency.imports == []


def test_the_ready_line_says_the_hosts_powershell_version(host, engine_double, monkeypatch):
    on_powershell_2(host, monkeypatch)
    code, lines, _ = send(host, [{"id": "0", "cmdlet": "Get-Service", "params": {"Name": "RTCSRV"}}], modules=())
    assert code == 0 and lines[0] == {"ready": True, "computer": "FE01", "ps": "2.0"}


def test_a_script_other_than_the_known_envelope_is_not_run_by_the_loader(host, engine_double):
    exe, args = collection.command_line()
    other = base64.b64encode(b"Remove-CsUser -Identity *") + b"\r\n"
    code, sink = run(host, " ".join([exe] + args), other + collection.encode_request({"v": 1}).split(b"\r\n")[1])
    assert code == 1 and "LabUnknownEnvelope" in sink.stderr_text
    assert engine_double.calls == []
