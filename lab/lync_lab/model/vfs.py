"""The files cmdlets write and read on a modelled server (topology XML, Edge input files, reports, exports).

Kind "file", key "<server fqdn>|<path>" with the path normalised the way NTFS compares names (case-insensitive,
backslashes, no trailing separator). Document: {"Path": as first written, "Content": text, "Binary": base64 or
None, "Length", "LastWriteTime"}. Relative paths resolve against the session's current directory, which for a
WinRM shell is the user's profile directory.
"""

from __future__ import annotations

import base64
import datetime as _dt
import ntpath
from typing import Any

from ..errors import PSError


def home_dir(ctx: Any) -> str:
    user = (getattr(ctx.session, "user", "") or "user").split("\\")[-1]
    return f"C:\\Users\\{user}\\Documents"


def full_path(ctx: Any, path: str) -> str:
    p = path.replace("/", "\\").strip()
    if not ntpath.isabs(p) or not ntpath.splitdrive(p)[0]:
        p = ntpath.join(home_dir(ctx), p.lstrip("\\") if not p.startswith("\\\\") else p)
    return ntpath.normpath(p)


def _key(ctx: Any, path: str) -> str:
    return f"{ctx.server.fqdn}|{full_path(ctx, path).rstrip(chr(92)).lower()}"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def write_text(tx: Any, ctx: Any, path: str, text: str) -> dict:
    _check_directory(tx, ctx, path)
    doc = {"Path": full_path(ctx, path), "Content": text, "Binary": None, "Length": len(text.encode("utf-8")),
           "LastWriteTime": _now()}
    tx.put("file", _key(ctx, path), doc)
    return doc


def write_bytes(tx: Any, ctx: Any, path: str, data: bytes) -> dict:
    _check_directory(tx, ctx, path)
    doc = {"Path": full_path(ctx, path), "Content": None, "Binary": base64.b64encode(data).decode("ascii"),
           "Length": len(data), "LastWriteTime": _now()}
    tx.put("file", _key(ctx, path), doc)
    return doc


def read(tx: Any, ctx: Any, path: str) -> dict | None:
    return tx.get("file", _key(ctx, path))


def read_text(tx: Any, ctx: Any, path: str, cmdlet: str, param: str) -> str:
    """The file's text, or the error the Lync cmdlets give for a missing input file."""
    doc = read(tx, ctx, path)
    if doc is None:
        raise PSError(f"Could not find file '{full_path(ctx, path)}'.",
                      f"FileNotFound,{cmdlet_class(cmdlet)}", category="ObjectNotFound", target=path,
                      exception="System.IO.FileNotFoundException")
    if doc.get("Content") is None:
        return base64.b64decode(doc["Binary"]).decode("utf-8", errors="replace")
    return doc["Content"]


def exists(tx: Any, ctx: Any, path: str) -> bool:
    return read(tx, ctx, path) is not None


def _check_directory(tx: Any, ctx: Any, path: str) -> None:
    # Only drive C: exists on the modelled servers; UNC paths are accepted (file shares are not modelled).
    full = full_path(ctx, path)
    drive = ntpath.splitdrive(full)[0]
    if not full.startswith("\\\\") and drive.upper() != "C:":
        raise PSError(f"Could not find a part of the path '{full}'.", "DirectoryNotFound",
                      category="ObjectNotFound", target=path, exception="System.IO.DirectoryNotFoundException")


def cmdlet_class(cmdlet: str) -> str:
    verb, _, noun = cmdlet.partition("-")
    return f"Microsoft.Rtc.Management.Internal.{verb}{noun.replace('Cs', 'Ocs', 1)}Cmdlet"
