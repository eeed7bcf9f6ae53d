from lync_lab.context import SessionInfo
from lync_lab.model import servers

from model_shell import Shell


def test_get_cs_user_identity_forms(fe):
    for ident in ("David Pelton", "sip:david.pelton@contoso.net", "david.pelton@contoso.net", "CONTOSO\\dpelton",
                  "contoso.net\\dpelton", "CN=David Pelton,OU=Users,OU=Contoso,DC=contoso,DC=net"):
        [user] = fe("Get-CsUser", Identity=ident)
        assert user["SipAddress"] == "sip:david.pelton@contoso.net"
        assert user["RegistrarPool"] == "pool01.contoso.net"   # legacy user, shown from msRTCSIP-PrimaryHomeServer
    assert list(user)[:2] == ["Identity", "VoicePolicy"]
    assert user["Identity"] == "CN=David Pelton,OU=Users,OU=Contoso,DC=contoso,DC=net"
    err = fe.fails("Get-CsUser", Identity="Nobody Here")
    assert err.message == 'Management object not found for identity "Nobody Here".'
    assert err.category == "ObjectNotFound"


def test_get_cs_user_filters(fe):
    users = fe("Get-CsUser", Filter='{DisplayName -eq "Hao Chen" -or DisplayName -eq "Katie Jordan"}')
    assert sorted(u["DisplayName"] for u in users) == ["Hao Chen", "Katie Jordan"]
    legacy = fe("Get-CsUser", OnOfficeCommunicationServer=True)
    lync = fe("Get-CsUser", OnLyncServer=True)
    assert [u["DisplayName"] for u in lync] == ["Ana Trujillo"]
    assert len(legacy) + len(lync) == len(fe("Get-CsUser"))
    assert len(fe("Get-CsUser", ResultSize=5)) == 5
    ev = fe("Get-CsUser", Filter='EnterpriseVoiceEnabled -eq $true -and -not (DisplayName -like "Hao*")')
    assert "Hao Chen" not in [u["DisplayName"] for u in ev] and ev
    assert "Filter" in fe.fails("Get-CsUser", Filter="DisplayName -eq").message
    assert "LdapFilter" in fe.fails("Get-CsUser", LdapFilter="(cn=x)").message


def test_display_name_wildcard_and_ambiguity(fe):
    assert {u["DisplayName"] for u in fe("Get-CsUser", Identity="* Davis")} == {"Sara Davis"}
    with fe.lab.store.transaction() as tx:
        from lync_lab.model import users as U
        doc = dict(tx.get("user", "sdavis"))
        doc.update(SamAccountName="sdavis2", SipAddress="sip:sara.davis2@contoso.net",
                   UserPrincipalName="sara.davis2@contoso.net",
                   DistinguishedName="CN=Sara Davis,OU=Sales,OU=Contoso,DC=contoso,DC=net")
        U.put_user(tx, doc, "CONTOSO")
    err = fe.fails("Get-CsUser", Identity="Sara Davis")
    assert "ambiguous" in err.message


def test_move_legacy_user_applies_policies_and_moves_meetings(fe):
    before = fe("Get-CsUser", Identity="David Pelton")[0]
    with fe.lab.store.transaction(write=False) as tx:
        confs_before = tx.query("conference", prefix="dpelton/")
    [moved] = fe("Move-CsLegacyUser", Identity="David Pelton", Target="pool02.contoso.net", PassThru=True)
    assert moved["RegistrarPool"] == "pool02.contoso.net"
    assert moved["ConferencingPolicy"] == "Executive Meeting Policy"
    assert moved["VoicePolicy"] == "Executive Voice Policy"
    assert moved["DialPlan"] == "Redmond"
    assert moved["ExternalAccessPolicy"] == "Federation and Remote Access"
    assert moved["ArchivingPolicy"] == "Archive Internal and External"
    assert moved["PresencePolicy"] == "Executive Presence Policy"
    assert before["ConferencingPolicy"] is None
    with fe.lab.store.transaction(write=False) as tx:
        confs_after = tx.query("conference", prefix="dpelton/")
    assert len(confs_after) == 2
    assert [(c["ConferenceId"], c["ConferenceUrl"]) for _k, c in confs_after] == \
        [(c["ConferenceId"], c["ConferenceUrl"]) for _k, c in confs_before]
    assert {c["Pool"] for _k, c in confs_after} == {"pool02.contoso.net"}
    assert fe("Get-CsUser", Identity="David Pelton")[0]["RegistrarPool"] == "pool02.contoso.net"
    assert "Move-CsUser" in fe.fails("Move-CsLegacyUser", Identity="David Pelton", Target="pool02.contoso.net").message


def test_move_legacy_user_exclusions(fe):
    [moved] = fe("Move-CsLegacyUser", Identity="Hao Chen", Target="pool02.contoso.net", ExcludeDialPlan=True,
                 ExcludeConferencingPolicy=True, PassThru=True)
    assert moved["DialPlan"] is None and moved["ConferencingPolicy"] is None
    assert moved["VoicePolicy"] == "Default Policy"
    assert moved["ExternalAccessPolicy"] == "Remote Access Only"


