"""The constructs Microsoft's EXAMPLES use, one by one (test_microsoft_examples.py runs the examples themselves).

Sources: PowerShell-Docs@a7bae07a05 reference/3.0 (Windows PowerShell 3.0): Microsoft.PowerShell.Core/About/
about_Arrays.md, about_Operators.md (`,` builds an array; `..` the range operator), about_Splatting.md,
about_CommonParameters.md (aliases ea, ov ...; -OutVariable), about_Redirection.md (`>` sends output to a file,
`>>` appends, as Out-File and Out-File -Append), about_Foreach.md, about_Quoting_Rules.md (`$( )` in a
double-quoted string), and the cmdlet pages ForEach-Object.md, Out-File.md, Group-Object.md, Write-Host.md;
office-docs-powershell skype/skype-ps/SkypeForBusiness/Grant-CsOUPermission.md (-ObjectType "user","contact").
"""

from __future__ import annotations

import pytest

from lync_lab.config import LabConfig
from lync_lab.lab import Lab
from lync_lab.powershell.clixml import decode_clixml
from lync_lab.powershell.syntax import ScriptParseError, parse_script

from conftest import ps


@pytest.fixture(scope="module")
def fe(tmp_path_factory):
    lab = Lab(LabConfig(state_dir=tmp_path_factory.mktemp("subset"), stage=6))
    yield lab.runtime_for(lab.server("lync-fe01.contoso.net"))
    lab.store.close()


def errors(sink) -> str:
    return decode_clixml(sink.stderr_text)


def test_a_list_with_spaces_after_the_commas_is_one_array(host, engine_double):
    """about_Arrays: `Select-Object A, B` passes the array A,B; the grammar's gap is closed without moving
    anything in the text, so positions stay those of the typed line."""
    code, sink = ps(host, "Get-CsUser | Select-Object DisplayName, RegistrarPool, @{n='Sip'; e={$_.SipAddress}} "
                          "-First 1 | Format-List")
    assert code == 0, errors(sink)
    assert sink.stdout_text.split() == ["DisplayName", ":", "David", "Pelton", "RegistrarPool", ":",
                                        "ocspool01.contoso.net", "Sip", ":", "sip:david@contoso.net"]
    parsed = parse_script("Select-Object Name, DisplayName; Get-X -Bogus")
    assert parsed.source == "Select-Object Name, DisplayName; Get-X -Bogus"
    with pytest.raises(ScriptParseError) as exc:
        parse_script("Select-Object Name, ((")   # still a syntax error, reported on the typed text
    assert exc.value.position.line_text == "Select-Object Name, (("


def test_strings_and_comments_keep_their_commas(host, engine_double):
    code, sink = ps(host, "Write-Output 'a, b', \"c, d\" # x, y\nWrite-Output e, f")
    assert (code, sink.stdout_text) == (0, "a, b\r\nc, d\r\ne\r\nf\r\n")


def test_splatting_binds_the_hashtable_by_name(host, engine_double):
    code, sink = ps(host, "$p = @{Identity='Ken Myer'; Target='pool02.contoso.net'}; Move-CsLegacyUser @p")
    assert code == 0, errors(sink)
    assert engine_double.calls[-1][1] == {"Identity": "Ken Myer", "Target": "pool02.contoso.net"}


@pytest.mark.parametrize("action", ["-ea 0", "-ErrorAction 0", "-ea SilentlyContinue", "-ErrorAction:0"])
def test_error_action_by_alias_and_number(host, engine_double, action):
    """ActionPreference's values: SilentlyContinue is 0, so `-ea 0` hides the error and the script goes on."""
    code, sink = ps(host, f"Get-CsUser -Identity Nobody {action}; Write-Output after")
    assert sink.stdout_text == "after\r\n" and sink.stderr_text == ""


def test_out_variable_keeps_the_output(host, engine_double):
    code, sink = ps(host, "Get-CsUser -ov users | Out-Null; $users.Count; Get-CsUser -OutVariable +users | Out-Null; "
                          "$users.Count")
    assert (code, sink.stdout_text) == (0, "3\r\n6\r\n")


def test_error_variable_is_outside_the_subset(host, engine_double):
    code, sink = ps(host, "Get-CsUser -Identity Nobody -ev e")
    assert code == 1 and "-ErrorVariable is not supported by the lync.migration lab." in errors(sink)


def test_ranges_foreach_and_multiple_assignment(host, engine_double):
    code, sink = ps(host, "1..3 | ForEach-Object { $_ * 2 }; foreach ($i in 3..1) { \"i=$i\" }; "
                          "$a, $b = 'x', 'y', 'z'; $b.Count; 7 % 3; 7 / 2")
    assert (code, sink.stdout_text) == (0, "2\r\n4\r\n6\r\ni=3\r\ni=2\r\ni=1\r\n2\r\n1\r\n3.5\r\n")


def test_subexpression_inside_a_string(host, engine_double):
    code, sink = ps(host, '$x = 1..4; Write-Host "Raw contains $($x.Count) lines."')
    assert (code, sink.stdout_text) == (0, "Raw contains 4 lines.\r\n")


