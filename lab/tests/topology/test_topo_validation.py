"""Publish-CsTopology validates the Lync Server 2013 part of a document as Topology Builder writes it.

Element and attribute names: a real Topology Builder export (the one in the public code index, Skype for Business
Server 2015, ServiceVersion 8): every Machine carries NetInterface InterfaceSide/InterfaceNumber/IPAddress, every
service a Ports element of the ServiceRoles namespace with Port Owner/Usage/InterfaceSide/InterfaceNumber/Port/
Protocol/UrlPath/AuthorizesRequests, the Registrar a SipServer port. Publish-CsTopology.md
(MicrosoftDocs/office-docs-powershell, skype/skype-ps/SkypeForBusiness) says the store validates a published
topology; which rules Topology Builder applies is not published, so the rules here are the lab's reading of what
exports always carry (each message's wording is the lab's). BackCompatSite (written by Merge-CsLegacyTopology for
OCS 2007 R2) is not checked.
"""

from __future__ import annotations

import re

import pytest

PRIMARY = '<NetInterface InterfaceSide="Primary" InterfaceNumber="1" IPAddress="0.0.0.0" />'
EXTERNAL = '<NetInterface InterfaceSide="External" InterfaceNumber="1" IPAddress="0.0.0.0" />'


def _registrar_ports_emptied(xml: str) -> str:
    return re.sub(r'(<ServiceId SiteId="1" RoleName="Registrar" Instance="1" />.*?)<sr:Ports>.*?</sr:Ports>',
                  r"\1<sr:Ports />", xml, count=1, flags=re.S)


def _skeleton(xml: str) -> str:
    """What the Phase 3 template used to publish: no NetInterface, every Ports element empty."""
    xml = re.sub(r"\s*<NetInterface [^>]*/>", "", xml)
    return re.sub(r"<sr:Ports>.*?</sr:Ports>", "<sr:Ports />", xml, flags=re.S)


def _conflicting_port(xml: str) -> str:
    port = ('<sr:Port Owner="urn:component:Rogue" Usage="SipServer" InterfaceSide="Primary" InterfaceNumber="1" '
            'Port="5061" Protocol="Mtls" UrlPath="/" AuthorizesRequests="false" />')
    return re.sub(r'(<ServiceId SiteId="1" RoleName="ConfServices" Instance="1" />.*?<sr:Ports>)', r"\1" + port,
                  xml, count=1, flags=re.S)


@pytest.mark.parametrize("mutate, reason", [
    (lambda x: x.replace(PRIMARY, "", 1), "has no Primary NetInterface"),
    (lambda x: x.replace(EXTERNAL, "", 1), "on the External interface 1, which lync-fe01.contoso.net does not have"),
    (lambda x: x.replace('IPAddress="0.0.0.0"', 'IPAddress="any"', 1), "is not an IPv4 address"),
    (_registrar_ports_emptied, "the Registrar has no SipServer port"),
    (_registrar_ports_emptied, "the Ports element lists no Port"),
    (lambda x: x.replace('RoleVersion="1" ServiceVersion="6"', 'RoleVersion="1" ServiceVersion="5"', 1),
     "is not Lync Server 2013's (6)"),
    (lambda x: x.replace('Protocol="Mtls"', 'Protocol="Sip"', 1), "Protocol 'Sip'"),
    (lambda x: x.replace('Port="5061" Protocol="Mtls"', 'Port="70000" Protocol="Mtls"', 1), "is not a port number"),
    (lambda x: re.sub(r' Owner="urn:component:Registrar"', "", x, count=1), "a Port lacks Owner"),
    (_conflicting_port, "Port 5061 (Mtls, Primary interface) is already used by"),
    (_skeleton, "has no Primary NetInterface"),
])
def test_publish_refuses_what_topology_builder_never_writes(fe, mutate, reason):
    sh = fe(5)
    xml = str(sh("Get-CsTopology", AsXml=True)[0])
    bad = mutate(xml)
    assert bad != xml
    sh("Set-Content", Path="C:\\bad.xml", Value=bad)
    err = sh.fails("Publish-CsTopology", FileName="C:\\bad.xml")
    assert "TopologyValidationFailed" in err.fqid
    assert reason in err.message, err.message
    assert str(sh("Get-CsTopology", AsXml=True)[0]) == xml


def test_the_skeleton_lists_every_missing_part(fe):
    sh = fe(4)
    sh("Set-Content", Path="C:\\bad.xml", Value=_skeleton(str(sh("Get-CsTopology", AsXml=True)[0])))
    message = sh.fails("Publish-CsTopology", FileName="C:\\bad.xml").message
    for role in ("UserServices", "WebServices", "Registrar", "ConfServices", "ApplicationServer", "MediationServer"):
        assert f"Service {role} 1-1: the Ports element lists no Port" in message
    assert "Machine lync-sql01.contoso.net has no Primary NetInterface" in message


def test_web_ports_share_one_port_by_url_path_and_media_ranges_by_owner(fe):
    """The export itself lists several WebServer ports on 444 (UrlPath /LiveServer/Focus/, /LiveServer/IMMcu/...)
    and MediaComp's ranges under several services: none of that is a conflict."""
    sh = fe(4)
    xml = str(sh("Get-CsTopology", AsXml=True)[0])
    assert xml.count('Port="444" Protocol="Mtls"') >= 5 and xml.count('Owner="urn:component:MediaComp"') >= 3
    sh("Set-Content", Path="C:\\same.xml", Value=xml.replace("<Name>Redmond</Name>", "<Name>Seattle</Name>"))
    sh("Publish-CsTopology", FileName="C:\\same.xml")
    assert [s["Identity"] for s in sh("Get-CsSite")] == ["Site:Seattle"]


def test_backcompat_site_is_not_held_to_lync_2013_rules(fe):
    """Merge-CsLegacyTopology writes the OCS 2007 R2 pools without NetInterface or ports (ServiceVersion 4)."""
    xml = str(fe(5)("Get-CsTopology", AsXml=True)[0])
    legacy = re.search(r'<Cluster [^>]*Fqdn="pool01\.contoso\.net">.*?</Cluster>', xml, flags=re.S).group(0)
    assert "NetInterface" not in legacy
    assert 'ServiceVersion="4"' in xml