def test_move_legacy_user_refusals(fe):
    err = fe.fails("Move-CsLegacyUser", Identity="CONTOSO\\kmyer", Target="pool02.contoso.net")
    assert "trailing space" in err.message and "Ken Myer " in err.message
    assert "Move-CsUser" in fe.fails("Move-CsLegacyUser", Identity="Ana Trujillo", Target="pool02.contoso.net").message
    err = fe.fails("Move-CsLegacyUser", Identity="Hao Chen", Target="pool99.contoso.net")
    assert "pool99.contoso.net" in err.message and err.category == "ObjectNotFound"
    err = fe.fails("Move-CsLegacyUser", Identity="Hao Chen", Target="pool01.contoso.net")
    assert "Office Communications Server 2007 R2 pool" in err.message
    assert fe("Get-CsUser", Identity="Hao Chen")[0]["RegistrarPool"] == "pool01.contoso.net"


def test_move_legacy_user_before_import_fails(make_lab):
    fe = Shell(make_lab(5), "lync-fe01.contoso.net")
    with fe.lab.store.transaction() as tx:
        tx.meta_put("legacy_import", None)     # as if Phase 4's import step had been skipped
    err = fe.fails("Move-CsLegacyUser", Identity="Hao Chen", Target="pool02.contoso.net")
    assert "Import-CsLegacyConfiguration" in err.message
    fe("Import-CsLegacyConfiguration")
    fe("Move-CsLegacyUser", Identity="Hao Chen", Target="pool02.contoso.net")
    assert fe("Get-CsUser", Identity="Hao Chen")[0]["RegistrarPool"] == "pool02.contoso.net"


def test_whatif_changes_nothing(fe):
    [msg] = fe("Move-CsLegacyUser", Identity="Hao Chen", Target="pool02.contoso.net", WhatIf=True)
    assert msg["WhatIf"].startswith('What if: Performing operation "Move" on Target "CN=Hao Chen')
    assert fe("Get-CsUser", Identity="Hao Chen")[0]["RegistrarPool"] == "pool01.contoso.net"


def test_move_cs_user_prompts_unless_confirm_false(fe):
    """office-docs-powershell Move-CsUser.md, -Confirm: -Confirm:$False bypasses "the confirmation prompt that
    would otherwise appear when you attempt to move a user"; a WinRM command runs powershell.exe -NonInteractive,
    where a prompt fails (HostException) and nothing moves."""
    fe("Move-CsLegacyUser", Identity="Katie Jordan", Target="pool02.contoso.net")
    err = fe.fails("Move-CsUser", Identity="Katie Jordan", Target="pool01.contoso.net")
    assert err.message == "PowerShell is in NonInteractive mode. Read and Prompt functionality is not available."
    assert err.exception == "System.Management.Automation.Host.HostException" and err.fqid.startswith("HostException,")
    assert fe("Get-CsUser", Identity="Katie Jordan")[0]["RegistrarPool"] == "pool02.contoso.net"
    [msg] = fe("Move-CsUser", Identity="Katie Jordan", Target="pool01.contoso.net", WhatIf=True)
    assert msg["WhatIf"].startswith("What if:")   # -WhatIf answers ShouldProcess without a prompt


def test_rollback_with_move_cs_user(fe):
    fe("Move-CsLegacyUser", Identity="Katie Jordan", Target="pool02.contoso.net")
    err = fe.fails("Move-CsUser", Identity="Hao Chen", Target="pool02.contoso.net", Confirm=False)
    assert "Move-CsLegacyUser" in err.message
    [back] = fe("Move-CsUser", Identity="Katie Jordan", Target="pool01.contoso.net", PassThru=True, Confirm=False)
    assert back["RegistrarPool"] == "pool01.contoso.net" and back["ConferencingPolicy"] is None
    assert [u["DisplayName"] for u in fe("Get-CsUser", OnOfficeCommunicationServer=True,
                                          Identity="Katie Jordan")] == ["Katie Jordan"]
    with fe.lab.store.transaction(write=False) as tx:
        assert {c["Pool"] for _k, c in tx.query("conference", prefix="kjordan/")} == {"pool01.contoso.net"}
    # and forward again: the legacy policies are still known
    [again] = fe("Move-CsLegacyUser", Identity="Katie Jordan", Target="pool02.contoso.net", PassThru=True)
    assert again["ConferencingPolicy"] == "Executive Meeting Policy"


