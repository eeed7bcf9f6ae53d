"""Phase 4 on the lab: Merge-CsLegacyTopology needs OCSWMIBC.msi, takes the Edges only from the input file, and
publishing its output gives the BackCompatSite the stage-5 lab starts with."""

from __future__ import annotations

from lync_lab.model import servers

EDGE_INPUT = """<?xml version="1.0" encoding="utf-8"?>
<TopologyInput xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.LegacyUserInput.2008" InternalSipPort="5061">
  <EdgeClusters>
    <EdgeCluster EdgeType="SingleEdgeServer" InternalFqdn="ocs-edge01.contoso.net"
                 AccessEdgeExternalFqdn="sip.contoso.net" DataEdgeExternalFqdn="webconf.contoso.net"
                 AVEdgeExternalFqdn="av.contoso.net" NextHopFqdn="pool01.contoso.net" FederationEnabled="true">
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
    # the Edge as the admin describes it, whatever its FQDNs
    sh("Set-Content", Path="edges.xml", Value=EDGE_INPUT.replace("sip.contoso.net", "access.contoso.net"))
    sh("Merge-CsLegacyTopology", TopologyXmlFileName="merged.xml", UserInputFileName="edges.xml")
    sh("Publish-CsTopology", FileName="merged.xml")
    edge = sh("Get-CsService", EdgeServer=True)
    assert [e["AccessEdgeExternalFqdn"] for e in edge] == ["access.contoso.net"]
    assert edge[0]["IsFederationEnabled"] is True


def test_merge_refuses_an_expanded_edge_and_a_missing_input_file(fe):
    sh = fe(4)
    install_wmibc(sh)
    sh("Set-Content", Path="edges.xml", Value=EDGE_INPUT.replace("SingleEdgeServer", "ExpandedEdge"))
    err = sh.fails("Merge-CsLegacyTopology", TopologyXmlFileName="m.xml", UserInputFileName="edges.xml")
    assert "Expanded Edge" in err.message
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
