"""The topology document: per-stage contents, round trip through a file, and what Publish-CsTopology refuses."""

from __future__ import annotations

import re

import pytest

from lync_lab.model.topology import find_pool

NS = 'xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008"'


def pools(sh) -> dict[str, dict]:
    return {p["Fqdn"]: p for p in sh("Get-CsPool")}


@pytest.mark.parametrize("stage", [1, 3])
def test_before_phase_3_lync_cmdlets_do_not_exist_on_the_pilot_server(fe, stage):
    err = fe(stage).fails("Get-CsPool")
    assert "is not recognized" in err.message


def test_stage_4_has_only_the_pilot_pool_with_the_cms(fe):
    sh = fe(4)
    got = pools(sh)
    assert "pool01.contoso.net" not in got            # the legacy topology is not merged yet
    pool02 = got["pool02.contoso.net"]
    assert pool02["Site"] == "Site:Redmond"
    assert pool02["Computers"] == ["lync-fe01.contoso.net"]
    assert "Registrar:pool02.contoso.net" in pool02["Services"]
    assert "CentralManagement:pool02.contoso.net" in pool02["Services"]
    assert [s["Identity"] for s in sh("Get-CsSite")] == ["Site:Redmond"]
    with sh.tx() as tx:
        assert find_pool(tx, "pool01.contoso.net") is None
        assert find_pool(tx, "POOL02.Contoso.NET")["registrar"] is True


def test_stage_5_shows_the_legacy_pool_and_edge_in_backcompatsite(fe):
    sh = fe(5)
    got = pools(sh)
    assert got["pool01.contoso.net"]["Site"] == "Site:BackCompatSite"
    assert got["pool01.contoso.net"]["Computers"] == ["ocs-fe01.contoso.net"]
    assert got["ocs-edge01.contoso.net"]["Site"] == "Site:BackCompatSite"
    with sh.tx() as tx:
        legacy = find_pool(tx, "pool01.contoso.net")
    assert legacy["legacy"] is True and legacy["registrar"] is True
    edge = sh("Get-CsService", EdgeServer=True)
    assert [e["Identity"] for e in edge] == ["EdgeServer:ocs-edge01.contoso.net"]
    assert edge[0]["DataEdgeExternalFqdn"] == "webconf.contoso.net"   # what the custom Edge input file gives
    assert edge[0]["AccessEdgeExternalFqdn"] is None
    assert edge[0]["Version"] == 4


def test_federation_route_follows_the_phases(fe):
    def route(stage):
        return next(s for s in fe(stage)("Get-CsSite") if s["Identity"] == "Site:Redmond")["FederationRoute"]

    assert route(5) is None
    assert route(6) == "EdgeServer:ocs-edge01.contoso.net"
    assert route(9) == "EdgeServer:edgepool02.contoso.net"


def test_stage_11_has_no_backcompatsite(fe):
    sh = fe(11)
    assert [s["Identity"] for s in sh("Get-CsSite")] == ["Site:Redmond"]
    assert "pool01.contoso.net" not in pools(sh)


def test_round_trip_through_a_file_changes_the_published_topology(fe):
    sh = fe(5)
    xml = str(sh("Get-CsTopology", AsXml=True)[0])
    assert NS in xml
    # An admin adds a second computer to the pilot pool and publishes the edited document.
    # Topology Builder writes the computer with its network interfaces (the pool's web services listen on the
    # External side too).
    second = ('<Machine OrdinalInCluster="2" Fqdn="lync-fe02.contoso.net" FaultDomain="lync-fe02.contoso.net" '
              'UpgradeDomain="lync-fe02.contoso.net">'
              '<NetInterface InterfaceSide="Primary" InterfaceNumber="1" IPAddress="0.0.0.0" />'
              '<NetInterface InterfaceSide="External" InterfaceNumber="1" IPAddress="0.0.0.0" /></Machine>')
    edited = re.sub(r'(<Machine OrdinalInCluster="1" Fqdn="lync-fe01\.contoso\.net".*?</Machine>)',
                    lambda m: m.group(1) + second, xml, count=1, flags=re.S)
    assert edited != xml
    sh("Set-Content", Path="C:\\Topology\\topo.xml", Value=edited)
    sh("Publish-CsTopology", FileName="C:\\Topology\\topo.xml")
    assert pools(sh)["pool02.contoso.net"]["Computers"] == ["lync-fe01.contoso.net", "lync-fe02.contoso.net"]
    assert sh("Get-CsComputer", Identity="lync-fe02.contoso.net")[0]["Pool"] == "pool02.contoso.net"
    # published, not yet enabled
    with sh.tx() as tx:
        assert find_pool(tx, "pool02.contoso.net")["enabled"] is True
        assert tx.get("topology", "cms")["enabled_xml"] != tx.get("topology", "cms")["xml"]
    sh("Enable-CsTopology")
    with sh.tx() as tx:
        assert tx.get("topology", "cms")["enabled_xml"] == tx.get("topology", "cms")["xml"]