def test_rollback_to_ocs_loses_the_meetings_scheduled_on_lync(fe):
    """Move-CsUser (Lync Server 2010 reference, learn.microsoft.com gg398528(v=ocs.14)): users moved back to
    OCS "will likely experience functionality and data loss" and may have to reschedule meetings created while
    homed on Lync. The lab drops those meetings and records them as lost; the ones migrated from OCS (assumed)
    go back with the user."""
    from lync_lab.perform.users import schedule_lync_meetings

    fe("Move-CsLegacyUser", Identity="Katie Jordan", Target="pool02.contoso.net")
    with fe.lab.store.transaction() as tx:
        before = {c["ConferenceId"] for _k, c in tx.query("conference", prefix="kjordan/")}
        assert schedule_lync_meetings(tx, "pool02.contoso.net")["changed"]
        scheduled = {c["ConferenceId"] for _k, c in tx.query("conference", prefix="kjordan/")} - before
    assert len(scheduled) == 1
    fe("Move-CsUser", Identity="Katie Jordan", Target="pool01.contoso.net", Confirm=False)
    with fe.lab.store.transaction(write=False) as tx:
        assert {c["ConferenceId"] for _k, c in tx.query("conference", prefix="kjordan/")} == before
        lost = [d for _k, d in tx.query("lost_data", prefix="kjordan/")]
    assert [d["ConferenceId"] for d in lost] == list(scheduled) and lost[0]["Origin"] == "lync"


def test_move_cs_user_force_moves_no_meetings(fe):
    """office-docs-powershell Move-CsUser.md, -Force: moves the user account without moving contacts or
    meetings; "Contacts and meetings are not recoverable"."""
    fe("Move-CsLegacyUser", Identity="Katie Jordan", Target="pool02.contoso.net")
    fe("Move-CsUser", Identity="Katie Jordan", Target="pool01.contoso.net", Confirm=False, Force=True)
    with fe.lab.store.transaction(write=False) as tx:
        assert tx.query("conference", prefix="kjordan/") == []
        assert tx.query("lost_data", prefix="kjordan/") != []


def test_grant_policy(fe):
    [u] = fe("Grant-CsConferencingPolicy", Identity="Chen Yang", PolicyName="Executive Meeting Policy", PassThru=True)
    assert u["ConferencingPolicy"] == "Executive Meeting Policy"
    assert "Cannot find policy" in fe.fails("Grant-CsConferencingPolicy", Identity="Chen Yang",
                                            PolicyName="Missing").message
    fe("Grant-CsConferencingPolicy", Identity="Chen Yang", PolicyName=None)
    assert fe("Get-CsUser", Identity="Chen Yang")[0]["ConferencingPolicy"] is None


def test_double_hop_without_delegation(make_lab):
    lab = make_lab(6, double_hop=True)
    ntlm = Shell(lab, "lync-fe01.contoso.net")
    err = ntlm.fails("Get-CsUser", Identity="Hao Chen")
    assert "Active Directory operation failed" in err.message and "successful bind" in err.message
    assert ntlm("Get-CsUser", Identity="Hao Chen", Credential={"username": "CONTOSO\\lyncadmin", "password": "x"})
    credssp = Shell(lab, "lync-fe01.contoso.net", SessionInfo("CONTOSO\\lyncadmin", "credssp", can_delegate=True))
    assert credssp("Get-CsUser", Identity="Hao Chen")
    audit = lab.audit.read()
    assert audit[-2]["params"]["Credential"]["password"] == "********"
    assert audit[0]["outcome"] == "error"


def test_lync_cmdlets_absent_where_lync_is_not_installed(make_lab):
    lab = make_lab(3)
    err = Shell(lab, "lync-fe01.contoso.net").fails("Get-CsUser")
    assert err.message.startswith("The term 'Get-CsUser' is not recognized")
    err = Shell(make_lab(6), "ocs-fe01.contoso.net").fails("Move-CsLegacyUser", Identity="x", Target="y")
    assert err.category == "ObjectNotFound"


def test_stage_7_has_waves_moved_like_phase_6(make_lab):
    lab = make_lab(7)
    fe = Shell(lab, "lync-fe01.contoso.net")
    on_lync = {u["DisplayName"] for u in fe("Get-CsUser", OnLyncServer=True)}
    assert on_lync == set(lab.scenario.waves["test"]) | set(lab.scenario.waves["pilot"])
    with lab.store.transaction(write=False) as tx:
        assert servers.has_event(tx, "lync-fe01.contoso.net", "LS User Replicator", 30024)


def test_a_wildcard_display_name_moves_every_user_it_matches(fe):
    """office-docs-powershell Move-CsLegacyUser.md and Move-CsUser.md, -Identity: the * wildcard may be used with
    a display name, and "* Smith" returns all the users whose display name ends with " Smith": the cmdlet acts on
    each of them, it does not refuse the identity as ambiguous."""
    assert sorted(u["DisplayName"] for u in fe("Get-CsUser", Identity="*Chen*")) == ["Chen Yang", "Hao Chen"]
    fe("Move-CsLegacyUser", Identity="*Chen*", Target="pool02.contoso.net")
    assert {u["RegistrarPool"] for u in fe("Get-CsUser", Identity="*Chen*")} == {"pool02.contoso.net"}
    fe("Move-CsUser", Identity="*Chen*", Target="pool01.contoso.net", Confirm=False)
    assert {u["RegistrarPool"] for u in fe("Get-CsUser", Identity="*Chen*")} == {"pool01.contoso.net"}
