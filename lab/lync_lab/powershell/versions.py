"""Which PowerShell version a script needs: the first construct an older PowerShell lacks, and what it says.

    found = first_missing(script_text, "2.0")     # None: that version runs the script as far as the syntax goes
    found.construct, found.since, found.error      # e.g. "-notin", "3.0", ScriptParseError(...)

The script is parsed with the tree-sitter grammar (syntax.py), which knows today's PowerShell; the constructs
each older version lacks are looked up in the tree. A construct PowerShell rejects while *parsing* (an operator
it does not know) stops the whole script before anything runs, so the first such construct is reported even if
a runtime one comes earlier in the text; otherwise the first runtime construct in the text is reported (the
caller runs the script and raises ``error`` when execution reaches it; it is the text position, not the
execution order).

Where each version's additions come from: PowerShell-Docs ``reference/3.0`` (ConvertFrom-Json, ConvertTo-Json,
Invoke-RestMethod, Invoke-WebRequest, the CimCmdlets module; about_Comparison_Operators: -in/-notin "introduced in
PowerShell 3.0"; about_Hash_Tables: [ordered] "beginning in PowerShell 3.0"; about_Automatic_Variables: $PSItem
"same as $_", new in 3.0; about_Type_Accelerators / about_PSCustomObject: [pscustomobject] from 3.0),
``reference/4.0`` (Get-FileHash), ``reference/5.0`` (about_Classes, ::new, Compress-Archive, ...).

The error texts, per construct, with where each wording comes from:

- ``-in``/``-notin`` on 2.0 (parse error): "You must provide a value expression on the right-hand side of the '-'
  operator." with ErrorId ExpectedValueExpression, pointing just after the '-' (2.0 reads '-' then the word).
  From PowerShell 2.0 transcripts: PSAppDeployToolkit/PSAppDeployToolkit#436 (Windows 7, ``$Action - <<<< in``,
  that message) and lelegard/qtlinguist-installers#17 (``$subdir - <<<< notin``, ExpectedValueExpression).
  ``-shl``/``-shr`` are *assumed* to fail the same way (no transcript found).
- ``[ordered]`` and ``[pscustomobject]`` on 2.0 (runtime): "Unable to find type [ordered]: make sure that the
  assembly containing this type is loaded." ErrorId TypeNotFound, category InvalidOperation (RuntimeException).
  From a PowerShell 2.0 transcript: RedSiege/Egress-Assess#33 (``[ordered] <<<< @{``). For [pscustomobject] the
  same wording is *assumed* (the same type lookup).
- a cmdlet the version lacks (runtime): "The term 'ConvertFrom-Json' is not recognized as the name of a cmdlet,
  function, script file, or operable program. Check the spelling ..." ErrorId CommandNotFoundException: the text
  every PowerShell version gives (engine.not_recognized).
- ``$PSItem`` on 2.0: no error at all: it is an ordinary, unset variable there, so it reads as $null (``error``
  is None; about_Automatic_Variables).
- ``class``/``enum`` before 5.0 (parse error): "The 'class' keyword is not supported in this version of the
  language." ErrorId ReservedKeywordNotAllowed: *assumed* (the reserved-keyword error of PowerShell 3.0/4.0; no
  2.0 transcript found).
- ``[T]::new()`` before 5.0 (runtime): "Method invocation failed because [T] doesn't contain a method named
  'new'." ErrorId MethodNotFound: *assumed* wording (PowerShell 2.0-4.0 write "doesn't contain"; later versions
  "does not contain").
- Member enumeration (``$array.Name`` collecting each element's Name, new in 3.0) depends on values, not syntax,
  and is not detected here.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from .. import engine
from ..errors import PSError
from .clixml import SourcePosition
from .syntax import ParsedScript, ScriptParseError, parse_script, position_of

# Cmdlets by the version that added them (PowerShell-Docs reference/<version> module pages).
CMDLETS_SINCE = {
    "3.0": ("ConvertFrom-Json", "ConvertTo-Json", "Invoke-RestMethod", "Invoke-WebRequest", "Get-CimInstance",
            "Get-CimClass", "Get-CimAssociatedInstance", "Get-CimSession", "New-CimInstance", "New-CimSession",
            "New-CimSessionOption", "Remove-CimInstance", "Remove-CimSession", "Set-CimInstance",
            "Invoke-CimMethod", "Register-CimIndicationEvent", "Export-BinaryMiLog", "Import-BinaryMiLog",
            "Unblock-File", "Show-Command", "Get-ControlPanelItem", "Show-ControlPanelItem", "Resume-Job",
            "Suspend-Job", "Rename-Computer", "Update-Help", "Save-Help", "New-PSSessionConfigurationFile",
            "Test-PSSessionConfigurationFile", "New-PSTransportOption", "Get-TypeData", "Remove-TypeData"),
    "4.0": ("Get-FileHash", "Get-DscResource", "New-DscChecksum", "Test-DscConfiguration", "Start-DscConfiguration"),
    "5.0": ("Compress-Archive", "Expand-Archive", "ConvertFrom-String", "Convert-String", "Get-Clipboard",
            "Set-Clipboard", "New-TemporaryFile", "New-Guid", "Format-Hex", "Get-ItemPropertyValue",
            "Clear-RecycleBin", "Write-Information", "Get-Runspace", "Debug-Runspace"),
}
_CMDLET_VERSION = {name.lower(): version for version, names in CMDLETS_SINCE.items() for name in names}
# Type accelerators by version (about_Type_Accelerators; [ordered] about_Hash_Tables).
TYPE_ACCELERATORS_SINCE = {"ordered": "3.0", "pscustomobject": "3.0"}
OPERATORS_SINCE = {"-in": "3.0", "-notin": "3.0", "-shl": "3.0", "-shr": "3.0"}
KEYWORDS_SINCE = {"class_statement": ("class", "5.0"), "enum_statement": ("enum", "5.0")}


@dataclass(frozen=True)
class MissingConstruct:
    construct: str             # as written in the script: "-notin", "[ordered]", "ConvertTo-Json", "::new"
    since: str                 # the PowerShell version that added it
    position: SourcePosition
    error: PSError | None      # what the older version raises for it; None when it silently differs ($PSItem)
    at_parse: bool             # rejected while parsing: nothing in the script runs


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(version).split("."))


def _older(version: str, since: str) -> bool:
    return _key(version) < _key(since)


def _walk(node: tree_sitter.Node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _position(parsed: ParsedScript, node: tree_sitter.Node, skip: int = 0) -> SourcePosition:
    start = (node.start_point[0], node.start_point[1] + skip)
    return position_of(parsed.source or parsed.text, start, node.end_point)


def _type_not_found(name: str) -> PSError:
    return PSError(f"Unable to find type [{name}]: make sure that the assembly containing this type is loaded.",
                   "TypeNotFound", category="InvalidOperation", target=name,
                   exception="System.Management.Automation.RuntimeException")


def cmdlet_since(name: str) -> str | None:
    """The PowerShell version that added cmdlet ``name`` (None: there from 2.0, or not a Windows cmdlet)."""
    return _CMDLET_VERSION.get(name.lower())


def older(version: str, since: str) -> bool:
    """Whether PowerShell ``version`` predates ``since``."""
    return _older(version, since)


def first_missing(script: str, version: str) -> MissingConstruct | None:
    """The first construct of ``script`` that PowerShell ``version`` does not have (parse-time ones first)."""
    parsed = parse_script(script)
    parse_time: list[MissingConstruct] = []
    runtime: list[MissingConstruct] = []
    for node in _walk(parsed.root):
        kind = node.type
        if kind == "comparison_operator":
            op = parsed.node_text(node).lower()
            since = OPERATORS_SINCE.get(op)
            if since and _older(version, since):
                # 2.0 reads '-' and then the word: the error points at the word.
                position = _position(parsed, node, skip=1)
                error = ScriptParseError("You must provide a value expression on the right-hand side of the '-' "
                                         "operator.", "ExpectedValueExpression", position)
                parse_time.append(MissingConstruct(op, since, position, error, at_parse=True))
        elif kind in KEYWORDS_SINCE:
            word, since = KEYWORDS_SINCE[kind]
            if _older(version, since):
                position = _position(parsed, node)
                error = ScriptParseError(f"The '{word}' keyword is not supported in this version of the language.",
                                         "ReservedKeywordNotAllowed", position)
                parse_time.append(MissingConstruct(word, since, position, error, at_parse=True))
        elif kind == "type_literal":
            name = parsed.node_text(node)[1:-1].strip()
            since = TYPE_ACCELERATORS_SINCE.get(name.lower())
            if since and _older(version, since):
                runtime.append(MissingConstruct(f"[{name}]", since, _position(parsed, node), _type_not_found(name),
                                                at_parse=False))
        elif kind == "invokation_expression":
            member = next((c for c in node.children if c.type == "member_name"), None)
            static = any(c.type == "::" for c in node.children)
            if static and member is not None and parsed.node_text(member).lower() == "new" \
                    and _older(version, "5.0"):
                type_node = next((c for c in node.children if c.type == "type_literal"), None)
                type_name = parsed.node_text(type_node) if type_node is not None else "[type]"
                error = PSError(f"Method invocation failed because {type_name} doesn't contain a method named "
                                f"'new'.", "MethodNotFound", category="InvalidOperation", target="new",
                                exception="System.Management.Automation.RuntimeException")
                runtime.append(MissingConstruct("::new", "5.0", _position(parsed, member), error, at_parse=False))
        elif kind == "command_name":
            name = parsed.node_text(node)
            since = _CMDLET_VERSION.get(name.lower())
            if since and _older(version, since):
                runtime.append(MissingConstruct(name, since, _position(parsed, node), engine.not_recognized(name),
                                                at_parse=False))
        elif kind == "variable" and parsed.node_text(node).lower() == "$psitem" and _older(version, "3.0"):
            runtime.append(MissingConstruct("$PSItem", "3.0", _position(parsed, node), None, at_parse=False))
    found = parse_time or runtime
    return found[0] if found else None
