"""AD preparation order, CMS replication, Lync services, Edge federation settings, web services, trusted
application pools and static routes."""

from __future__ import annotations

from lync_lab.model import servers


def clear_adprep(sh):
    with sh.tx() as tx:
        tx.meta_put("adprep", {"schema": False, "forest": False, "domains": {}})


def test_ad_preparation_order(fe):
    sh = fe(4)
    clear_adprep(sh)

    def state(*args, **kw):
        return [str(v) for v in sh(*args, **kw)]

    assert state("Get-CsAdServerSchema") == ["SCHEMA_VERSION_STATE_NOT_AVAILABLE"]
    assert state("Get-CsAdForest") == ["LC_FORESTSETTINGS_STATE_NOT_READY"]
    assert "Prepare Schema must be completed" in sh.fails("Enable-CsAdForest").message
    assert "Prepare Forest must be completed" in sh.fails("Enable-CsAdDomain").message
    sh("Install-CsAdServerSchema", WhatIf=True)
    assert state("Get-CsAdServerSchema") == ["SCHEMA_VERSION_STATE_NOT_AVAILABLE"]
    sh("Install-CsAdServerSchema")
    assert state("Get-CsAdServerSchema") == ["SCHEMA_VERSION_STATE_CURRENT"]
    sh("Enable-CsAdForest")
    assert state("Get-CsAdForest") == ["LC_FORESTSETTINGS_STATE_READY"]
    assert state("Get-CsAdDomain") == ["LC_DOMAINSETTINGS_STATE_NOT_READY"]
    sh("Enable-CsAdDomain")
    assert state("Get-CsAdDomain", Domain="contoso.net") == ["LC_DOMAINSETTINGS_STATE_READY"]
    assert "Disable-CsAdDomain" in sh.fails("Disable-CsAdForest").message
    sh("Disable-CsAdDomain")
    sh("Disable-CsAdForest")
    assert state("Get-CsAdForest") == ["LC_FORESTSETTINGS_STATE_NOT_READY"]


def test_stage_4_replica_is_up_to_date_and_replication_needs_its_agent(fe):
    sh = fe(4)
    rows = sh("Get-CsManagementStoreReplicationStatus")
    # Phase 3 started the services, whose replica agent applied the published configuration
    assert [(r["ReplicaFqdn"], r["UpToDate"]) for r in rows] == [("lync-fe01.contoso.net", True)]
    assert {s["Status"] for s in sh("Get-CsWindowsService")} == {"Running"}    # Phase 3 started them (P3.4)
    sh("Stop-CsWindowsService")
    # a publish makes every replica stale; with its agent stopped, replication cannot bring it up to date
    sh("Set-Content", Path="topology.xml", Value=str(sh("Get-CsTopology", AsXml=True)[0]))
    sh("Publish-CsTopology", FileName="topology.xml")
    sh("Invoke-CsManagementStoreReplication")           # the replica agent is not running
    assert sh("Get-CsManagementStoreReplicationStatus")[0]["UpToDate"] is False
    sh("Start-CsWindowsService")
    assert {s["Status"] for s in sh("Get-CsWindowsService")} == {"Running"}
    row = sh("Get-CsManagementStoreReplicationStatus", ReplicaFqdn="lync-fe01.contoso.net")[0]
    assert row["UpToDate"] is True and row["ProductVersion"] == "5.0.8308.0"
    with sh.tx() as tx:
        assert servers.has_event(tx, "lync-fe01.contoso.net", "LS User Replicator", 30024)


def test_publish_makes_replicas_stale_until_replication_is_invoked(fe):
    sh = fe(5)
    assert all(r["UpToDate"] for r in sh("Get-CsManagementStoreReplicationStatus"))
    xml = str(sh("Get-CsTopology", AsXml=True)[0])
    sh("Set-Content", Path="t.xml", Value=xml)
    sh("Publish-CsTopology", FileName="t.xml")
    assert [r["UpToDate"] for r in sh("Get-CsManagementStoreReplicationStatus")] == [False]
    sh("Invoke-CsManagementStoreReplication")
    assert [r["UpToDate"] for r in sh("Get-CsManagementStoreReplicationStatus")] == [True]


def test_lync_edge_is_a_replica_from_stage_8(fe):
    assert [r["ReplicaFqdn"] for r in fe(8)("Get-CsManagementStoreReplicationStatus")] == \
        ["lync-fe01.contoso.net", "lync-edge01.contoso.net"]
    assert sh_cms(fe(8))["ActiveMasterFqdn"] == "lync-fe01.contoso.net"


def sh_cms(sh):
    return sh("Get-CsManagementStoreReplicationStatus", CentralManagementStoreStatus=True)[0]


