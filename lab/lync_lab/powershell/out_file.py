"""Out-File's write to a modelled server's file system (lync_lab.model.vfs), and so also `>` and `>>`.

The pipeline formats the input as the console would (Out-String) and hands the text here; the write runs in the
engine like every other state change, so it is audited and transactional. Behaviour from the Windows
PowerShell 3.0 help, PowerShell-Docs reference/3.0/Microsoft.PowerShell.Utility/Out-File.md: an existing file is
overwritten unless -Append (the same as `>>`); -NoClobber refuses to overwrite an existing file ("The file '...'
already exists."); -WhatIf changes nothing. The lab keeps file text, not bytes, so -Encoding changes nothing.
"""

from __future__ import annotations

from ..cmdlets import cmdlet
from ..engine import what_if
from ..errors import PSError
from ..model import vfs


@cmdlet("Out-File", requires="any")
def out_file(ctx, params, tx):
    path = params["FilePath"]
    existing = vfs.read(tx, ctx, path)
    if existing is not None and params.get("NoClobber") and not params.get("Append"):
        full = vfs.full_path(ctx, path)
        raise PSError(f"The file '{full}' already exists.", "NoClobber,Microsoft.PowerShell.Commands.OutFileCommand",
                      category="ResourceExists", target=full, exception="System.IO.IOException")
    if params.get("WhatIf"):
        return [what_if("Output to File", vfs.full_path(ctx, path))]
    before = ""
    if existing is not None and params.get("Append"):
        before = vfs.read_text(tx, ctx, path, "Out-File", "FilePath")
    vfs.write_text(tx, ctx, path, before + params["Text"])
    return []
