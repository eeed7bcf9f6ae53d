"""Errors as powershell.exe writes them to a redirected stderr: `#< CLIXML` and one <Objs> document.

Each line of the formatted error record (PowerShell 3.0's NormalView) is one `<S S="Error">` element ending in
the `_x000D__x000A_` escape, which is what pywinrm's `Session._clean_error_msg` and Ansible decode.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..errors import PSError

CLIXML_HEADER = "#< CLIXML\r\n"
OBJS_OPEN = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
OBJS_CLOSE = "</Objs>"


@dataclass(frozen=True)
class SourcePosition:
    """Where in the script an error points: the line's text and the 0-based columns it underlines."""

    line_number: int      # 1-based
    line_text: str
    start_column: int     # 0-based
    end_column: int       # exclusive

    def render(self) -> list[str]:
        width = max(1, self.end_column - self.start_column)
        return [
            f"At line:{self.line_number} char:{self.start_column + 1}",
            f"+ {self.line_text}",
            "+ " + " " * self.start_column + "~" * width,
        ]


def _short_exception(full: str) -> str:
    return full.rsplit(".", 1)[-1]


def format_error_record(error: PSError, activity: str | None, position: SourcePosition | None = None,
                        parse_error: bool = False) -> list[str]:
    """The lines PowerShell 3.0 prints for an error record (no line terminators)."""
    lines: list[str] = []
    if parse_error:
        if position:
            lines += position.render()
        lines.append(error.message)
        lines.append(f"    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException")
        lines.append(f"    + FullyQualifiedErrorId : {error.fqid}")
        lines.append(" ")
        return lines
    message_lines = error.message.splitlines() or [""]
    prefix = f"{activity} : " if activity else ""
    lines.append(prefix + message_lines[0])
    lines += message_lines[1:]
    if position:
        lines += position.render()
    target = "" if error.target is None else str(error.target)
    target_type = "String" if error.target is not None else ""
    reason = _short_exception(error.exception)
    bracket = activity if activity and not error.fqid.startswith("CommandNotFoundException") else ""
    lines.append(f"    + CategoryInfo          : {error.category}: ({target}:{target_type}) [{bracket}], {reason}")
    lines.append(f"    + FullyQualifiedErrorId : {error.fqid}")
    lines.append(" ")
    return lines


_NEEDS_ENCODING = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")


def encode_text(text: str) -> str:
    """CLIXML string encoding: XML escapes, `_xHHHH_` for control characters and for a literal `_xHHHH_`."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _NEEDS_ENCODING.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text.replace("\r", "_x000D_").replace("\n", "_x000A_")


def error_elements(lines: list[str]) -> str:
    return "".join(f'<S S="Error">{encode_text(line)}_x000D__x000A_</S>' for line in lines)


class ClixmlErrorStream:
    """Writes error records to stderr as powershell.exe does: the header and <Objs> open on the first error,
    one element per line as each error happens, and the document closed when the process ends."""

    def __init__(self, out) -> None:
        self._out = out
        self._open = False
        self.error_count = 0

    def write_lines(self, lines: list[str]) -> None:
        if not self._open:
            self._out.stderr(CLIXML_HEADER + OBJS_OPEN)
            self._open = True
        self._out.stderr(error_elements(lines))
        self.error_count += 1

    def write_error(self, error: PSError, activity: str | None, position: SourcePosition | None = None,
                    parse_error: bool = False) -> None:
        self.write_lines(format_error_record(error, activity, position, parse_error))

    def close(self) -> None:
        if self._open:
            self._out.stderr(OBJS_CLOSE)
            self._open = False


def decode_clixml(text: str) -> str:
    """Plain text from a CLIXML stderr stream (for the interactive shell); other text passes through."""
    if not text.startswith("#< CLIXML"):
        return text
    body = text.split("\n", 1)[1] if "\n" in text else ""
    out: list[str] = []
    for doc in re.findall(r"<Objs\b.*?</Objs>", body, flags=re.S):
        doc = re.sub(r'\sxmlns="[^"]*"', "", doc, count=1)
        try:
            root = ET.fromstring(doc)
        except ET.ParseError:
            out.append(doc)
            continue
        for s in root.iter("S"):
            if s.get("S") == "Error" and s.text:
                out.append(_decode_escapes(s.text))
    return "".join(out)


def _decode_escapes(text: str) -> str:
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)
