"""Pool-level objects across the phases: conference directories, Response Groups, application contacts,
Exchange UM contacts."""

from __future__ import annotations

from lync_lab.model import servers


def test_conference_directories_appear_once_imported(fe):
    assert fe(4)("Get-CsConferenceDirectory") == []
    dirs = fe(5)("Get-CsConferenceDirectory")
    assert dirs == [{"Identity": "3", "ServiceId": "UserServer:pool01.contoso.net"}]


def test_import_legacy_conference_directory_needs_the_merge(fe):
    sh = fe(4)
    with sh.tx() as tx:
        servers.install(tx, "lync-fe01.contoso.net", servers.product(servers.OCSWMIBC, "wmibc", "OCSWMIBC.msi"))
    assert "Merge-CsLegacyTopology" in sh.fails("Import-CsLegacyConferenceDirectory").message
    sh("Merge-CsLegacyTopology", TopologyXmlFileName="m.xml")
    sh("Publish-CsTopology", FileName="m.xml")
    sh("Import-CsLegacyConferenceDirectory")
    assert [d["ServiceId"] for d in sh("Get-CsConferenceDirectory")] == ["UserServer:pool01.contoso.net"]


def test_move_conference_directory(fe):
    sh = fe(10)
    out = sh("Move-CsConferenceDirectory", Identity="3", TargetPool="pool02.contoso.net", WhatIf=True)
    assert "What if" in out[0]["WhatIf"]
    assert sh("Get-CsConferenceDirectory", Identity="3")[0]["ServiceId"] == "UserServer:pool01.contoso.net"
    sh("Move-CsConferenceDirectory", Identity="3", TargetPool="pool02.contoso.net")
    assert sh("Get-CsConferenceDirectory", Identity="3")[0]["ServiceId"] == "UserServer:pool02.contoso.net"
    with sh.tx() as tx:
        moved = tx.get("confdir", "3")
    with fe(11).tx() as tx:     # the state the stage-11 lab starts with
        assert moved == tx.get("confdir", "3")
    assert "already homed" in sh.fails("Move-CsConferenceDirectory", Identity="3",
                                       TargetPool="pool02.contoso.net").message
    assert sh.fails("Move-CsConferenceDirectory", Identity="42", TargetPool="pool02.contoso.net").category == \
        "ObjectNotFound"
    assert "Office Communications Server 2007 R2" in sh.fails(
        "Move-CsConferenceDirectory", Identity="3", TargetPool="pool01.contoso.net").message


def test_move_conference_directory_to_an_unreachable_pool_needs_force(fe):
    sh = fe(10)
    sh("Stop-CsWindowsService", Name="RTCSRV")
    err = sh.fails("Move-CsConferenceDirectory", Identity="3", TargetPool="pool02.contoso.net")
    assert "cannot be contacted" in err.message and "-Force" in err.message
    sh("Move-CsConferenceDirectory", Identity="3", TargetPool="pool02.contoso.net", Force=True)
    assert sh("Get-CsConferenceDirectory")[0]["ServiceId"] == "UserServer:pool02.contoso.net"


def test_rgs_move_copies_configuration_moves_contacts_and_keeps_the_legacy_copy(fe):
    sh = fe(9)
    assert sh("Get-CsRgsWorkflow") == []               # legacy Response Groups are not listed by Lync
    assert sh("Get-CsTrustedApplicationEndpoint", Identity="sip:helpdesk@contoso.net")[0]["RegistrarPool"] == \
        "pool01.contoso.net"
    sh("Move-CsRgsConfiguration", Source="pool01.contoso.net", Destination="pool02.contoso.net")
    wf = sh("Get-CsRgsWorkflow")
    assert [w["Name"] for w in wf] == ["Help Desk"]
    assert wf[0]["Identity"].startswith("service:ApplicationServer:pool02.contoso.net/")
    queue = sh("Get-CsRgsQueue", Identity="service:ApplicationServer:pool02.contoso.net")[0]
    group = sh("Get-CsRgsAgentGroup")[0]
    assert queue["AgentGroupIDList"] == [group["Identity"]]
    assert queue["Identity"] in wf[0]["DefaultAction"]
    assert sh("Get-CsTrustedApplicationEndpoint", Identity="sip:helpdesk@contoso.net")[0]["RegistrarPool"] == \
        "pool02.contoso.net"
    with sh.tx() as tx:      # the OCS copy stays
        assert tx.get("rgs_workflow", "pool01.contoso.net/Help Desk") is not None
        moved = {k: d for kind in ("rgs_group", "rgs_queue", "rgs_workflow") for k, d in tx.query(kind)}
    with fe(10).lab.store.transaction() as tx:
        seeded = {k: d for kind in ("rgs_group", "rgs_queue", "rgs_workflow") for k, d in tx.query(kind)}
    assert moved == seeded
    # a second run would clash by name
    assert "already exist" in sh.fails("Move-CsRgsConfiguration", Source="pool01.contoso.net",
                                       Destination="pool02.contoso.net").message


