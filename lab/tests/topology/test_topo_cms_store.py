"""The Central Management store before the first topology (Phase 3, P3.3).

Sources (MicrosoftDocs/office-docs-powershell, skype/skype-ps/SkypeForBusiness/):
- Install-CsDatabase.md: -CentralManagementDatabase installs the Central Management store on the computer given by
  -SqlServerFqdn (instance -SqlInstanceName), normally once, at initial setup, by Topology Builder (Example 2).
- Set-CsConfigurationStoreLocation.md: sets the service control point that tells computers where the store is;
  without -SkipLookup the computer and the SQL Server instance must be available.
- Get-CsConfigurationStoreLocation.md: reports the store's SQL Server path (output: String).
- Test-CsDatabase.md: connects to the database and reports whether it succeeded.
MicrosoftDocs/OfficeDocs-SkypeForBusiness, Lync/LyncServer/lync-server-2013-publish-your-topology.md: Publish
Topology finds the CMS store before it publishes. Publish-CsTopology's own error without a store is not documented
(wording assumed).
"""

from __future__ import annotations

import pytest

import xml.etree.ElementTree as ET

from lync_lab.model import servers
from lync_lab.model.stages import dump_state

SQL = "lync-sql01.contoso.net"


def canonical(text):
    return ET.canonicalize(xml_data=text.strip(), strip_text=True)


@pytest.fixture
def fresh(fe):
    """lync-fe01 at stage 3 with the Core Components (P3.2): the Lync shell exists, no store, no topology."""
    sh = fe(3)
    with sh.tx() as tx:
        servers.install(tx, "lync-fe01.contoso.net", servers.product(servers.LYNC_CORE, "lync", "OCSCore.msi"))
    return sh


@pytest.fixture
def pilot_document(fe):
    return str(fe(4)("Get-CsTopology", AsXml=True)[0])


def test_first_publish_without_a_store_fails_and_publishes_nothing(fresh, pilot_document):
    fresh("Set-Content", Path="C:\\t.xml", Value=pilot_document)
    err = fresh.fails("Publish-CsTopology", FileName="C:\\t.xml")
    assert err.fqid.startswith("NoCentralManagementStore,")
    assert "Install-CsDatabase -CentralManagementDatabase" in err.message
    assert "Set-CsConfigurationStoreLocation" in err.message
    assert fresh.fails("Get-CsTopology").fqid.startswith("NoCentralManagementStore,")
    assert fresh("Get-CsConfigurationStoreLocation") == []


def test_a_location_without_the_database_is_not_enough(fresh, pilot_document):
    fresh("Set-CsConfigurationStoreLocation", SqlServerFqdn=SQL, SqlInstanceName="rtc", SkipLookup=True)
    fresh("Set-Content", Path="C:\\t.xml", Value=pilot_document)
    err = fresh.fails("Publish-CsTopology", FileName="C:\\t.xml")
    assert err.fqid.startswith("CentralManagementStoreNotFound,") and SQL + "/rtc" in err.message


def test_the_documented_sequence_reaches_the_stage_4_store_and_topology(fresh, pilot_document, lab_at):
    assert fresh("Test-CsDatabase", CentralManagementDatabase=True, SqlServerFqdn=SQL,
                 SqlInstanceName="rtc")[0]["Succeed"] is False
    fresh("Install-CsDatabase", CentralManagementDatabase=True, SqlServerFqdn=SQL, SqlInstanceName="rtc")
    assert fresh("Test-CsDatabase", CentralManagementDatabase=True, SqlServerFqdn=SQL,
                 SqlInstanceName="rtc")[0]["Succeed"] is True
    fresh("Set-CsConfigurationStoreLocation", SqlServerFqdn=SQL, SqlInstanceName="rtc")
    assert fresh("Get-CsConfigurationStoreLocation") == [SQL + "/rtc"]
    assert fresh("Test-CsDatabase", CentralManagementDatabase=True)[0]["Succeed"] is True   # through the SCP
    fresh("Set-Content", Path="C:\\t.xml", Value=pilot_document)
    fresh("Publish-CsTopology", FileName="C:\\t.xml")
    fresh("Enable-CsTopology")
    assert str(fresh("Get-CsTopology", AsXml=True)[0]) == pilot_document
    ours, seed = dump_state(fresh.lab.store), dump_state(lab_at(4).store)
    for kind in ("cms_database", "conferencing_policy", "cmsconfig", "pool", "site"):
        assert ours.get(kind) == seed.get(kind), kind
    # the document as published (its text went through Set-Content) is the seed's, element by element
    assert canonical(ours["topology"]["cms"]["xml"]) == canonical(seed["topology"]["cms"]["xml"])
    assert ours["_meta"]["cms_store_location"] == seed["_meta"]["cms_store_location"]


