"""How the lab resolves a user's -Identity (Get-CsUser, Set-CsUser, Grant-Cs*Policy, Move-CsUser, Move-CsLegacyUser),
each behaviour against the Microsoft page that states it (MicrosoftDocs/office-docs-powershell, folder
skype/skype-ps/SkypeForBusiness, unless another repository is named)."""

import pytest

from lync_lab.model import users as U

KEN_SIP = "sip:ken.myer@contoso.net"      # contoso-small's user whose display name is "Ken Myer " (trailing space)


def _put_copy(fe, sam: str, **changes) -> None:
    """A second AD account built from ``sam``'s, with ``changes`` (SamAccountName, names ...)."""
    with fe.lab.store.transaction() as tx:
        doc = dict(tx.get("user", sam))
        doc.update(changes)
        U.put_user(tx, doc, "CONTOSO")


def test_a_display_name_is_found_only_with_its_own_spaces(fe):
    """No Lync page says -Identity is trimmed, and PowerShell passes a quoted string to the command exactly as it
    was typed (MicrosoftDocs/PowerShell-Docs reference/5.1/Microsoft.PowerShell.Core/About/about_Quoting_Rules.md,
    single-quoted strings). So "Ken Myer" is not the display name "Ken Myer ", and " David Pelton" is not
    "David Pelton". Case does not matter: displayName has the String(Unicode) syntax, a case-insensitive string
    (MicrosoftDocs/win32 desktop-src/ADSchema/a-displayname.md, s-string-unicode.md)."""
    [ken] = fe("Get-CsUser", Identity="Ken Myer ")
    assert ken["SipAddress"] == KEN_SIP
    for near_miss in ("Ken Myer", " Ken Myer ", "Ken Myer  "):
        err = fe.fails("Get-CsUser", Identity=near_miss)
        assert err.message == f'Management object not found for identity "{near_miss}".'
        assert err.category == "ObjectNotFound"
    for spaced in (" David Pelton", "David Pelton ", " sip:david.pelton@contoso.net", "CONTOSO\\dpelton "):
        assert fe.fails("Get-CsUser", Identity=spaced).category == "ObjectNotFound"
    for cased in ("DAVID PELTON", "SIP:David.Pelton@Contoso.NET", "contoso\\DPELTON"):
        assert fe("Get-CsUser", Identity=cased)[0]["SamAccountName"] == "dpelton"


def test_a_spaced_identity_moves_nobody(fe):
    """Move-CsUser.md and Move-CsLegacyUser.md (-Identity): the same four forms as Get-CsUser; an identity that is
    not one of the user's names, here one with an extra space, names nobody, so nothing moves."""
    err = fe.fails("Move-CsLegacyUser", Identity="Hao Chen ", Target="pool02.contoso.net")
    assert err.fqid == "Identity,Microsoft.Rtc.Management.AD.Cmdlets.MoveOcsLegacyUserCmdlet"
    assert err.category == "ObjectNotFound"
    err = fe.fails("Move-CsUser", Identity=" Ana Trujillo", Target="pool01.contoso.net", Confirm=False)
    assert err.fqid == "Identity,Microsoft.Rtc.Management.AD.Cmdlets.MoveOcsUserCmdlet"
    assert fe("Get-CsUser", Identity="Hao Chen")[0]["RegistrarPool"] == "pool01.contoso.net"
    assert fe("Get-CsUser", Identity="Ana Trujillo")[0]["RegistrarPool"] == "pool02.contoso.net"


def test_only_the_asterisk_is_a_wildcard_and_only_for_display_names(fe):
    """Get-CsUser.md (-Identity): the asterisk may be used when the identity is the display name ("* Smith": every
    display name ending in " Smith"); Example 4: "Pilar*" returns every user whose name begins with Pilar. The
    page names no other wildcard, so ? and [ stand for themselves (assumed, FIDELITY Get-CsUser)."""
    assert [u["DisplayName"] for u in fe("Get-CsUser", Identity="* Chen")] == ["Hao Chen"]
    assert sorted(u["DisplayName"] for u in fe("Get-CsUser", Identity="Da*")) == ["Dan Park", "David Pelton"]
    assert [u["DisplayName"] for u in fe("Get-CsUser", Identity="Ken*")] == ["Ken Myer "]
    assert fe.fails("Get-CsUser", Identity="Hao Che?").category == "ObjectNotFound"
    _put_copy(fe, "chansen", SamAccountName="chansen2", SipAddress="sip:claus.hansen2@contoso.net",
              UserPrincipalName="claus.hansen2@contoso.net", DisplayName="Claus [IT]",
              DistinguishedName="CN=Claus [IT],OU=Users,OU=Contoso,DC=contoso,DC=net")
    assert [u["DisplayName"] for u in fe("Get-CsUser", Identity="Claus [IT]*")] == ["Claus [IT]"]
    assert fe.fails("Get-CsUser", Identity="Claus [I]*").category == "ObjectNotFound"
    # A SIP address is not a display name: * there matches nothing.
    assert fe.fails("Get-CsUser", Identity="*@contoso.net").category == "ObjectNotFound"


