"""Syntax check and parse tree of a script with the tree-sitter PowerShell grammar.

Every script is parsed before anything runs; a script with a syntax error gets a ParseError shaped like
PowerShell's (message, FullyQualifiedErrorId, position) and nothing runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import tree_sitter
import tree_sitter_powershell

from ..errors import PSError
from .clixml import SourcePosition

_LANGUAGE = tree_sitter.Language(tree_sitter_powershell.language())
_local = threading.local()


def _parser() -> tree_sitter.Parser:
    # A Parser is not safe to share between the listener's worker threads.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = tree_sitter.Parser(_LANGUAGE)
    return parser


@dataclass
class ParsedScript:
    text: str
    tree: tree_sitter.Tree

    @property
    def root(self) -> tree_sitter.Node:
        return self.tree.root_node

    def node_text(self, node: tree_sitter.Node) -> str:
        return self.text.encode("utf-8")[node.start_byte:node.end_byte].decode("utf-8")

    def position(self, node: tree_sitter.Node) -> SourcePosition:
        return position_of(self.text, node.start_point, node.end_point)


class ScriptParseError(PSError):
    def __init__(self, message: str, fqid: str, position: SourcePosition) -> None:
        super().__init__(message, fqid, category="ParserError",
                         exception="System.Management.Automation.ParseException")
        self.position = position


def _column(line_bytes: bytes, byte_col: int) -> int:
    return len(line_bytes[:byte_col].decode("utf-8", errors="replace"))


def position_of(text: str, start: tuple[int, int], end: tuple[int, int]) -> SourcePosition:
    lines = text.split("\n")
    row = min(start[0], len(lines) - 1)
    line = lines[row].rstrip("\r")
    raw = line.encode("utf-8")
    start_col = _column(raw, start[1])
    end_col = _column(raw, end[1]) if end[0] == start[0] else len(line)
    return SourcePosition(row + 1, line, start_col, max(end_col, start_col + 1))


def _first_error(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The first real syntax error. The grammar sometimes reports a zero-width missing separator at the end of
    a valid command (`Select-Object A,B`); PowerShell accepts that, so it is not an error here."""
    if node.is_missing:
        return None if not node.type.strip() or node.type == "command_argument_sep" else node
    if node.is_error:
        return node
    if not node.has_error:
        return None
    for child in node.children:
        found = _first_error(child)
        if found is not None:
            return found
    return None


def _describe(script: str, node: tree_sitter.Node) -> tuple[str, str]:
    """PowerShell's message and error id for the construct tree-sitter could not parse."""
    raw = script.encode("utf-8")
    snippet = raw[node.start_byte:node.end_byte].decode("utf-8", errors="replace")
    rest = raw[node.start_byte:].decode("utf-8", errors="replace")
    if node.is_missing:
        token = node.type
        if token == "}":
            return "Missing closing '}' in statement block.", "MissingEndCurlyBrace"
        if token == ")":
            return "Missing closing ')' in expression.", "MissingEndParenthesisInExpression"
        return f"Missing '{token}'.", "MissingToken"
    stripped = snippet.lstrip()
    quote_counts = {q: rest.count(q) for q in ("'", '"')}
    for q in ("'", '"'):
        if stripped.startswith(q) or (q in snippet and quote_counts[q] % 2 == 1):
            return f"The string is missing the terminator: {q}.", "TerminatorExpectedAtEndOfString"
    if "{" in snippet and snippet.count("{") > snippet.count("}"):
        return "Missing closing '}' in statement block.", "MissingEndCurlyBrace"
    if "(" in snippet and snippet.count("(") > snippet.count(")"):
        return "Missing closing ')' in expression.", "MissingEndParenthesisInExpression"
    token = stripped.split()[0] if stripped.split() else stripped
    if token.startswith("}"):
        token = "}"
    elif token.startswith(")"):
        token = ")"
    return f"Unexpected token '{token}' in expression or statement.", "UnexpectedToken"


def parse_script(script: str) -> ParsedScript:
    """Parse `script`; raise ScriptParseError (PowerShell's wording and position) if it has a syntax error."""
    tree = _parser().parse(script.encode("utf-8"))
    parsed = ParsedScript(script, tree)
    bad = _first_error(tree.root_node)
    if bad is not None:
        message, fqid = _describe(script, bad)
        start, end = bad.start_point, bad.end_point
        if fqid == "TerminatorExpectedAtEndOfString":
            # PowerShell points at the opening quote of the unterminated string.
            line = script.split("\n")[start[0]]
            quote = message[-2]
            col = line.encode("utf-8").find(quote.encode(), start[1])
            if col >= 0:
                start = (start[0], col)
                end = (start[0], col + 2)
        elif fqid in ("MissingEndCurlyBrace", "MissingEndParenthesisInExpression"):
            # PowerShell points at the opening bracket left unclosed.
            opener, closer = ("{", "}") if fqid == "MissingEndCurlyBrace" else ("(", ")")
            offset = _unclosed(script.encode("utf-8"), bad.start_byte, bad.end_byte, opener.encode(), closer.encode())
            if offset is not None:
                before = script.encode("utf-8")[:offset]
                row = before.count(b"\n")
                col = offset - (before.rfind(b"\n") + 1)
                start, end = (row, col), (row, col + 1)
        raise ScriptParseError(message, fqid, position_of(script, start, end))
    return parsed


def _unclosed(raw: bytes, begin: int, end: int, opener: bytes, closer: bytes) -> int | None:
    stack: list[int] = []
    for i in range(begin, end):
        ch = raw[i:i + 1]
        if ch == opener:
            stack.append(i)
        elif ch == closer and stack:
            stack.pop()
    return stack[0] if stack else None
