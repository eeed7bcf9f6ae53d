"""Admin pipelines as typed at a prompt, and their errors as pywinrm/Ansible decode them."""

from __future__ import annotations

from winrm import Session

from conftest import ps


def decoded_stderr(sink) -> str:
    return Session._clean_error_msg(Session.__new__(Session), sink.stderr_text.encode()).decode()


def test_piping_users_into_move_calls_it_once_per_user(host, engine_double):
    code, sink = ps(host, "Get-CsUser | Where-Object {$_.RegistrarPool -like 'ocs*' -and -not ($_.LineURI -ne '')} | "
                          "Move-CsLegacyUser -Target pool02.contoso.net -Confirm:$false")
    assert code == 0, sink.stderr_text
    moves = [c for c in engine_double.calls if c[0] == "Move-CsLegacyUser"]
    assert [m[1] for m in moves] == [{"Target": "pool02.contoso.net", "Confirm": False,
                                      "Identity": "CN=David Pelton,OU=Users,DC=contoso,DC=net"}]


def test_filter_script_block_reaches_the_cmdlet_as_its_text(host, engine_double):
    ps(host, "Get-CsUser -Filter {RegistrarPool -eq 'ocspool01.contoso.net'}")
    assert engine_double.calls[0][1] == {"Filter": "RegistrarPool -eq 'ocspool01.contoso.net'"}


def test_one_failing_object_does_not_stop_the_others(host, engine_double):
    code, sink = ps(host, "'Nobody','Ken Myer' | Move-CsLegacyUser -Target pool02.contoso.net -PassThru | "
                          "Select-Object -ExpandProperty RegistrarPool")
    assert sink.stdout_text == "pool02.contoso.net\r\n"
    assert 'Move-CsLegacyUser : Management object not found for identity "Nobody".' in decoded_stderr(sink)
    assert code == 1


def test_error_action_stop_ends_the_script(host, engine_double):
    code, sink = ps(host, "Get-CsUser -Identity Nobody -ErrorAction Stop; Write-Output after")
    assert code == 1 and sink.stdout_text == ""


def test_binding_error_is_clixml_that_pywinrm_decodes(host):
    code, sink = ps(host, "Get-CsUser -Identity 'Ken Myer' -Fitler x")
    assert code == 1
    assert sink.stderr_text.startswith('#< CLIXML\r\n<Objs Version="1.1.0.1" '
                                       'xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">')
    assert decoded_stderr(sink).splitlines() == [
        "Get-CsUser : A parameter cannot be found that matches parameter name 'Fitler'.",
        "At line:1 char:33",
        "+ Get-CsUser -Identity 'Ken Myer' -Fitler x",
        "+                                 ~~~~~~~",
        "    + CategoryInfo          : InvalidArgument: (:) [Get-CsUser], ParameterBindingException",
        "    + FullyQualifiedErrorId : NamedParameterNotFound,Microsoft.Rtc.Management.AD.Cmdlets.GetOcsUserCmdlet",
    ]


def test_syntax_error_runs_nothing(host, engine_double):
    code, sink = ps(host, "Get-CsUser; Move-CsLegacyUser -Identity \"Ken Myer -Target p")
    assert code == 1 and engine_double.calls == [] and sink.stdout_text == ""
    assert decoded_stderr(sink).splitlines()[3] == 'The string is missing the terminator: ".'


def test_lync_cmdlets_do_not_exist_on_an_ocs_server(host, engine_double):
    engine_double.lync_installed = False
    code, sink = ps(host, "Get-CsUser")
    assert code == 1
    assert "Get-CsUser : The term 'Get-CsUser' is not recognized as the name of a cmdlet" in decoded_stderr(sink)


def test_variables_member_access_and_default_table(host):
    code, sink = ps(host, "$u = Get-CsUser -Identity 'Ken Myer'\n$u.RegistrarPool\n"
                          "Get-CsUser | Sort-Object DisplayName -Descending | Select-Object DisplayName,Enabled")
    assert code == 0
    assert sink.stdout_text == ("ocspool01.contoso.net\r\n\r\nDisplayName    Enabled\r\n-----------    -------\r\n"
                                "Pilar Ackerman False\r\nKen Myer       True\r\nDavid Pelton   True\r\n\r\n\r\n")


def test_objects_with_many_properties_print_as_a_list(host):
    _, sink = ps(host, "Get-CsUser -Identity 'Ken Myer'")
    assert "\r\nIdentity      : CN=Ken Myer,OU=Users,DC=contoso,DC=net\r\nSipAddress    : sip:ken@contoso.net\r\n" in sink.stdout_text


def test_convertto_json_and_measure(host):
    _, sink = ps(host, "Get-CsUser -Identity 'Ken Myer' | Select-Object DisplayName,Enabled | ConvertTo-Json")
    assert sink.stdout_text == '{\r\n    "DisplayName":  "Ken Myer",\r\n    "Enabled":  true\r\n}\r\n'
    _, sink = ps(host, "(Get-CsUser | Where-Object Enabled -eq $true | Measure-Object).Count")
    assert sink.stdout_text == "2\r\n"


def test_get_help_shows_the_catalog_syntax(host):
    _, sink = ps(host, "Get-Help Move-CsLegacyUser -Detailed")
    assert "    Move-CsLegacyUser [-Identity] <UserIdParameter> [-Target] <Fqdn>" in sink.stdout_text
    assert "    -Target <Fqdn>\r\n        Required?                    true" in sink.stdout_text


def test_unsupported_constructs_say_so(host, engine_double):
    code, sink = ps(host, "while ($true) { Get-CsUser }")
    assert code == 1 and engine_double.calls == []
    assert "is not supported by the lync.migration lab." in decoded_stderr(sink)