def test_several_names_for_a_flags_enum(fe):
    code, sink = ps(fe, 'Grant-CsOUPermission -OU "ou=Redmond,dc=contoso,dc=net" -ObjectType "user","contact"')
    assert (code, errors(sink)) == (0, "")


def test_out_file_and_redirection_write_the_formatted_output(fe):
    code, sink = ps(fe, "Get-CsPool -Identity pool02.contoso.net | Select-Object Fqdn > C:\\out.txt; "
                        "Get-CsSite | Select-Object -ExpandProperty Identity >> C:\\out.txt; "
                        "Get-Content C:\\out.txt")
    assert code == 0, errors(sink)
    lines = sink.stdout_text.split("\r\n")
    assert "pool02.contoso.net" in lines and "Site:Redmond" in lines and "Fqdn" in lines
    code, sink = ps(fe, "Get-CsSite | Out-File C:\\out.txt -NoClobber")
    assert code == 1 and "Out-File : The file 'C:\\out.txt' already exists." in errors(sink)
    code, sink = ps(fe, "Get-CsSite > $null")
    assert (code, sink.stdout_text) == (0, "")


def test_other_redirections_say_so(fe):
    code, sink = ps(fe, "Get-CsSite 2>&1")
    assert code == 1 and "The redirection '2>&1' is not supported by the lync.migration lab." in errors(sink)


def test_group_object_as_in_its_help(fe):
    """Group-Object.md Example 2: `1..20 | Group-Object -Property {$_ % 2}` gives the groups 1 and 0, in the
    order their values first appear."""
    code, sink = ps(fe, "1..20 | Group-Object -Property {$_ % 2} -NoElement")
    assert (code, sink.stdout_text.split()) == (0, ["Count", "Name", "-----", "----", "10", "1", "10", "0"])


@pytest.mark.parametrize("command", ["Get-Date", "get-member", "New-Item -Path x", "dir", "Invoke-Command {1}"])
def test_windows_powershell_cmdlets_the_lab_lacks_are_not_supported_not_unknown(fe, command):
    """They exist on every Windows Server 2012 (the 3.0 reference lists them), so "not recognized" would be
    false; the lab says they are outside what it models."""
    code, sink = ps(fe, command)
    assert code == 1 and "is not supported by the lync.migration lab." in errors(sink)
    assert "is not recognized" not in errors(sink)


def test_a_name_windows_does_not_have_is_still_not_recognized(fe):
    code, sink = ps(fe, "Get-Nothing")
    assert code == 1 and "The term 'Get-Nothing' is not recognized" in errors(sink)


def test_get_credential_cannot_prompt(fe):
    code, sink = ps(fe, "Get-Credential -Message 'who?'")
    assert code == 1 and "PowerShell is in NonInteractive mode." in errors(sink)


def test_a_parameter_bound_but_not_modelled_says_so(fe):
    code, sink = ps(fe, "Get-CimInstance -ClassName Win32_Service -CimSession $null")
    assert "The parameter -CimSession of Get-CimInstance is not supported by the lync.migration lab." in errors(sink)


def test_wildcard_filter_of_get_cscomputer(fe):
    """Get-CsComputer.md -Filter: wildcards on the Identity, e.g. -Filter "atl-*"."""
    code, sink = ps(fe, 'Get-CsComputer -Filter "lync-*" | Select-Object -ExpandProperty Identity')
    assert code == 0 and sorted(sink.stdout_text.split()) == ["lync-fe01.contoso.net", "lync-sql01.contoso.net"]


def test_publish_cstopology_example_without_its_markdown_escape(fe):
    """Publish-CsTopology.md Example 1 as PowerShell reads it once the page's `\\>` is the `>` it stands for:
    the enabled topology's XML written to a file (about_Redirection) and published from there."""
    code, sink = ps(fe, "(Get-CsTopology -AsXml).ToString() > C:\\Topology.xml\n\n"
                        'Publish-CsTopology -FileName "C:\\Topology.xml"')
    assert (code, errors(sink)) == (0, "")


def test_enumeration_values_compare_sort_and_convert_as_in_powershell(fe):
    """values.EnumValue (Get-CsAdForest's LcForestSettingsState): -eq takes the name in any case or the number;
    ConvertTo-Json writes the number (Windows PowerShell 3.0-5.1)."""
    code, sink = ps(fe, '(Get-CsAdForest) -eq "lc_forestsettings_state_ready"; (Get-CsAdForest) -eq 1; '
                        "Get-CsAdForest | ConvertTo-Json; (Get-CsAdForest).ToString()")
    assert (code, sink.stdout_text) == (0, "True\r\nTrue\r\n1\r\nLC_FORESTSETTINGS_STATE_READY\r\n")


def test_a_collection_shows_four_items_then_an_ellipsis(fe):
    """about_Preference_Variables (3.0): $FormatEnumerationLimit is 4 by default; a longer collection's display
    ends with '...' (the objects keep every item)."""
    code, sink = ps(fe, "1..20 | Group-Object -Property {$_ % 2}; (1..20 | Group-Object -Property {$_ % 2})[0].Count")
    assert code == 0
    assert "   10 1    {1, 3, 5, 7...}" in sink.stdout_text.split("\r\n")
    assert sink.stdout_text.endswith("10\r\n")
