"""The collection's envelope, recognised by the SHA-256 of its text and executed with its exact semantics.

The script (plugins/module_utils/lync/envelope.py, documented in docs/envelope.md) reads one base64 JSON
request line from stdin, imports the allowed modules, answers a ready line, runs each call with
$ErrorActionPreference='Stop' (so any error of a call becomes that call's error line), and ends with a done line.
What follows mirrors that script step by step; where PowerShell's own behaviour decides a detail (the error
record of a `throw`, what [string] of a value is), the comment says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

from ..errors import PSError
from ..lab import CmdletContext
from .binder import bind_named
from .values import Hashtable, PSCredential, get_property, to_ps_string

# SHA-256 of every accepted envelope text (UTF-8). The collection's current script; a repository test keeps the
# two in step, so a change to the script needs its new hash here.
KNOWN_ENVELOPE_SHA256: set[str] = {
    "5705c7c9888bdc2f18defe838208473fd859f5ddd00cfbdfe734e5723a74930f",
    # + Set-Content/Get-Content, and strings (Get-CsTopology -AsXml, Get-Content) returned as strings
    "19f970825140a7b18b5d814e3de6c878d00519056454a47c0f92301c1f484306",
    # + a call's "name" and {"result_of": name} parameter values (an earlier call's objects), and "expand"
    "a17b79e8b18ac104331938e8f8bde3715a579a81bfc244c413e6d6b8e32a1284",
}

ENVELOPE_MODULES = ("Lync",)
ALLOWED_CMDLET = re.compile(
    r"^(Get|Set|New|Remove|Grant|Revoke|Move|Merge|Import|Export|Enable|Disable|Install|Publish|Invoke|Test|Start"
    r"|Stop|Update|Backup)-Cs[A-Za-z]+$", re.IGNORECASE)
ALLOWED_EXTRA = ("Get-WinEvent", "Get-Service", "Start-Service", "Stop-Service", "Set-Service", "Get-WmiObject",
                 "Get-CimInstance", "Get-HotFix", "Set-Content", "Get-Content")


def envelope_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_envelope(text: str) -> bool:
    return envelope_sha256(text) in KNOWN_ENVELOPE_SHA256


def thrown(message: str) -> PSError:
    """The error record of PowerShell's `throw "message"`: the id and the target are the message itself."""
    return PSError(message, message, category="OperationStopped", target=message)


def error_document(error: PSError) -> dict:
    """The envelope's E function: the fields of the error record, [string] of the target, the transient flag."""
    exception = error.exception
    category = error.category
    return {
        "message": error.message,
        "fqid": error.fqid,
        "category": category,
        "target": "" if error.target is None else to_ps_string(error.target),
        "exception": exception,
        "transient": bool(re.search("SqlException|TimeoutException", exception, re.IGNORECASE))
        or bool(re.fullmatch("ResourceBusy|ResourceUnavailable", category, re.IGNORECASE)),
    }


def to_hashtable(value, results: dict | None = None):
    """The envelope's H function: JSON objects become hashtables, nested ones too (arrays stay as they are); a
    JSON object with a true `result_of` is replaced by the objects an earlier call of the request kept under
    that name ($R), unchanged (they are the cmdlet's objects, not hashtables)."""
    results = {} if results is None else results
    if not isinstance(value, dict):
        return value
    out = Hashtable()
    for k, v in value.items():
        if isinstance(v, dict):
            ref = v.get("result_of")
            if ref:
                name = to_ps_string(ref)
                if name not in results:
                    raise thrown(f"no earlier result named {name}")
                v = results[name]
            else:
                v = to_hashtable(v, results)
        out[k] = v
    return out


def _is_plain(value) -> bool:
    """What the expand branch leaves to N: null, strings, primitives and enumerations (hashtables included)."""
    return value is None or isinstance(value, (str, bool, int, float, list, tuple, dict)) and (
        not isinstance(value, dict) or isinstance(value, Hashtable))


