"""Phase 4 on the lab: Merge-CsLegacyTopology needs OCSWMIBC.msi, takes the Edges only from the input file, and
publishing its output gives the BackCompatSite the stage-5 lab starts with."""

from __future__ import annotations

from lync_lab.model import servers

# The custom Edge Server input file in Microsoft's format: Lync Server 2010 deployment documentation, "Create a
# Custom Edge Server Input File" (learn.microsoft.com/previous-versions/office/skype-server-2010/gg398097): a
# TopologyInput root in the LegacyUserInput.2008 namespace, EdgeCluster AP/MR/DP/Version, LoadBalancer,
# Machines/Machine, Ports, DirectorOrEdgeNextHop; the TopologyInput element is what triggers schema validation.
EDGE_INPUT = """<?xml version="1.0" encoding="utf-8"?>
<TopologyInput xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.LegacyUserInput.2008"
               xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <EdgeClusters>
    <EdgeCluster AP="true" MR="true" DP="true" Version="OCS2007R2" FederationEnabled="true">
      <LoadBalancer InternalFqdn="ocs-edge01.contoso.net" ExternalDPFqdn="webconf.contoso.net" />
      <Machines>
        <Machine InternalFqdn="ocs-edge01.contoso.net" />
      </Machines>
      <Ports InternalAPPort="5061" InternalDPPort="8057" ExternalDPPort="443" />
      <DirectorOrEdgeNextHop Fqdn="pool01.contoso.net" />
    </EdgeCluster>
  </EdgeClusters>
</TopologyInput>
"""

# The format this lab and the collection once invented (the wizard's fields as attributes): not Microsoft's file.
INVENTED_INPUT = """<TopologyInput xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.LegacyUserInput.2008">
  <EdgeClusters>
    <EdgeCluster EdgeType="SingleEdgeServer" InternalFqdn="ocs-edge01.contoso.net" NextHopFqdn="pool01.contoso.net">
      <Machine Fqdn="ocs-edge01.contoso.net" />
    </EdgeCluster>
  </EdgeClusters>
</TopologyInput>
"""


def install_wmibc(sh):
    with sh.tx() as tx:
        servers.install(tx, "lync-fe01.contoso.net", servers.product(servers.OCSWMIBC, "wmibc", "OCSWMIBC.msi"))


def test_merge_without_ocswmibc_fails_with_the_wmi_provider_error(fe):
    sh = fe(4)
    err = sh.fails("Merge-CsLegacyTopology", TopologyXmlFileName="C:\\merge\\merged.xml")
    assert "WMI provider" in err.message and "OCSWMIBC.msi" in err.message
    assert "Invalid class" in err.message
    assert "does not exist" in sh.fails("Get-Content", Path="C:\\merge\\merged.xml").message


def test_merge_and_publish_gives_the_stage_5_topology(fe):
    sh = fe(4)
    install_wmibc(sh)
    sh("Set-Content", Path="C:\\merge\\edges.xml", Value=EDGE_INPUT)
    sh("Merge-CsLegacyTopology", TopologyXmlFileName="C:\\merge\\merged.xml", UserInputFileName="C:\\merge\\edges.xml")
    # The merge writes a file; nothing changes until it is published.
    assert "pool01.contoso.net" not in {p["Fqdn"] for p in sh("Get-CsPool")}
    sh("Publish-CsTopology", FileName="C:\\merge\\merged.xml")
    sh("Enable-CsTopology")
    pools = {p["Fqdn"]: p for p in sh("Get-CsPool")}
    assert pools["pool01.contoso.net"]["Site"] == "Site:BackCompatSite"
    assert pools["ocs-edge01.contoso.net"]["Site"] == "Site:BackCompatSite"
    assert str(sh("Get-CsTopology", AsXml=True)[0]) == str(fe(5)("Get-CsTopology", AsXml=True)[0])