def test_access_edge_configuration(fe):
    # Phase 5 routes federation through the legacy Edge (OCS settings); Lync's own are turned on at P8.1.h.
    assert fe(6)("Get-CsAccessEdgeConfiguration")[0]["AllowFederatedUsers"] is False
    sh = fe(9)
    cfg = sh("Get-CsAccessEdgeConfiguration")[0]
    assert cfg["AllowFederatedUsers"] is True and cfg["RoutingMethod"] == "UseDnsSrvRouting"
    sh("Set-CsAccessEdgeConfiguration", AllowOutsideUsers=False, WhatIf=True)
    assert sh("Get-CsAccessEdgeConfiguration")[0]["AllowOutsideUsers"] is True
    sh("Set-CsAccessEdgeConfiguration", UseDnsSrvRouting=True, EnablePartnerDiscovery=True, AllowOutsideUsers=False)
    cfg = sh("Get-CsAccessEdgeConfiguration", Identity="Global")[0]
    assert cfg["EnablePartnerDiscovery"] is True and cfg["AllowOutsideUsers"] is False
    assert sh.fails("Get-CsAccessEdgeConfiguration", Identity="site:Redmond").category == "ObjectNotFound"


def test_web_service_configuration(fe):
    sh = fe(9)
    assert sh("Get-CsWebServiceConfiguration")[0]["ShowJoinUsingLegacyClientLink"] is False
    sh("Set-CsWebServiceConfiguration", ShowJoinUsingLegacyClientLink=True, ShowAlternateJoinOptionsExpanded=True)
    cfg = sh("Get-CsWebServiceConfiguration")[0]
    assert cfg["ShowJoinUsingLegacyClientLink"] is True and cfg["ShowAlternateJoinOptionsExpanded"] is True


def test_trusted_application_pool_for_exchange_owa(fe):
    sh = fe(10)
    sh("New-CsTrustedApplicationPool", Identity="cas01.contoso.net", ThrottleAsServer=True, TreatAsAuthenticated=True,
       ComputerFqdn="cas01.contoso.net", Site="Redmond", Registrar="pool02.contoso.net", RequiresReplication=False)
    pool = sh("Get-CsTrustedApplicationPool")[0]
    assert pool["Identity"] == "TrustedApplicationPool:cas01.contoso.net"
    assert pool["Registrar"] == "Registrar:pool02.contoso.net" and pool["RequiresReplication"] is False
    assert "cas01.contoso.net" in {p["Fqdn"] for p in sh("Get-CsPool")}
    # no replica for a pool that does not replicate
    assert "cas01.contoso.net" not in {r["ReplicaFqdn"] for r in sh("Get-CsManagementStoreReplicationStatus")}
    assert "unique" in sh.fails("New-CsTrustedApplicationPool", Identity="cas01.contoso.net",
                                Registrar="pool02.contoso.net").message
    app = sh("New-CsTrustedApplication", ApplicationId="owa", TrustedApplicationPoolFqdn="cas01.contoso.net",
             Port=5199)[0]
    assert app["Identity"] == "cas01.contoso.net/urn:application:owa"
    assert "already used" in sh.fails("New-CsTrustedApplication", ApplicationId="other",
                                      TrustedApplicationPoolFqdn="cas01.contoso.net", Port=5199).message
    sh("Enable-CsTopology")
    sh("Remove-CsTrustedApplicationPool", Identity="TrustedApplicationPool:cas01.contoso.net")
    assert sh("Get-CsTrustedApplicationPool") == [] and sh("Get-CsTrustedApplication") == []


def test_static_routes(fe):
    sh = fe(9)
    route = sh("New-CsStaticRoute", TLSRoute=True, Destination="ocs-med01.contoso.net", Port=5061,
               MatchUri="contoso.net", UseDefaultCertificate=True)[0]
    sh("Set-CsStaticRoutingConfiguration", Route={"Add": route})
    assert [r["MatchUri"] for r in sh("Get-CsStaticRoutingConfiguration")[0]["Route"]] == ["contoso.net"]
    assert "already exists" in sh.fails("Set-CsStaticRoutingConfiguration", Route={"Add": route}).message
    sh("Set-CsStaticRoutingConfiguration", Route={"Remove": route})
    assert sh("Get-CsStaticRoutingConfiguration")[0]["Route"] == []


def test_export_configuration_writes_a_zip(fe):
    import base64
    import io
    import zipfile

    sh = fe(8)
    sh("Export-CsConfiguration", FileName="C:\\edge\\config.zip")
    with sh.tx() as tx:
        doc = tx.get("file", "lync-fe01.contoso.net|c:\\edge\\config.zip")
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(doc["Binary"]))).namelist()
    assert "Topology.xml" in names
    assert "already exists" in sh.fails("Export-CsConfiguration", FileName="C:\\edge\\config.zip").message
    sh("Export-CsUserData", PoolFqdn="pool02.contoso.net", FileName="C:\\backup\\ud.zip", ConfDirectoryFilter="3")