def test_installing_again_changes_nothing(fresh):
    fresh("Install-CsDatabase", CentralManagementDatabase=True, SqlServerFqdn=SQL, SqlInstanceName="rtc")
    before = dump_state(fresh.lab.store)
    fresh("Install-CsDatabase", CentralManagementDatabase=True, SqlServerFqdn=SQL, SqlInstanceName="rtc")
    after = dump_state(fresh.lab.store)
    assert {k: v for k, v in after.items() if k != "_meta"} == {k: v for k, v in before.items() if k != "_meta"}


def test_an_unreachable_sql_server_is_refused_unless_the_lookup_is_skipped(fresh):
    err = fresh.fails("Install-CsDatabase", CentralManagementDatabase=True, SqlServerFqdn="nosql.contoso.net",
                      SqlInstanceName="rtc")
    assert err.fqid.startswith("SqlConnectionFailed,") and "nosql.contoso.net/rtc" in err.message
    assert fresh.fails("Set-CsConfigurationStoreLocation", SqlServerFqdn=SQL,
                       SqlInstanceName="other").fqid.startswith("SqlConnectionFailed,")
    fresh("Set-CsConfigurationStoreLocation", SqlServerFqdn=SQL, SqlInstanceName="other", SkipLookup=True)
    assert fresh("Get-CsConfigurationStoreLocation") == [SQL + "/other"]


def test_the_first_topology_must_put_its_cms_store_where_the_store_is(fresh, pilot_document):
    """Topology Builder's Publish wizard ties the CMS to the installed store (Select Central Management Server,
    Skype/SfbServer/sfbs2019/publish-the-topology.md); the rule's wording is the lab's."""
    fresh("Install-CsDatabase", CentralManagementDatabase=True, SqlServerFqdn=SQL, SqlInstanceName="rtc")
    fresh("Set-CsConfigurationStoreLocation", SqlServerFqdn=SQL, SqlInstanceName="rtc")
    moved = pilot_document.replace('<SqlInstanceId Name="rtc">', '<SqlInstanceId Name="lync">')
    fresh("Set-Content", Path="C:\\t.xml", Value=moved)
    err = fresh.fails("Publish-CsTopology", FileName="C:\\t.xml")
    assert "TopologyValidationFailed" in err.fqid and SQL + "/lync" in err.message and SQL + "/rtc" in err.message


def test_whatif_installs_nothing(fresh):
    out = fresh("Install-CsDatabase", CentralManagementDatabase=True, SqlServerFqdn=SQL, SqlInstanceName="rtc",
                WhatIf=True)
    assert out[0]["WhatIf"].startswith("What if:")
    assert fresh("Test-CsDatabase", CentralManagementDatabase=True, SqlServerFqdn=SQL,
                 SqlInstanceName="rtc")[0]["Succeed"] is False


def test_stage_4_has_the_store_and_its_location(fe):
    sh = fe(4)
    assert sh("Get-CsConfigurationStoreLocation") == [SQL + "/rtc"]
    assert sh("Test-CsDatabase", CentralManagementDatabase=True)[0]["Succeed"] is True


def test_without_an_instance_name_the_default_instance_is_meant(fresh):
    """Install-CsDatabase.md (-SqlInstanceName): omitted, the SQL Server's default instance is used; the scenario's
    SQL Server has only its named instance rtc, so the default one cannot be reached."""
    err = fresh.fails("Install-CsDatabase", CentralManagementDatabase=True, SqlServerFqdn=SQL)
    assert err.fqid.startswith("SqlConnectionFailed,") and f'"{SQL}"' in err.message
    fresh("Set-CsConfigurationStoreLocation", SqlServerFqdn=SQL, SkipLookup=True)
    assert fresh("Get-CsConfigurationStoreLocation") == [SQL]