def test_merge_reads_edges_only_from_the_input_file(fe):
    sh = fe(4)
    install_wmibc(sh)
    sh("Merge-CsLegacyTopology", TopologyXmlFileName="merged.xml", Report="merge-report.xml")
    sh("Publish-CsTopology", FileName="merged.xml")
    assert sh("Get-CsService", EdgeServer=True) == []      # the legacy Edge is not discovered
    assert "No Edge Server was merged" in "\n".join(sh("Get-Content", Path="merge-report.xml"))
    assert "pool01.contoso.net" in {p["Fqdn"] for p in sh("Get-CsPool")}
    # the Edge as the admin describes it, whatever its FQDNs (the file's values are trimmed: the topic's own
    # example writes ExternalDPFqdn="ExternalDP.Fqdn " with a trailing space)
    sh("Set-Content", Path="edges.xml", Value=EDGE_INPUT.replace('"webconf.contoso.net"', '"meet.contoso.net "'))
    sh("Merge-CsLegacyTopology", TopologyXmlFileName="merged.xml", UserInputFileName="edges.xml")
    sh("Publish-CsTopology", FileName="merged.xml")
    edge = sh("Get-CsService", EdgeServer=True)
    assert [e["DataEdgeExternalFqdn"] for e in edge] == ["meet.contoso.net"]
    assert edge[0]["IsFederationEnabled"] is True and edge[0]["NextHopFqdn"] == "pool01.contoso.net"
    # the file has no Access Edge or A/V Edge external FQDN, so the merged legacy Edge has none either
    assert edge[0]["AccessEdgeExternalFqdn"] is None and edge[0]["AVEdgeExternalFqdn"] is None


def test_merge_refuses_an_expanded_edge_and_a_missing_input_file(fe):
    """Lync Server 2013 "Merge using Topology Builder Merge wizard" (OfficeDocs-SkypeForBusiness,
    Lync/LyncServer/merge-using-topology-builder-merge-wizard.md, step 5): an Expanded Edge is not supported and
    must first become a Single Edge Server or a Load-balanced consolidated Edge. In the input file an Expanded
    Edge's clusters each run only some Edge services (AP/MR/DP not all true). The wording is the lab's."""
    sh = fe(4)
    install_wmibc(sh)
    sh("Set-Content", Path="edges.xml", Value=EDGE_INPUT.replace('MR="true" DP="true"', 'MR="false" DP="true"'))
    err = sh.fails("Merge-CsLegacyTopology", TopologyXmlFileName="m.xml", UserInputFileName="edges.xml")
    assert "Expanded Edge" in err.message and "MR" in err.message
    assert "does not exist" in sh.fails("Get-Content", Path="m.xml").message
    err = sh.fails("Merge-CsLegacyTopology", TopologyXmlFileName="m.xml", UserInputFileName="nothere.xml")
    assert err.category == "ObjectNotFound" and "nothere.xml" in err.message


def test_files_are_per_server(lab_at, shell_on):
    lab = lab_at(5)
    fe01 = shell_on(lab, "lync-fe01.contoso.net")
    fe01("Set-Content", Path="C:\\x.txt", Value=["one", "two"])
    assert fe01("Get-Content", Path="c:\\X.TXT") == ["one", "two"]
    ocs = shell_on(lab, "ocs-fe01.contoso.net")
    assert ocs.fails("Get-Content", Path="C:\\x.txt").category == "ObjectNotFound"


def test_merge_rerun_leaves_out_uninstalled_ocs_servers(fe):
    sh = fe(10)
    with sh.tx() as tx:     # Phase 10 uninstalls OCS 2007 R2 from the legacy Front End
        doc = servers.get(tx, "ocs-fe01.contoso.net")
        doc["Products"] = [p for p in doc["Products"] if not p["Name"].startswith(servers.OCS_PREFIX)]
        servers.put(tx, doc)
    sh("Merge-CsLegacyTopology", TopologyXmlFileName="remerge.xml")
    xml = "\n".join(sh("Get-Content", Path="remerge.xml"))
    assert 'Fqdn="pool01.contoso.net"' not in xml
    assert 'Fqdn="ocs-med01.contoso.net"' in xml        # still installed, still merged


