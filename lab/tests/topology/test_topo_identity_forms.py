"""The identity forms the Response Group cmdlets accept, and Export-CsUserData's pools, as Microsoft documents them.

Sources (MicrosoftDocs/office-docs-powershell, skype/skype-ps/SkypeForBusiness/):
- Move-CsRgsConfiguration.md: -Source is the FQDN of the pool hosting the legacy Response Group application,
  -Destination the FQDN of the new one; Example 1 passes bare FQDNs. The Lync 2013 topic
  (MicrosoftDocs/OfficeDocs-SkypeForBusiness Lync/LyncServer/migrate-response-groups_1.md) does the same:
  Move-CsRgsConfiguration -Source pool01.contoso.net -Destination pool02.contoso.net.
- Export-CsRgsConfiguration.md / Import-CsRgsConfiguration.md: -Source/-Destination are RgsIdentity values such as
  "ApplicationServer:atl-rgs-001.litwareinc.com".
- Get-CsRgsAgentGroup.md, Get-CsRgsQueue.md, Get-CsRgsWorkflow.md: -Identity is the service identity
  "service:ApplicationServer:atl-cs-001.litwareinc.com", optionally followed by /<GUID> for a single object.
- Export-CsUserData.md and the Lync 2013 reference export-csuserdata.md: the cmdlet (introduced in Lync Server 2013)
  exports the user data and conference directories of a Lync Server pool; -PoolFqdn is a Registrar pool.
The refusals' wording is assumed: no page shows these errors.
"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("source, destination", [
    ("ApplicationServer:pool01.contoso.net", "ApplicationServer:pool02.contoso.net"),
    ("service:ApplicationServer:pool01.contoso.net", "pool02.contoso.net"),
    ("pool01.contoso.net", "service:ApplicationServer:pool02.contoso.net"),
])
def test_move_rgs_configuration_takes_pool_fqdns_only(fe, source, destination):
    sh = fe(9)
    err = sh.fails("Move-CsRgsConfiguration", Source=source, Destination=destination)
    assert err.category == "ObjectNotFound" and err.fqid.startswith("PoolNotFound,")
    with sh.tx() as tx:      # nothing was copied and the contact did not move
        assert not [k for k, _d in tx.query("rgs_workflow") if k.startswith("pool02")]
    assert sh("Get-CsTrustedApplicationEndpoint", Identity="sip:helpdesk@contoso.net")[0]["RegistrarPool"] == \
        "pool01.contoso.net"
    sh("Move-CsRgsConfiguration", Source="pool01.contoso.net", Destination="pool02.contoso.net")
    assert [w["Name"] for w in sh("Get-CsRgsWorkflow")] == ["Help Desk"]


@pytest.mark.parametrize("identity", ["service:ApplicationServer:pool02.contoso.net",
                                      "Service:ApplicationServer:pool02.contoso.net",
                                      "ApplicationServer:pool02.contoso.net"])
def test_get_rgs_takes_the_service_identity(fe, identity):
    sh = fe(10)
    assert [q["Name"] for q in sh("Get-CsRgsQueue", Identity=identity)] == ["Help Desk Queue"]
    workflow = sh("Get-CsRgsWorkflow", Identity=identity)[0]
    guid = workflow["Identity"].rsplit("/", 1)[1]
    assert sh("Get-CsRgsWorkflow", Identity=f"{identity}/{guid}") == [workflow]


@pytest.mark.parametrize("identity", ["pool02.contoso.net", "service:pool02.contoso.net",
                                      "Registrar:pool02.contoso.net"])
def test_get_rgs_refuses_undocumented_identity_forms(fe, identity):
    err = fe(10).fails("Get-CsRgsAgentGroup", Identity=identity)
    assert err.category == "InvalidArgument" and "service:ApplicationServer:" in err.message


def test_export_and_import_rgs_take_the_service_identity(fe):
    sh = fe(10)
    sh("Export-CsRgsConfiguration", Source="ApplicationServer:pool02.contoso.net", FileName="C:\\rgs.zip")
    assert sh.fails("Export-CsRgsConfiguration", Source="pool02.contoso.net",
                    FileName="C:\\rgs2.zip").category == "InvalidArgument"
    assert sh.fails("Import-CsRgsConfiguration", Destination="pool02.contoso.net",
                    FileName="C:\\rgs.zip").category == "InvalidArgument"
    sh("Import-CsRgsConfiguration", Destination="ApplicationServer:pool02.contoso.net", FileName="C:\\rgs.zip",
       ReplaceExistingRgsSettings=True)


def test_export_user_data_refuses_a_legacy_pool(fe):
    sh = fe(10)
    err = sh.fails("Export-CsUserData", PoolFqdn="pool01.contoso.net", ConfDirectoryFilter="3",
                   FileName="C:\\backup\\confdir-3.zip")
    assert err.category == "InvalidArgument" and "Office Communications Server 2007 R2" in err.message
    with sh.tx() as tx:
        assert tx.get("file", "lync-fe01.contoso.net|c:\\backup\\confdir-3.zip") is None
    # Once the directory is owned by the Lync pool (P10.1), the Lync pool's export includes it.
    sh("Move-CsConferenceDirectory", Identity="3", TargetPool="pool02.contoso.net")
    sh("Export-CsUserData", PoolFqdn="pool02.contoso.net", ConfDirectoryFilter="3", FileName="C:\\backup\\confdir-3.zip")