def test_rgs_move_needs_ocswmibc(fe):
    sh = fe(9)
    with sh.tx() as tx:
        doc = servers.get(tx, "lync-fe01.contoso.net")
        doc["Products"] = [p for p in doc["Products"] if p["Name"] != servers.OCSWMIBC]
        servers.put(tx, doc)
    assert "OCSWMIBC.msi" in sh.fails("Move-CsRgsConfiguration", Source="pool01.contoso.net",
                                      Destination="pool02.contoso.net").message


def test_rgs_export_and_import(fe):
    sh = fe(10)
    sh("Export-CsRgsConfiguration", Source="service:ApplicationServer:pool02.contoso.net", FileName="C:\\rgs.zip")
    # Export-CsRgsConfiguration.md, -FileName: the command fails if the file already exists; -Force only
    # suppresses non-fatal messages, so it does not overwrite.
    assert "already exists" in sh.fails("Export-CsRgsConfiguration", Source="ApplicationServer:pool02.contoso.net",
                                        FileName="C:\\rgs.zip").message
    assert "already exists" in sh.fails("Export-CsRgsConfiguration", Source="ApplicationServer:pool02.contoso.net",
                                        FileName="C:\\rgs.zip", Force=True).message
    sh("Export-CsRgsConfiguration", Source="ApplicationServer:pool02.contoso.net", FileName="C:\\rgs2.zip",
       RemoveExportedConfiguration=True)
    assert sh("Get-CsRgsWorkflow") == []
    sh("Import-CsRgsConfiguration", Destination="service:ApplicationServer:pool02.contoso.net", FileName="C:\\rgs2.zip")
    assert [w["Name"] for w in sh("Get-CsRgsWorkflow")] == ["Help Desk"]


def test_dial_in_numbers_move_with_move_cs_application_endpoint(fe):
    sh = fe(9)
    caa = [e for e in sh("Get-CsTrustedApplicationEndpoint", Filter='{RegistrarPool -eq "pool01.contoso.net"}')
           if e["OwnerUrn"] == "urn:application:Caa"]
    assert len(caa) == 2
    for e in caa:
        sh("Move-CsApplicationEndpoint", Identity=e["SipAddress"], TargetApplicationPool="pool02.contoso.net")
    after = sh("Get-CsTrustedApplicationEndpoint", Identity="sip:dialin.redmond@contoso.net")[0]
    assert after["RegistrarPool"] == "pool02.contoso.net"
    # the rollback path the guide gives: move the contact back to the legacy pool
    sh("Move-CsApplicationEndpoint", Identity="dialin.redmond@contoso.net", TargetApplicationPool="pool01.contoso.net")
    assert sh("Get-CsTrustedApplicationEndpoint", Identity="sip:dialin.redmond@contoso.net")[0]["RegistrarPool"] == \
        "pool01.contoso.net"
    assert sh.fails("Move-CsApplicationEndpoint", Identity="sip:nobody@contoso.net",
                    TargetApplicationPool="pool02.contoso.net").category == "ObjectNotFound"


def test_exum_contacts_move_and_need_confirm_false(fe):
    sh = fe(9)
    legacy = sh("Get-CsExUmContact", Filter='{RegistrarPool -eq "pool01.contoso.net"}')
    assert {c["SipAddress"] for c in legacy} == {"sip:autoattendant@contoso.net", "sip:subscriberaccess@contoso.net"}
    ids = [c["Identity"] for c in legacy]
    err = sh.fails("Move-CsExUmContact", Identity=ids, Target="pool02.contoso.net", Force=True)
    assert "NonInteractive" in err.message
    sh("Move-CsExUmContact", Identity=ids, Target="pool02.contoso.net", Confirm=False)
    assert sh("Get-CsExUmContact", Filter='{RegistrarPool -eq "pool01.contoso.net"}') == []
    aa = sh("Get-CsExUmContact", Identity="sip:autoattendant@contoso.net")[0]
    assert aa["RegistrarPool"] == "pool02.contoso.net" and aa["AutoAttendant"] is True
