"""Syntax check and parse tree of a script with the tree-sitter PowerShell grammar.

Every script is parsed before anything runs; a script with a syntax error gets a ParseError shaped like
PowerShell's (message, FullyQualifiedErrorId, position) and nothing runs.
"""

from __future__ import annotations

import re
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
    text: str                  # what the tree was parsed from (the script, or its comma-normalised twin)
    tree: tree_sitter.Tree
    source: str | None = None  # the script as typed, when `text` is the normalised twin (same length)

    @property
    def root(self) -> tree_sitter.Node:
        return self.tree.root_node

    def node_text(self, node: tree_sitter.Node) -> str:
        return self.text.encode("utf-8")[node.start_byte:node.end_byte].decode("utf-8")

    def position(self, node: tree_sitter.Node) -> SourcePosition:
        if self.source is None:
            return position_of(self.text, node.start_point, node.end_point)
        # The twin may have a newline where the script has a space: find the point in the typed text.
        raw = self.source.encode("utf-8")
        return position_of(self.source, _point(raw, node.start_byte), _point(raw, node.end_byte))


def _point(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    return before.count(b"\n"), offset - (before.rfind(b"\n") + 1)


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


_BARE_WORD_END = re.compile(r"[^\s,;|&(){}\[\]'\"`]")


def _comma_normalised(script: str) -> str | None:
    """The script with every `word, next` in command arguments written `word ,next`, or None if none is.

    PowerShell reads `Select-Object Name, DisplayName` as the array Name,DisplayName: whitespace around the
    comma operator never matters. The tree-sitter grammar fails on a bare word followed by `, ` (it accepts
    `Name,DisplayName` and `"a", "b"`), so the whitespace is moved before the comma, which keeps every offset
    (error positions stay those of the typed text) and the meaning. Before a hashtable (`Name, @{...}`, a
    calculated property) the grammar needs the comma to end the line instead, so the first space becomes a
    newline, which PowerShell also reads as the same array. Strings, comments and here-strings are left alone; only a
    comma right after a bare word or a closing quote, and followed by spaces or tabs, changes. The twin is used
    only when the script as typed does not parse and the twin does.
    """
    out = list(script)
    changed = False
    i, n = 0, len(script)
    while i < n:
        ch = script[i]
        if ch == "#":
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        if script.startswith("<#", i):
            end = script.find("#>", i + 2)
            i = n if end < 0 else end + 2
            continue
        if script.startswith(("@'", '@"'), i) and script[i + 2:i + 3] in ("\n", "\r"):
            end = script.find("\n" + script[i + 1] + "@", i + 2)
            i = n if end < 0 else end + 3
            continue
        if ch == "'":
            j = i + 1
            while j < n and not (script[j] == "'" and script[j + 1:j + 2] != "'"):
                j += 2 if script[j] == "'" else 1
            i = j + 1
            continue
        if ch == '"':
            j = i + 1
            while j < n:
                if script[j] == "`" or script[j:j + 2] == '""':
                    j += 2
                    continue
                if script[j] == '"':
                    break
                j += 1
            i = j + 1
            continue
        if ch == "`":
            i += 2
            continue
        if ch == "," and i > 0 and (_BARE_WORD_END.match(script[i - 1]) or script[i - 1] in "'\"") \
                and script[i - 1] != "$":
            j = i + 1
            while j < n and script[j] in " \t":
                j += 1
            quoted_pair = script[i - 1] in "'\"" and j < n and script[j] in "'\""   # `"a", "b"` parses as typed
            if j > i + 1 and j < n and script[j] not in "\r\n#" and not quoted_pair:
                if script.startswith("@{", j):
                    out[i + 1] = "\n"                          # `A, @{...}` -> `A,<newline> @{...}`
                else:
                    out[i:j] = [" "] * (j - i - 1) + [","]      # `A, B` -> `A ,B`
                changed = True
                i = j
                continue
        i += 1
    return "".join(out) if changed else None


def parse_script(script: str) -> ParsedScript:
    """Parse `script`; raise ScriptParseError (PowerShell's wording and position) if it has a syntax error."""
    tree = _parser().parse(script.encode("utf-8"))
    parsed = ParsedScript(script, tree)
    bad = _first_error(tree.root_node)
    if bad is not None:
        twin = _comma_normalised(script)
        if twin is not None:
            twin_tree = _parser().parse(twin.encode("utf-8"))
            if _first_error(twin_tree.root_node) is None:
                return ParsedScript(twin, twin_tree, source=script)
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
