"""PowerShell 3.0's output formatting for what the lab's cmdlets emit: default view, lists, tables, JSON."""

from __future__ import annotations

import json

from ..errors import not_supported
from .values import EnumValue, Hashtable, XElementValue, to_ps_string

NL = "\r\n"


class FormattedText(str):
    """Output of Format-List/Format-Table/Out-String: already text, printed as it is."""


# $FormatEnumerationLimit's default (about_Preference_Variables, 3.0): a collection shows at most 4 items, then "...".
FORMAT_ENUMERATION_LIMIT = 4


def display_value(value) -> str:
    if isinstance(value, (list, tuple)):
        shown = ", ".join(display_value(v) for v in value[:FORMAT_ENUMERATION_LIMIT])
        return "{" + shown + ("..." if len(value) > FORMAT_ENUMERATION_LIMIT else "") + "}"
    return to_ps_string(value)


def format_list(objects: list, properties: list[str] | None = None) -> str:
    blocks = []
    for obj in objects:
        if not isinstance(obj, dict):
            blocks.append(to_ps_string(obj))
            continue
        names = properties or list(obj.keys())
        width = max((len(n) for n in names), default=0)
        blocks.append(NL.join(f"{n.ljust(width)} : {display_value(_get(obj, n))}" for n in names))
    return NL + "".join(b + NL + NL for b in blocks) + NL


def format_table(objects: list, properties: list[str] | None = None, hide_headers: bool = False) -> str:
    dicts = [o for o in objects if isinstance(o, dict)]
    if not dicts:
        return "".join(to_ps_string(o) + NL for o in objects)
    names = properties or list(dicts[0].keys())
    rows = [[display_value(_get(o, n)) for n in names] for o in dicts]
    numeric = [all(isinstance(_get(o, n), (int, float)) and not isinstance(_get(o, n), bool) for o in dicts)
               for n in names]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]

    def line(cells: list[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            last = i == len(cells) - 1
            out.append(cell.rjust(widths[i]) if numeric[i] else (cell if last else cell.ljust(widths[i])))
        return " ".join(out).rstrip()

    lines = []
    if not hide_headers:
        lines.append(line(names))
        lines.append(line(["-" * len(n) for n in names]))
    lines += [line(r) for r in rows]
    return NL + NL.join(lines) + NL + NL + NL


def _get(obj: dict, name: str):
    for k, v in obj.items():
        if str(k).lower() == name.lower():
            return v
    return None


def format_default(objects: list) -> str:
    """Out-Default: strings and numbers one per line; objects as a table when they have at most 4 properties,
    else as a list; consecutive objects with the same properties share one view."""
    out: list[str] = []
    group: list[dict] = []

    def flush() -> None:
        if group:
            keys = list(group[0].keys())
            out.append(format_table(group) if len(keys) <= 4 else format_list(group))
            group.clear()

    for obj in objects:
        if isinstance(obj, FormattedText):
            flush()
            out.append(obj)
        elif isinstance(obj, Hashtable):
            flush()
            out.append(format_table([{"Name": k, "Value": v} for k, v in obj.items()]))
        elif isinstance(obj, dict):
            if group and list(group[0].keys()) != list(obj.keys()):
                flush()
            group.append(obj)
        elif obj is None:
            continue
        else:
            flush()
            out.append(to_ps_string(obj) + NL)
    flush()
    return "".join(out)


def to_json(value, depth: int = 2, compress: bool = False) -> str:
    """ConvertTo-Json as Windows PowerShell 3.0 writes it: 4-space indents and `"name":  value`."""
    return _json(value, depth, 0, compress)


def _json(value, depth: int, level: int, compress: bool) -> str:
    if isinstance(value, EnumValue):
        return json.dumps(value.value)   # Windows PowerShell 3.0-5.1 write an enumeration as its number
    if isinstance(value, XElementValue):
        raise not_supported("ConvertTo-Json of an XElement (Get-CsTopology -AsXml)")
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple, dict)) and level > depth:
        return json.dumps(to_ps_string(value), ensure_ascii=False)
    pad = "" if compress else "    " * (level + 1)
    end_pad = "" if compress else "    " * level
    sep = "," if compress else "," + NL
    if isinstance(value, (list, tuple)):
        items = [pad + _json(v, depth, level + 1, compress) for v in value]
        if compress:
            return "[" + ",".join(items) + "]"
        return "[" + NL + sep.join(items) + NL + end_pad + "]"
    colon = ":" if compress else ":  "
    items = [pad + json.dumps(str(k), ensure_ascii=False) + colon + _json(v, depth, level + 1, compress)
             for k, v in value.items()]
    if compress:
        return "{" + ",".join(items) + "}"
    return "{" + NL + sep.join(items) + NL + end_pad + "}"