def normalise(value):
    """The envelope's N function: null, strings and primitives stay; enumerations become arrays of [string];
    anything else becomes [string] of it."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [to_ps_string(v) for v in value]
    if isinstance(value, Hashtable):
        # foreach over a hashtable yields the hashtable itself once.
        return [to_ps_string(value)]
    return to_ps_string(value)


def properties_of(obj) -> list[tuple[str, object]]:
    """$x.PSObject.Properties for what a cmdlet emitted."""
    if isinstance(obj, dict):
        return list(obj.items())
    if isinstance(obj, str):
        return [("Length", len(obj))]
    return []


def module_not_found(name: str) -> PSError:
    return PSError(
        f"The specified module '{name}' was not loaded because no valid module file was found in any module directory.",
        "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand",
        category="ResourceUnavailable", target=name, exception="System.IO.FileNotFoundException")


class EnvelopeRun:
    """One execution of the envelope in one powershell.exe process."""

    def __init__(self, host, ctx: CmdletContext, out) -> None:
        self.host = host        # the HostRuntime's process state: imports, command lookup, engine access
        self.ctx = ctx
        self.out = out
        self.results: dict[str, list] = {}   # $R: the objects of the calls that carry a "name"

    def write(self, doc: dict) -> None:
        # ConvertTo-Json -Compress, one document per line, flushed at once.
        self.out.stdout(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\r\n")

    def run(self, stdin_line: bytes) -> int:
        try:
            try:
                request = json.loads(base64.b64decode(stdin_line.strip(), validate=True).decode("utf-8"))
            except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
                raise PSError(f"Invalid JSON primitive: {str(exc)[:60]}.", "System.ArgumentException,"
                              "Microsoft.PowerShell.Commands.ConvertFromJsonCommand", category="NotSpecified",
                              exception="System.ArgumentException") from None
            if not isinstance(request, dict):
                raise thrown("unsupported request version ")
            if request.get("v") != 1:
                raise thrown(f"unsupported request version {to_ps_string(request.get('v'))}")
            for module in _as_list(request.get("modules")):
                if str(module).lower() not in [m.lower() for m in ENVELOPE_MODULES]:
                    raise thrown(f"module not allowed: {to_ps_string(module)}")
                self.host.import_module(self.ctx, str(module))
            credential = None
            cred = request.get("credential")
            if cred:
                credential = PSCredential(str(cred.get("username", "")), str(cred.get("password", "")))
        except PSError as error:
            self.write({"fatal": error_document(error)})
            return 1
        self.write({"ready": True, "computer": self.ctx.server.computer_name, "ps": "3.0"})
        for call in _as_list(request.get("calls")):
            call = call if isinstance(call, dict) else {}
            try:
                objects = self._call(call, credential)
                self.write({"id": call.get("id"), "ok": True, "objects": objects})
            except PSError as error:
                self.write({"id": call.get("id"), "ok": False, "error": error_document(error)})
        self.write({"done": True})
        return 0

    def _call(self, call: dict, credential: PSCredential | None) -> list[dict]:
        name = to_ps_string(call.get("cmdlet"))
        if not (ALLOWED_CMDLET.match(name) or name.lower() in [n.lower() for n in ALLOWED_EXTRA]):
            raise thrown(f"cmdlet not allowed: {name}")
        params = to_hashtable(call.get("params"), self.results) if call.get("params") else Hashtable()
        if call.get("pass_credential") and credential is not None:
            params["Credential"] = credential
        select = call.get("select")
        wanted = None if select is None else {str(s).lower() for s in _as_list(select)}
        emitted = list(self.host.call_cmdlet(self.ctx, name, params))
        if call.get("name"):
            self.results[to_ps_string(call["name"])] = emitted
        expand = call.get("expand")
        if expand:
            # `$x.($k.expand)` over the objects: the property's elements (member enumeration flattens arrays)
            expanded = []
            for obj in emitted:
                value = get_property(obj, to_ps_string(expand)) if isinstance(obj, dict) else None
                if value is not None:
                    expanded.extend(value if isinstance(value, list) else [value])
            emitted = expanded
        result = []
        for obj in emitted:
            if isinstance(obj, str):
                # `if($x -is [string]){[string]::Copy($x)}`: a string travels as itself, not as its properties
                result.append(obj)
                continue
            row = {}
            for k, v in properties_of(obj):
                if wanted is not None and k.lower() not in wanted:
                    continue
                if expand and not _is_plain(v):
                    row[k] = {nk: normalise(nv) for nk, nv in properties_of(v)}
                else:
                    row[k] = normalise(v)
            result.append(row)
        return result


def _as_list(value) -> list:
    """@($x): null is an empty array, a scalar a one-element array."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
