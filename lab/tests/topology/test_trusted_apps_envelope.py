"""Trusted application pools, applications and static routes through the collection's envelope on a real lab:
the binder, the envelope's named results ({"result_of": ...}) and expand, and the cmdlets' documented changes."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

import pytest

from conftest import ADMIN

ROOT = Path(__file__).resolve().parents[3]
# The collection's envelope module, imported as a module of its package (it has relative imports).
_IMPORTER = ROOT / "lab/tests/powershell/collection_envelope.py"
_spec = importlib.util.spec_from_file_location("collection_envelope", _IMPORTER)
_importer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_importer)
collection = _importer.envelope


class _Sink:
    def __init__(self):
        self.out = []

    def stdout(self, text):
        self.out.append(text)

    def stderr(self, text):
        self.out.append(text)


class _Stdin:
    def __init__(self, data):
        self.data = data

    def read(self):
        data, self.data = self.data, b""
        return data


@pytest.fixture
def send(lab_at):
    lab = lab_at(9)
    runtime = lab.runtime_for(lab.server("lync-fe01.contoso.net"))

    def call(*calls):
        request = collection.build_request(list(calls))
        sink = _Sink()
        exe, args = collection.command_line()
        runtime.run(ADMIN, " ".join([exe] + args), _Stdin(collection.encode_request(request)), sink)
        lines = [json.loads(line) for line in "".join(sink.out).splitlines() if line.strip()]
        return [line for line in lines if "id" in line]

    return call


def _route(match_uri="*@contoso.net", destination="rcc-gw01.contoso.net", name="route"):
    return collection.Call("New-CsStaticRoute", {"TLSRoute": True, "Destination": destination, "Port": 5065,
                                                 "MatchUri": match_uri, "UseDefaultCertificate": True}, name=name)


def test_a_route_made_by_new_csstaticroute_reaches_the_configuration_by_name(send):
    results = send(_route(), collection.Call("Set-CsStaticRoutingConfiguration", {
        "Identity": "Global", "Route": {"Add": collection.result_of("route")}}))
    assert [r["ok"] for r in results] == [True, True], results
    routes = send(collection.Call("Get-CsStaticRoutingConfiguration", {"Identity": "Global"}, expand="Route"))[0]
    assert routes["objects"] == [{
        "Transport": {"TransportType": "TLS", "Fqdn": "rcc-gw01.contoso.net", "Port": 5065,
                      "UseDefaultCertificate": True},
        "MatchUri": "*@contoso.net", "MatchOnlyPhoneUri": False, "Enabled": True, "ReplaceHostInRequestUri": False,
        "TLSCertIssuer": None, "TLSCertSerialNumber": None}]
    # Without expand the collection travels as strings, as before.
    whole = send(collection.Call("Get-CsStaticRoutingConfiguration"))[0]["objects"][0]
    assert isinstance(whole["Route"][0], str)
    removed = send(_route(), collection.Call("Set-CsStaticRoutingConfiguration", {
        "Route": {"Remove": collection.result_of("route")}}))
    assert [r["ok"] for r in removed] == [True, True]
    assert send(collection.Call("Get-CsStaticRoutingConfiguration", expand="Route"))[0]["objects"] == []


def test_a_reference_to_a_result_no_earlier_call_named_is_that_calls_error(send):
    results = send(collection.Call("Set-CsStaticRoutingConfiguration", {"Route": {"Add": collection.result_of("r")}}))
    assert results[0]["ok"] is False and results[0]["error"]["message"] == "no earlier result named r"


def test_trusted_application_pool_and_application_changes(send):
    new = send(
        collection.Call("New-CsTrustedApplicationPool", {
            "Identity": "cas01.contoso.net", "Registrar": "pool02.contoso.net", "Site": "Redmond",
            "ComputerFqdn": "cas01.contoso.net", "RequiresReplication": False, "ThrottleAsServer": True,
            "TreatAsAuthenticated": True}),
        collection.Call("New-CsTrustedApplication", {"ApplicationId": "owa", "TrustedApplicationPoolFqdn":
                                                     "cas01.contoso.net", "Port": 5199}),
        collection.Call("New-CsTrustedApplication", {"ApplicationId": "other", "TrustedApplicationPoolFqdn":
                                                     "cas01.contoso.net", "Port": 5200}))
    assert [r["ok"] for r in new] == [True, True, True], new
    clash = send(collection.Call("Set-CsTrustedApplication", {"Identity": "cas01.contoso.net/urn:application:other",
                                                               "Port": 5199}))[0]
    assert clash["ok"] is False and "Port 5199 is already used by cas01.contoso.net/urn:application:owa" in \
        clash["error"]["message"]
    changed = send(
        collection.Call("Set-CsTrustedApplication", {"Identity": "cas01.contoso.net/urn:application:other", "Port": 5201}),
        collection.Call("Set-CsTrustedApplicationPool", {"Identity": "TrustedApplicationPool:cas01.contoso.net",
                                                          "TreatAsAuthenticated": False, "RequiresReplication": True}),
        collection.Call("Remove-CsTrustedApplication", {"Identity": "cas01.contoso.net/urn:application:owa"}),
        collection.Call("Get-CsTrustedApplication"),
        collection.Call("Get-CsTrustedApplicationPool", {"Identity": "cas01.contoso.net"}))
    assert [r["ok"] for r in changed] == [True] * 5, changed
    assert [(a["Identity"], a["Port"]) for a in changed[3]["objects"]] == [
        ("cas01.contoso.net/urn:application:other", 5201)]
    pool = changed[4]["objects"][0]
    assert pool["TreatAsAuthenticated"] is False and pool["RequiresReplication"] is True
    assert pool["ThrottleAsServer"] is True
    gone = send(collection.Call("Remove-CsTrustedApplication", {"Identity": "cas01.contoso.net/urn:application:owa"}))
    assert gone[0]["ok"] is False and gone[0]["error"]["category"] == "ObjectNotFound"


def test_a_tls_route_without_a_certificate_is_refused(send):
    result = send(collection.Call("New-CsStaticRoute", {"TLSRoute": True, "Destination": "gw.contoso.net",
                                                        "Port": 5061, "MatchUri": "pbx.contoso.net"}))[0]
    assert result["ok"] is False and "-UseDefaultCertificate $true" in result["error"]["message"]
