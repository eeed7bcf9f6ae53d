"""Set-Content and Get-Content on a modelled server's file system (lync_lab.model.vfs).

Real automation writes the Merge wizard's Edge input file, or edits an exported topology, on the server it runs
the cmdlets on; through WinRM that is `Set-Content -Path <file> -Value <text>`. These two are what the lab
offers for it, with PowerShell 3.0's documented behaviour for the parameters they take here.
"""

from __future__ import annotations

from ..engine import what_if
from ..errors import PSError
from ..model import vfs
from . import cmdlet


def _value_text(value) -> str:
    # Set-Content writes each element of an array on its own line, ending every line with CRLF.
    items = value if isinstance(value, list) else [value]
    return "".join(f"{'' if v is None else v}\r\n" for v in items)


@cmdlet("Set-Content", requires="any")
def set_content(ctx, params, tx):
    path = params["Path"]
    paths = path if isinstance(path, list) else [path]
    text = _value_text(params.get("Value"))
    if params.get("NoNewline"):
        text = text[:-2]
    for p in paths:
        if params.get("WhatIf"):
            return [what_if("Set Content", f"Path: {vfs.full_path(ctx, p)}")]
        vfs.write_text(tx, ctx, p, text)
    return []


@cmdlet("Add-Content", requires="any")
def add_content(ctx, params, tx):
    path = params["Path"]
    for p in path if isinstance(path, list) else [path]:
        old = vfs.read(tx, ctx, p)
        before = (old or {}).get("Content") or ""
        if params.get("WhatIf"):
            return [what_if("Add Content", f"Path: {vfs.full_path(ctx, p)}")]
        vfs.write_text(tx, ctx, p, before + _value_text(params.get("Value")))
    return []


@cmdlet("Get-Content", requires="any")
def get_content(ctx, params, tx):
    path = params["Path"]
    out: list = []
    for p in path if isinstance(path, list) else [path]:
        doc = vfs.read(tx, ctx, p)
        if doc is None:
            full = vfs.full_path(ctx, p)
            raise PSError(f"Cannot find path '{full}' because it does not exist.",
                          "PathNotFound,Microsoft.PowerShell.Commands.GetContentCommand", category="ObjectNotFound",
                          target=full, exception="System.Management.Automation.ItemNotFoundException")
        text = doc["Content"] if doc.get("Content") is not None else vfs.read_text(tx, ctx, p, "Get-Content", "Path")
        if params.get("Raw"):
            out.append(text)
            continue
        lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        out.extend(lines)
    return out