def test_set_cs_user_with_a_wildcard_changes_every_user_it_matches(fe):
    """Set-CsUser.md (-Identity): the * wildcard may be used with the display name and reaches every user whose
    display name it matches (the page's example is "* Smith")."""
    changed = fe("Set-CsUser", Identity="*Chen*", EnterpriseVoiceEnabled=True, PassThru=True)
    assert sorted(u["DisplayName"] for u in changed) == ["Chen Yang", "Hao Chen"]
    assert {u["EnterpriseVoiceEnabled"] for u in fe("Get-CsUser", Identity="*Chen*")} == {True}
    err = fe.fails("Set-CsUser", Identity="Nobody Here", Enabled=False)
    assert err.fqid == "Identity,Microsoft.Rtc.Management.AD.Cmdlets.SetOcsUserCmdlet"


def test_grant_with_a_wildcard_assigns_every_user_it_matches(fe):
    """Grant-CsConferencingPolicy.md, Grant-CsVoicePolicy.md ... (-Identity): the * wildcard may be used with the
    display name, "* Smith" reaching every user whose display name ends in " Smith"."""
    fe("Import-CsLegacyConfiguration")
    fe("Move-CsLegacyUser", Identity="*Chen*", Target="pool02.contoso.net")
    granted = fe("Grant-CsConferencingPolicy", Identity="*Chen*", PolicyName="Executive Meeting Policy",
                 PassThru=True)
    assert sorted(u["DisplayName"] for u in granted) == ["Chen Yang", "Hao Chen"]
    assert {u["ConferencingPolicy"] for u in fe("Get-CsUser", Identity="*Chen*")} == {"Executive Meeting Policy"}
    # Without a wildcard a name two accounts share is still refused (assumed: no page documents that case).
    _put_copy(fe, "cyang", SamAccountName="cyang2", SipAddress="sip:chen.yang2@contoso.net",
              UserPrincipalName="chen.yang2@contoso.net",
              DistinguishedName="CN=Chen Yang,OU=Sales,OU=Contoso,DC=contoso,DC=net")
    err = fe.fails("Grant-CsConferencingPolicy", Identity="Chen Yang", PolicyName="Executive Meeting Policy")
    assert "ambiguous" in err.message


def test_move_legacy_user_refuses_a_user_already_on_lync_and_leaves_it_there(fe):
    """Move-CsLegacyUser.md (synopsis, description): it migrates accounts from OCS 2007 R2; a user already homed
    on Lync moves with Move-CsUser (Move-CsUser.md: between on-premises pools). Wording and FQID assumed."""
    err = fe.fails("Move-CsLegacyUser", Identity="sip:ana.trujillo@contoso.net", Target="pool02.contoso.net")
    assert err.fqid == "NotLegacyUser,Microsoft.Rtc.Management.AD.Cmdlets.MoveOcsLegacyUserCmdlet"
    assert "Move-CsUser" in err.message
    assert fe("Get-CsUser", Identity="Ana Trujillo")[0]["RegistrarPool"] == "pool02.contoso.net"


def test_move_legacy_user_refuses_a_spaced_name_whatever_names_the_user(fe):
    """OfficeDocs-SkypeForBusiness Lync/LyncServer/move-remaining-users-to-lync-server-2013_1.md: Move-CsLegacyUser
    needs properly formed user names and cannot move an account whose name has leading or trailing spaces. The
    account is refused whether -Identity names it by SIP address, UPN or the (spaced) display name."""
    for ident in (KEN_SIP, "ken.myer@contoso.net", "Ken Myer "):
        err = fe.fails("Move-CsLegacyUser", Identity=ident, Target="pool02.contoso.net")
        assert err.fqid == "InvalidUserName,Microsoft.Rtc.Management.AD.Cmdlets.MoveOcsLegacyUserCmdlet"
        assert '"Ken Myer "' in err.message
    assert fe("Get-CsUser", Identity=KEN_SIP)[0]["RegistrarPool"] == "pool01.contoso.net"


def test_a_wildcard_that_matches_a_refused_user_moves_none_of_them(fe):
    """Assumed (FIDELITY Move-CsLegacyUser): the pages do not say whether the other matches of a wildcard move
    when one of them is refused; the lab runs the call in one transaction, so none does."""
    err = fe.fails("Move-CsLegacyUser", Identity="K*", Target="pool02.contoso.net")   # Karen, Katie, Ken, Kim
    assert err.fqid.startswith("InvalidUserName,")
    assert {u["RegistrarPool"] for u in fe("Get-CsUser", Identity="K*")} == {"pool01.contoso.net"}


