"""cs_trusted_application and cs_static_route against the rehearsal lab (contoso-small at stage 9, after Phase 8):
what they create, correct and remove, what check mode plans without changing anything, the second run's
changed=false, and the refusals that name the option at fault."""

import json

import pytest

from ansible_collections.lync.migration.plugins.modules import cs_static_route, cs_trusted_application

from module_runner import run_module

lync_lab = pytest.importorskip("lync_lab")

PASSWORD = "Lab-Passw0rd!"
PILOT, LEGACY = "pool02.contoso.net", "pool01.contoso.net"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A lab of its own on free ports (lync_lab.instance.LabInstance: every server of the scenario moves by one
    offset), so it never collides with another lab."""
    from lync_lab.instance import LabInstance

    root = tmp_path_factory.mktemp("lab9")
    with LabInstance(root / "state", stage=9, log=root / "lab.log") as instance:
        yield {"port": instance.http_port, "state": instance.state_dir}


def _audit(lab):
    path = lab["state"] / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class Runner:
    def __init__(self, lab, monkeypatch):
        self.lab, self.monkeypatch = lab, monkeypatch

    def __call__(self, module, args, check_mode=False, diff=True):
        before = len(_audit(self.lab))
        connection = {"server": "127.0.0.1", "port": self.lab["port"], "scheme": "http",
                      "username": "CONTOSO\\lyncadmin", "password": PASSWORD}
        out = run_module(module, args, None, check_mode=check_mode, diff=diff, monkeypatch=self.monkeypatch,
                         connection=connection)
        changing = [e["cmdlet"] for e in _audit(self.lab)[before:]
                    if e.get("cmdlet") and e["cmdlet"].split("-")[0] not in ("Get", "Test")]
        return out, changing


@pytest.fixture
def run(lab, monkeypatch):
    return Runner(lab, monkeypatch)


OWA = {"fqdn": "cas01.contoso.net", "registrar": PILOT, "site": "Redmond", "throttle_as_server": True,
       "treat_as_authenticated": True, "requires_replication": False,
       "applications": [{"application_id": "owa", "port": 5199}]}


def test_trusted_application_pool_check_create_rerun_change_remove(run):
    out, changing = run(cs_trusted_application, OWA, check_mode=True)
    assert out["changed"] is True and changing == []
    assert [c["cmdlet"] for c in out["calls"]] == ["New-CsTrustedApplicationPool", "New-CsTrustedApplication",
                                                   "Enable-CsTopology"]
    assert out["pool"] is None and out["diff"]["after"]["pool"]["registrar"] == PILOT

    out, changing = run(cs_trusted_application, OWA)
    assert changing == ["New-CsTrustedApplicationPool", "New-CsTrustedApplication", "Enable-CsTopology"], out
    assert out["pool"] == {"fqdn": "cas01.contoso.net", "registrar": PILOT, "site": "Site:Redmond",
                           "throttle_as_server": True, "treat_as_authenticated": True, "requires_replication": False}
    assert [(a["identity"], a["port"], a["protocol"]) for a in out["applications"]] == [
        ("cas01.contoso.net/urn:application:owa", 5199, "Mtls")]
    assert out["diff"]["before"]["pool"] is None

    out, changing = run(cs_trusted_application, OWA)
    assert out["changed"] is False and changing == []

    moved = dict(OWA, treat_as_authenticated=False, applications=[{"application_id": "owa", "port": 5200}])
    out, changing = run(cs_trusted_application, moved)
    assert changing == ["Set-CsTrustedApplicationPool", "Set-CsTrustedApplication", "Enable-CsTopology"]
    assert out["pool"]["treat_as_authenticated"] is False and out["applications"][0]["port"] == 5200

    out, changing = run(cs_trusted_application, {"fqdn": "cas01.contoso.net", "state": "absent"})
    assert changing == ["Remove-CsTrustedApplicationPool", "Enable-CsTopology"]
    assert out["pool"] is None and out["applications"] == []
    out, changing = run(cs_trusted_application, {"fqdn": "cas01.contoso.net", "state": "absent"})
    assert out["changed"] is False and changing == []


def test_an_rcc_gateway_over_tcp_and_a_port_already_taken(run):
    gateway = {"fqdn": "rcc-gw01.contoso.net", "registrar": PILOT,
               "applications": [{"application_id": "rcc", "port": 5060, "enable_tcp": True}]}
    out, changing = run(cs_trusted_application, gateway)
    assert changing[:2] == ["New-CsTrustedApplicationPool", "New-CsTrustedApplication"]
    assert out["pool"]["site"] == "Site:Redmond"   # the registrar's site
    assert out["applications"][0]["protocol"] == "Tcp"

    clash = dict(gateway, applications=gateway["applications"] + [{"application_id": "other", "port": 5060}])
    out, changing = run(cs_trusted_application, clash)
    assert out["failed"] and changing == []
    assert out["msg"].startswith("applications[1].port: port 5060 is also given to rcc")

    taken = dict(gateway, applications=[{"application_id": "other", "port": 5060}])
    out, changing = run(cs_trusted_application, taken)
    assert out["failed"] and changing == [] and out["field"] == "applications[0].port"
    assert "already used by rcc-gw01.contoso.net/urn:application:rcc" in out["msg"]

    # TLS instead of TCP: Set-CsTrustedApplication cannot change it, so the application is made again.
    out, changing = run(cs_trusted_application, dict(gateway, applications=[{"application_id": "rcc", "port": 5061}]))
    assert changing == ["Remove-CsTrustedApplication", "New-CsTrustedApplication", "Enable-CsTopology"]
    assert out["applications"][0]["protocol"] == "Mtls"


@pytest.mark.parametrize("args, field, words", [
    ({"registrar": LEGACY}, "registrar", "is an OCS 2007 R2 pool (BackCompatSite)"),
    ({"registrar": "lync-sql01.contoso.net"}, "registrar", "is not a Lync Server 2013 Registrar pool"),
    ({"registrar": PILOT, "site": "Dallas"}, "site", "no site Dallas in the topology; sites: Redmond, BackCompatSite"),
    ({"registrar": PILOT, "site": "BackCompatSite"}, "site", "cannot be created in BackCompatSite"),
    ({}, "registrar", "required to create the trusted application pool"),
])
def test_refusals_name_the_option_and_change_nothing(run, args, field, words):
    out, changing = run(cs_trusted_application, dict({"fqdn": "app01.contoso.net"}, **args))
    assert out["failed"] and out["field"] == field and words in out["msg"], out["msg"]
    assert changing == []


RCC_ROUTE = {"match_uri": "pbx.contoso.net", "destination": "rcc-gw01.contoso.net", "destination_port": 5065}


def test_static_route_check_create_rerun_change_remove(run):
    out, changing = run(cs_static_route, RCC_ROUTE, check_mode=True)
    assert out["changed"] is True and changing == [] and out["route"] is None
    assert [c["cmdlet"] for c in out["calls"]] == ["New-CsStaticRoute", "Set-CsStaticRoutingConfiguration"]

    out, changing = run(cs_static_route, RCC_ROUTE)
    assert changing == ["New-CsStaticRoute", "Set-CsStaticRoutingConfiguration"]
    assert out["route"] == {"match_uri": "pbx.contoso.net", "destination": "rcc-gw01.contoso.net",
                            "destination_port": 5065, "protocol": "tls", "enabled": True, "match_only_phone_uri": False,
                            "replace_host_in_request_uri": False}
    out, changing = run(cs_static_route, RCC_ROUTE)
    assert out["changed"] is False and changing == []

    out, changing = run(cs_static_route, dict(RCC_ROUTE, protocol="tcp", destination="192.168.0.240",
                                              destination_port=5060))
    # one swap: the old and the new route objects, then a single -Route @{Remove=...; Add=...}
    assert changing == ["New-CsStaticRoute", "New-CsStaticRoute", "Set-CsStaticRoutingConfiguration"]
    swap = out["calls"][-1]["params"]["Route"]
    assert sorted(swap) == ["Add", "Remove"]
    assert (out["route"]["protocol"], out["route"]["destination"], out["route"]["destination_port"]) == (
        "tcp", "192.168.0.240", 5060)
    assert out["diff"]["before"]["protocol"] == "tls"

    out, changing = run(cs_static_route, {"match_uri": "PBX.contoso.net", "state": "absent"})
    assert changing == ["New-CsStaticRoute", "Set-CsStaticRoutingConfiguration"] and out["route"] is None
    out, changing = run(cs_static_route, {"match_uri": "pbx.contoso.net", "state": "absent"})
    assert out["changed"] is False and changing == []


def test_static_route_refuses_a_port_out_of_range(run):
    out, changing = run(cs_static_route, dict(RCC_ROUTE, destination_port=70000))
    assert out["failed"] and out["field"] == "destination_port" and changing == []


def test_a_route_bound_to_a_named_certificate_is_left_alone(lab, run):
    from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call, result_of
    from ansible_collections.lync.migration.plugins.module_utils.lync.client import LyncClient
    from ansible_collections.lync.migration.plugins.module_utils.lync.module import CONNECTION_ARGUMENT_SPEC
    from ansible_collections.lync.migration.plugins.module_utils.lync.connection import ConnectionOptions

    params = dict((k, v.get("default")) for k, v in CONNECTION_ARGUMENT_SPEC.items())
    params.update(server="127.0.0.1", port=lab["port"], scheme="http", username="CONTOSO\\lyncadmin", password=PASSWORD)
    client = LyncClient(ConnectionOptions.from_params(params))
    try:
        results = client.run_calls([
            Call("New-CsStaticRoute", {"TLSRoute": True, "Destination": "gw2.contoso.net", "Port": 5061,
                                       "MatchUri": "certs.contoso.net", "TLSCertIssuer": "CN=Contoso CA",
                                       "TLSCertSerialNumber": [1, 2, 3]}, name="r"),
            Call("Set-CsStaticRoutingConfiguration", {"Route": {"Add": result_of("r")}})])
    finally:
        client.close()
    assert all(r.ok for r in results), results
    out, changing = run(cs_static_route, {"match_uri": "certs.contoso.net", "destination": "gw3.contoso.net",
                                          "destination_port": 5061})
    assert out["failed"] and out["field"] == "match_uri" and "CN=Contoso CA" in out["msg"] and changing == []