def test_publish_whatif_changes_nothing(fe):
    sh = fe(5)
    xml = str(sh("Get-CsTopology", AsXml=True)[0])
    sh("Set-Content", Path="t.xml", Value=xml.replace("<Name>Redmond</Name>", "<Name>Seattle</Name>"))
    out = sh("Publish-CsTopology", FileName="t.xml", WhatIf=True)
    assert out[0]["WhatIf"].startswith('What if: Performing operation "Publish-CsTopology"')
    assert pools(sh)["pool02.contoso.net"]["Site"] == "Site:Redmond"


@pytest.mark.parametrize("mutate, reason", [
    (lambda x: x[:-30], "not well-formed"),
    (lambda x: x.replace('Fqdn="pool02.contoso.net"', 'Fqdn="pool01.contoso.net"'), "used more than once"),
    (lambda x: x.replace('IsActive="true"', 'IsActive="false"'), "Central Management Server location"),
    (lambda x: x.replace('RoleName="Registrar" Instance="1"', 'RoleName="Registar" Instance="1"', 1),
     "unknown RoleName"),
    (lambda x: re.sub(r"<ClusterId SiteId=\"1\" Number=\"2\" />", '<ClusterId SiteId="7" Number="2" />', x, count=1),
     "names no site"),
    (lambda x: x.replace("<InternalDomains", "<InternalDomainz").replace("</InternalDomains>", "</InternalDomainz>"),
     "InternalDomains element is missing"),
])
def test_publish_refuses_invalid_documents_and_keeps_the_old_topology(fe, mutate, reason):
    sh = fe(5)
    xml = str(sh("Get-CsTopology", AsXml=True)[0])
    sh("Set-Content", Path="C:\\bad.xml", Value=mutate(xml))
    err = sh.fails("Publish-CsTopology", FileName="C:\\bad.xml")
    assert reason in err.message
    assert "TopologyValidationFailed" in err.fqid
    assert str(sh("Get-CsTopology", AsXml=True)[0]) == xml


def test_publish_refuses_to_drop_a_pool_that_homes_conference_directories(fe):
    sh = fe(10)
    xml = str(sh("Get-CsTopology", AsXml=True)[0])
    # Topology Builder's "delete BackCompatSite" while directory 3 is still on pool01
    cut = re.sub(r"\s*<BackCompatSite.*?</BackCompatSite>", "", xml, flags=re.S)
    cut = re.sub(r'\s*<Cluster RequiresReplication="false" RequiresSetup="false" Fqdn="(pool01|ocs-[a-z0-9]+)\.contoso\.net">.*?</Cluster>', "", cut, flags=re.S)
    cut = re.sub(r'\s*<Service [^>]*>\s*<ServiceId SiteId="2".*?</Service>', "", cut, flags=re.S)
    sh("Set-Content", Path="cut.xml", Value=cut)
    err = sh.fails("Publish-CsTopology", FileName="cut.xml")
    assert "conference directories 3" in err.message
    sh("Move-CsConferenceDirectory", Identity="3", TargetPool="pool02.contoso.net")
    sh("Publish-CsTopology", FileName="cut.xml")
    assert [s["Identity"] for s in sh("Get-CsSite")] == ["Site:Redmond"]


def test_publish_cannot_move_the_cms(fe):
    sh = fe(5)
    xml = str(sh("Get-CsTopology", AsXml=True)[0])
    moved = re.sub(r'(<ServiceId SiteId="1" RoleName="CentralMgmt" Instance="1" />.*?<InstalledOn>\s*<ClusterId SiteId="1" Number=")2(")',
                   r"\g<1>1\2", xml, flags=re.S)
    assert moved != xml
    sh("Set-Content", Path="m.xml", Value=moved)
    assert "Move-CsManagementServer" in sh.fails("Publish-CsTopology", FileName="m.xml").message


def test_get_cs_service_by_role_and_pool(fe):
    sh = fe(5)
    regs = {s["Identity"] for s in sh("Get-CsService", Registrar=True)}
    assert regs == {"Registrar:pool02.contoso.net", "Registrar:pool01.contoso.net"}
    apps = sh("Get-CsService", ApplicationServer=True, PoolFqdn="pool02.contoso.net")
    assert [a["Identity"] for a in apps] == ["ApplicationServer:pool02.contoso.net"]
    assert apps[0]["Registrar"] == "Registrar:pool02.contoso.net"
    assert sh.fails("Get-CsPool", Identity="pool99.contoso.net").category == "ObjectNotFound"
