from model_shell import Shell


def test_imported_policies_are_tagged(fe):
    ids = [p["Identity"] for p in fe("Get-CsConferencingPolicy")]
    assert ids[0] == "Global" and "Tag:Executive Meeting Policy" in ids
    [p] = fe("Get-CsConferencingPolicy", Identity="Standard Meeting Policy")
    assert p["AllowAnonymousParticipantsInMeetings"] is False and p["MaxMeetingSize"] == 100
    fe("Set-CsConferencingPolicy", Identity="Tag:Standard Meeting Policy", AllowAnonymousParticipantsInMeetings=True)
    assert fe("Get-CsConferencingPolicy", Identity="Tag:Standard Meeting Policy")[0][
        "AllowAnonymousParticipantsInMeetings"] is True
    assert "does not exist" in fe.fails("Get-CsConferencingPolicy", Identity="Tag:Nope").message
    assert {r["Identity"] for r in fe("Get-CsVoiceRoute")} >= {"W15PSTNRoute", "LocalRoute"}
    assert any("^(\\d{4})$" in r for r in fe("Get-CsDialPlan", Identity="Tag:Redmond")[0]["NormalizationRules"])
    assert [n["Pool"] for n in fe("Get-CsDialInConferencingAccessNumber")] == ["pool01.contoso.net"] * 2


def test_import_only_new_items_unless_replace_existing(fe):
    with fe.lab.store.transaction() as tx:
        mp = tx.get("legacy_meeting_policy", "Standard Meeting Policy")
        mp["max_meeting_size"] = 50
        tx.put("legacy_meeting_policy", mp["name"], mp)
        tx.put("legacy_meeting_policy", "New Policy", dict(mp, name="New Policy"))
    fe("Import-CsLegacyConfiguration", Report="C:\\Logs\\Import.html")
    assert fe("Get-CsConferencingPolicy", Identity="Tag:Standard Meeting Policy")[0]["MaxMeetingSize"] == 100
    assert fe("Get-CsConferencingPolicy", Identity="Tag:New Policy")
    fe("Import-CsLegacyConfiguration", ReplaceExisting=True)
    assert fe("Get-CsConferencingPolicy", Identity="Tag:Standard Meeting Policy")[0]["MaxMeetingSize"] == 50
    with fe.lab.store.transaction(write=False) as tx:
        assert "C:\\Logs\\Import.html" in tx.meta_get("legacy_import")["reports"]


def test_services_and_replication_event(make_lab):
    lab = make_lab(4)
    fe = Shell(lab, "lync-fe01.contoso.net")
    [svc] = fe("Get-Service", Name="RTCSRV")
    # Phase 3 (P3.4) started the services: a stage-4 Front End runs and has synchronised users once.
    assert svc["DisplayName"] == "Lync Server Front-End" and svc["Status"] == "Running"
    assert fe("Get-WinEvent", FilterHashtable={"LogName": "Lync Server", "ProviderName": "LS User Replicator",
                                               "Id": 30024}, MaxEvents=1)
    # A Front End that has never started (Lync just installed) has no such event until its first start.
    fe("Stop-Service", Name="RTCSRV")
    with lab.store.transaction() as tx:
        doc = tx.get("server", "lync-fe01.contoso.net")
        doc["Events"] = [e for e in doc["Events"] if e.get("Id") != 30024]
        tx.put("server", "lync-fe01.contoso.net", doc)
    err = fe.fails("Get-WinEvent", FilterHashtable={"LogName": "Lync Server", "ProviderName": "LS User Replicator",
                                                    "Id": 30024})
    assert err.message == "No events were found that match the specified selection criteria."
    fe("Start-Service", Name="RTCSRV")
    [ev] = fe("Get-WinEvent", FilterHashtable={"LogName": "Lync Server", "ProviderName": "LS User Replicator",
                                               "Id": 30024}, MaxEvents=1)
    assert ev["Id"] == 30024 and "completed" in ev["Message"]
    assert "Cannot find any service" in fe.fails("Get-Service", Name="NoSuchSvc").message
    fe("Set-Service", Name="RTCSRV", StartupType="Disabled")
    fe("Stop-Service", Name="RTCSRV")
    assert "cannot be started" in fe.fails("Start-Service", Name="RTCSRV").message
    ocs = Shell(lab, "ocs-fe01.contoso.net")
    assert ocs("Get-Service", Name="RTCSRV")[0]["DisplayName"] == "Office Communications Server Front-End"
    assert "event log" in ocs.fails("Get-WinEvent", LogName="Lync Server").message


def test_wmi_classes(make_lab):
    lab = make_lab(6)
    ocs = Shell(lab, "ocs-fe01.contoso.net")
    [u] = ocs("Get-WmiObject", Class="MSFT_SIPESUserSetting", Filter="PrimaryURI = 'sip:hao.chen@contoso.net'")
    assert u["DisplayName"] == "Hao Chen" and "pool01" in u["HomeServerDN"]
    assert {p["PoolFQDN"] for p in ocs("Get-WmiObject", Class="MSFT_SIPPoolSetting")} == {"pool01.contoso.net"}
    assert {p["Name"] for p in ocs("Get-WmiObject", Class="MSFT_SIPGlobalMeetingPolicyData")} >= {"Default Policy"}
    assert ocs("Get-WmiObject", Class="MSFT_SIPEdgeProxySetting")[0]["EdgeProxyFQDN"] == "sip.contoso.net"
    fe = Shell(lab, "lync-fe01.contoso.net")
    names = [p["Name"] for p in fe("Get-WmiObject", Class="Win32_Product")]
    assert "OCS 2007 R2 WMI Backward Compatibility Package" in names
    dc = Shell(lab, "dc01.contoso.net")
    assert dc.fails("Get-WmiObject", Class="MSFT_SIPPoolSetting").message == 'Invalid class "MSFT_SIPPoolSetting"'
    before = len(ocs("Get-WmiObject", Class="MSFT_SIPESUserSetting"))
    fe("Move-CsLegacyUser", Identity="Hao Chen", Target="pool02.contoso.net")
    assert len(ocs("Get-WmiObject", Class="MSFT_SIPESUserSetting")) == before - 1