def test_move_legacy_user_moves_a_disabled_account(fe):
    """Assumed (FIDELITY Move-CsLegacyUser): no page says Move-CsLegacyUser refuses an account disabled in AD or
    in Lync; Set-CsUser.md (-Enabled) says an account disabled that way keeps its Lync settings."""
    fe("Set-CsUser", Identity="Chen Yang", Enabled=False)
    for ident in ("Disabled Dana", "Chen Yang"):
        [moved] = fe("Move-CsLegacyUser", Identity=ident, Target="pool02.contoso.net", PassThru=True)
        assert moved["RegistrarPool"] == "pool02.contoso.net"
    assert fe("Get-CsUser", Identity="Chen Yang")[0]["Enabled"] is False


@pytest.mark.parametrize("cmdlet", ["Move-CsUser", "Move-CsLegacyUser"])
def test_move_whatif_names_each_matched_user_and_moves_none(fe, cmdlet):
    """Move-CsUser.md and Move-CsLegacyUser.md (-WhatIf): describes what would happen without executing the
    command; the * wildcard names every matching user, so each gets its What if line."""
    ident, target = ("*Chen*", "pool02.contoso.net")
    if cmdlet == "Move-CsUser":
        fe("Move-CsLegacyUser", Identity=ident, Target=target)
        target = "pool01.contoso.net"
    before = {u["SamAccountName"]: u["RegistrarPool"] for u in fe("Get-CsUser", Identity=ident)}
    lines = fe(cmdlet, Identity=ident, Target=target, WhatIf=True)
    assert sorted(line["WhatIf"] for line in lines) == [
        'What if: Performing operation "Move" on Target "CN=Chen Yang,OU=Users,OU=Contoso,DC=contoso,DC=net".',
        'What if: Performing operation "Move" on Target "CN=Hao Chen,OU=Users,OU=Contoso,DC=contoso,DC=net".',
    ]
    assert {u["SamAccountName"]: u["RegistrarPool"] for u in fe("Get-CsUser", Identity=ident)} == before


def test_move_legacy_user_force_still_moves_the_meetings(fe):
    """Move-CsLegacyUser.md (-Force): it only suppresses non-fatal error messages. Unlike Move-CsUser's -Force
    (Move-CsUser.md: the account moves without its meetings), the user's meetings still move with it, as
    OfficeDocs-SkypeForBusiness Lync/LyncServer/move-remaining-users-to-lync-server-2013_1.md says they do."""
    with fe.lab.store.transaction(write=False) as tx:
        before = [c["ConferenceId"] for _k, c in tx.query("conference", prefix="dpelton/")]
    [moved] = fe("Move-CsLegacyUser", Identity="David Pelton", Target="pool02.contoso.net", Force=True, PassThru=True)
    assert moved["ConferencingPolicy"] == "Executive Meeting Policy"
    with fe.lab.store.transaction(write=False) as tx:
        after = tx.query("conference", prefix="dpelton/")
        lost = tx.query("lost_data", prefix="dpelton/")
    assert [c["ConferenceId"] for _k, c in after] == before and len(before) == 2
    assert {c["Pool"] for _k, c in after} == {"pool02.contoso.net"} and lost == []


def test_a_bare_logon_name_is_not_an_identity(fe):
    """Get-CsUser.md (-Identity): the four forms are the SIP address, the UPN, domain\\logon and the display name
    (plus the DN); the logon name alone is not one of them (it need not be unique in a forest)."""
    assert fe.fails("Get-CsUser", Identity="dpelton").category == "ObjectNotFound"
    assert fe("Get-CsUser", Identity="CONTOSO\\dpelton")[0]["DisplayName"] == "David Pelton"


def test_move_legacy_user_prompts_only_when_confirm_is_given(fe):
    """Move-CsLegacyUser.md (-Confirm): prompts for confirmation before the command runs; the page documents no
    prompt without it (the migration guide's moves show none). Under powershell.exe -NonInteractive, as every
    WinRM command runs, the prompt is an error before anything changes
    (PowerShell-Docs reference/5.1/Microsoft.PowerShell.Core/About/about_PowerShell_exe.md, -NonInteractive)."""
    err = fe.fails("Move-CsLegacyUser", Identity="Hao Chen", Target="pool02.contoso.net", Confirm=True)
    assert err.fqid.startswith("HostException,") and err.exception == "System.Management.Automation.Host.HostException"
    assert fe("Get-CsUser", Identity="Hao Chen")[0]["RegistrarPool"] == "pool01.contoso.net"
    fe("Move-CsLegacyUser", Identity="Hao Chen", Target="pool02.contoso.net", Confirm=False)
    fe("Move-CsLegacyUser", Identity="Chen Yang", Target="pool02.contoso.net")
    assert {u["RegistrarPool"] for u in fe("Get-CsUser", Identity="*Chen*")} == {"pool02.contoso.net"}
