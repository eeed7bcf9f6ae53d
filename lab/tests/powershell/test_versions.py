"""lync_lab.powershell.versions: the first construct a PowerShell version lacks, with that version's error.

Sources per construct are in the module's docstring (PowerShell-Docs reference/3.0 and 5.0 topics for what each
version added; PowerShell 2.0 transcripts for the wording)."""

from __future__ import annotations

import pytest

from lync_lab.powershell.versions import first_missing
from plugins.module_utils.lync.envelope import ENVELOPE_SCRIPT


# Lines of the collection's envelope before it was made PowerShell 2.0 compatible (commit a7aa588), which the
# lab's PowerShell 2.0 hosts must refuse: -notin, [ordered] and ConvertFrom-Json/ConvertTo-Json are 3.0.
ENVELOPE_FOR_POWERSHELL_3 = r"""$ErrorActionPreference='Stop'
$o=[Console]::Out
function W($x){$o.WriteLine((ConvertTo-Json $x -Compress -Depth 5));$o.Flush()}
try{$q=ConvertFrom-Json ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadLine())))
foreach($m in @($q.modules)){if($m -notin @('Lync')){throw "module not allowed: $m"};Import-Module $m}
}catch{W @{fatal=$_.Exception.Message};exit 1}
foreach($k in @($q.calls)){$d=[ordered]@{};foreach($y in $k.PSObject.Properties){if($y.Name -in @($k.select)){$d[$y.Name]=$y.Value}};W $d}
"""


def test_the_powershell_3_envelope_is_refused_by_powershell_2_before_anything_runs():
    """The old envelope uses -notin, -in, [ordered] and ConvertFrom-Json/ConvertTo-Json (all PowerShell 3.0). On
    2.0 the parser stops at the first -notin before anything runs (PSAppDeployToolkit#436, qtlinguist-installers#17:
    "You must provide a value expression on the right-hand side of the '-' operator.", ExpectedValueExpression)."""
    found = first_missing(ENVELOPE_FOR_POWERSHELL_3, "2.0")
    assert found is not None and found.at_parse
    assert (found.construct, found.since) == ("-notin", "3.0")
    assert found.error.fqid == "ExpectedValueExpression"
    assert found.error.message == "You must provide a value expression on the right-hand side of the '-' operator."
    line = ENVELOPE_FOR_POWERSHELL_3.split("\n")[found.position.line_number - 1]
    assert "$m -notin @('Lync')" in line
    assert line[found.position.start_column:].startswith("notin")   # 2.0 points after the '-'
    assert first_missing(ENVELOPE_FOR_POWERSHELL_3, "3.0") is None


@pytest.mark.parametrize("version", ["2.0", "3.0", "4.0"])
def test_the_collections_envelope_runs_on_every_powershell_the_hosts_have(version):
    """ENVELOPE_SCRIPT as shipped: OCS 2007 R2 hosts have PowerShell 2.0 (Windows Server 2003/2008/2008 R2,
    wmf-overview.md), Lync Server 2013 hosts 3.0 or 4.0 (lync-server-2013-additional-software-requirements.md)."""
    assert first_missing(ENVELOPE_SCRIPT, version) is None


def test_runtime_constructs_are_reported_in_text_order_when_nothing_fails_to_parse():
    script = "$d = [ordered]@{a=1}\n$j = ConvertTo-Json $d\n"
    found = first_missing(script, "2.0")
    assert (found.construct, found.at_parse, found.position.line_number) == ("[ordered]", False, 1)
    # RedSiege/Egress-Assess#33 (PowerShell 2.0): the TypeNotFound text.
    assert found.error.message == ("Unable to find type [ordered]: make sure that the assembly containing this "
                                   "type is loaded.")
    assert found.error.fqid == "TypeNotFound"
    later = first_missing("$j = ConvertFrom-Json $text", "2.0")
    assert later.construct == "ConvertFrom-Json" and later.error.fqid == "CommandNotFoundException"
    assert later.error.message.startswith("The term 'ConvertFrom-Json' is not recognized as the name of a cmdlet,")


def test_a_parse_error_wins_over_an_earlier_runtime_construct():
    found = first_missing("$x = ConvertFrom-Json $t\nif ($x -in @(1,2)) { 'yes' }\n", "2.0")
    assert (found.construct, found.at_parse, found.position.line_number) == ("-in", True, 2)


def test_version_5_constructs_and_psitem():
    assert first_missing("[string]::new('a', 1)", "4.0").construct == "::new"
    assert first_missing("[string]::new('a', 1)", "5.0") is None
    assert first_missing("class Box { [int]$Size }", "4.0").error.fqid == "ReservedKeywordNotAllowed"
    assert first_missing("Get-FileHash C:\\x", "3.0").since == "4.0"
    psitem = first_missing("1..3 | ForEach-Object { $PSItem }", "2.0")
    assert psitem.construct == "$PSItem" and psitem.error is None     # an unset variable there: $null
    assert first_missing("Get-Service | Where-Object { $_.Status -eq 'Running' }", "2.0") is None