def test_merge_rejects_a_file_that_does_not_validate(fe):
    """"Create a Custom Edge Server Input File" (Lync Server 2010, gg398097): the file is validated against the
    schema (TopologyInput in the LegacyUserInput.2008 namespace). A file in another shape, a missing required part
    or an undeclared attribute fails before anything is written. The message wording is assumed (Microsoft
    documents the validation, not its text)."""
    sh = fe(4)
    install_wmibc(sh)
    cases = {
        "invented.xml": (INVENTED_INPUT, "EdgeType is not declared"),
        "nonamespace.xml": (EDGE_INPUT.replace(' xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.LegacyUserInput.2008"',
                                               ""), "root element must be TopologyInput"),
        "nohop.xml": (EDGE_INPUT.replace('<DirectorOrEdgeNextHop Fqdn="pool01.contoso.net" />', ""),
                      "DirectorOrEdgeNextHop element is required"),
        "nodp.xml": (EDGE_INPUT.replace(' ExternalDPFqdn="webconf.contoso.net"', ""), "ExternalDPFqdn is required"),
        "badport.xml": (EDGE_INPUT.replace('InternalAPPort="5061"', 'InternalAPPort="sip"'), "not a port number"),
        "noversion.xml": (EDGE_INPUT.replace(' Version="OCS2007R2"', ""), "Version is required"),
        "twofed.xml": (EDGE_INPUT.replace("</EdgeClusters>", EDGE_INPUT[EDGE_INPUT.index("    <EdgeCluster "):
                                                                        EDGE_INPUT.index("  </EdgeClusters>")]
                                          .replace("ocs-edge01", "ocs-edge02") + "  </EdgeClusters>"),
                       "only one Edge can be used for federation"),
    }
    for name, (text, expected) in cases.items():
        sh("Set-Content", Path=name, Value=text)
        err = sh.fails("Merge-CsLegacyTopology", TopologyXmlFileName="m.xml", UserInputFileName=name)
        assert err.category == "InvalidData" and "schema validation" in err.message, name
        assert expected in err.message, (name, err.message)
    assert "does not exist" in sh.fails("Get-Content", Path="m.xml").message


def test_merged_edge_carries_the_file_s_ports_and_computers(fe):
    """"Create a Custom Edge Server Input File": Ports InternalAPPort/InternalDPPort/ExternalDPPort and the
    Machines of a load-balanced Edge (LoadBalancer InternalFqdn is the pool's internal FQDN)."""
    sh = fe(4)
    install_wmibc(sh)
    pooled = (EDGE_INPUT.replace('InternalFqdn="ocs-edge01.contoso.net" Ext', 'InternalFqdn="edgepool01.contoso.net" Ext')
              .replace('<Machine InternalFqdn="ocs-edge01.contoso.net" />',
                       '<Machine InternalFqdn="ocs-edge01.contoso.net" /><Machine InternalFqdn="ocs-edge02.contoso.net" />')
              .replace('InternalAPPort="5061"', 'InternalAPPort="5062"'))
    sh("Set-Content", Path="edges.xml", Value=pooled)
    sh("Merge-CsLegacyTopology", TopologyXmlFileName="merged.xml", UserInputFileName="edges.xml")
    sh("Publish-CsTopology", FileName="merged.xml")
    pool = next(p for p in sh("Get-CsPool") if p["Fqdn"] == "edgepool01.contoso.net")
    assert pool["Computers"] == ["ocs-edge01.contoso.net", "ocs-edge02.contoso.net"]
    edge = sh("Get-CsService", EdgeServer=True)
    assert edge[0]["InternalSipPort"] == 5062 and edge[0]["InternalInterfaceFqdn"] == "edgepool01.contoso.net"
