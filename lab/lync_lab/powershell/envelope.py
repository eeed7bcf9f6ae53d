"""The collection's envelope, recognised by the SHA-256 of its text and executed with its exact semantics.

The collection's command line carries a fixed loader (plugins/module_utils/lync/envelope.py LOADER_SCRIPT) that
reads the envelope script from stdin's first line and runs it; the envelope reads the request from the second
line, checks the PowerShell version the request needs, imports the allowed modules, answers a ready line, runs
each call with $ErrorActionPreference='Stop' (so any error of a call becomes that call's error line), and ends
with a done line (docs/envelope.md). The one-request envelope then ends; the worker envelope (issue #15) reads
the next line and does the same again, request after request in the same process, until stdin ends or a request
says stop. What follows mirrors those scripts step by step; where PowerShell's own behaviour decides a detail (the
error record of a `throw`, what [string] of a value is, `@($null)` being one element), the comment says so.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import json
import re

from ..errors import PSError
from ..context import CmdletContext
from .values import EnumValue, Hashtable, PSCredential, XElementValue, get_property, to_ps_string

# SHA-256 (UTF-8) of the loader the collection puts on the command line, and of every accepted envelope text.
# A repository test keeps them in step with the collection, so a change to either needs its new hash here.
KNOWN_LOADER_SHA256: set[str] = {
    "45101d48f3388e739347eb9b725c05ec6e9113d27f1e2f58228f57bd8def4d99",
}
# Envelopes that read one request (stdin's second line) and end: one request per powershell.exe process.
ONE_REQUEST_ENVELOPE_SHA256: set[str] = {
    # PowerShell 2.0-compatible: JavaScriptSerializer, min_ps, typed values (enums, XElement) returned as values
    "4ed365de1d401efba3da70472f0a2c4018183ec87366f4b779b58ac631bc6cf3",
}
# Worker envelopes: request after request, one per stdin line, in one process, until stdin ends or a request
# says stop; a module already loaded in the process is not imported again (issue #15).
WORKER_ENVELOPE_SHA256: set[str] = {
    # the one-request envelope's semantics per request, in `while($true){...}`, `Get-Module $m` before Import-Module
    "b06df5ed3749c02223eef4244fe16f7d49cd6b1194513b6e56758026409349c0",
}
KNOWN_ENVELOPE_SHA256: set[str] = ONE_REQUEST_ENVELOPE_SHA256 | WORKER_ENVELOPE_SHA256

ENVELOPE_MODULES = ("Lync",)
ALLOWED_CMDLET = re.compile(
    r"^(Get|Set|New|Remove|Grant|Revoke|Move|Merge|Import|Export|Enable|Disable|Install|Publish|Invoke|Test|Start"
    r"|Stop|Update|Backup)-Cs[A-Za-z]+$", re.IGNORECASE)
ALLOWED_EXTRA = ("Get-WinEvent", "Get-Service", "Start-Service", "Stop-Service", "Set-Service", "Get-WmiObject",
                 "Get-CimInstance", "Get-HotFix", "Set-Content", "Get-Content")


def envelope_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_loader(text: str) -> bool:
    """The -EncodedCommand script is the collection's loader."""
    return envelope_sha256(text) in KNOWN_LOADER_SHA256


def is_envelope(text: str) -> bool:
    return envelope_sha256(text) in KNOWN_ENVELOPE_SHA256


def is_worker_envelope(text: str) -> bool:
    return envelope_sha256(text) in WORKER_ENVELOPE_SHA256


def host_powershell(ctx: CmdletContext) -> str:
    """[string]$PSVersionTable.PSVersion of the host (its profile, when the scenario gives one)."""
    host = getattr(ctx.server, "host", None)
    return str(getattr(host, "powershell", None) or "3.0")


def _version_tuple(text: str) -> tuple[int, ...]:
    """[version]$text; PowerShell's cast refuses what is not a version (the call is then the fatal error)."""
    try:
        parts = tuple(int(p) for p in str(text).split("."))
    except ValueError:
        raise PSError(f'Cannot convert value "{text}" to type "System.Version". Error: "Input string was not in a '
                      'correct format."', "InvalidCastParseTargetInvocation", category="NotSpecified",
                      exception="System.Management.Automation.RuntimeException") from None
    if not 2 <= len(parts) <= 4:
        raise PSError(f'Cannot convert value "{text}" to type "System.Version". Error: "Version string portion was '
                      'too short or too long."', "InvalidCastParseTargetInvocation", category="NotSpecified",
                      exception="System.Management.Automation.RuntimeException")
    return parts


def thrown(message: str) -> PSError:
    """The error record of PowerShell's `throw "message"`: the id and the target are the message itself."""
    return PSError(message, message, category="OperationStopped", target=message)


def error_document(error: PSError) -> dict:
    """The envelope's E function: the fields of the error record, [string] of the target, the transient flag (a
    busy back end only: SqlException/TimeoutException or the ResourceBusy category)."""
    exception = error.exception
    category = error.category
    return {
        "message": error.message,
        "fqid": error.fqid,
        "category": category,
        "target": "" if error.target is None else to_ps_string(error.target),
        "exception": exception,
        "transient": bool(re.search("SqlException|TimeoutException", exception, re.IGNORECASE))
        or category.lower() == "resourcebusy",
    }


def to_hashtable(value, results: dict | None = None):
    """The envelope's H function: JSON objects become hashtables, nested ones too (arrays stay as they are); a
    JSON object with a `result_of` key is replaced by the objects an earlier call of the request kept under
    that name ($R), unchanged (they are the cmdlet's objects, not hashtables)."""
    results = {} if results is None else results
    if not isinstance(value, dict):
        return value
    out = Hashtable()
    for k, v in value.items():
        if isinstance(v, dict):
            if "result_of" in v:
                name = to_ps_string(v["result_of"])
                if name not in results:
                    raise thrown(f"no earlier result named {name}")
                v = results[name]
            else:
                v = to_hashtable(v, results)
        out[k] = v
    return out


def is_value(value) -> bool:
    """The envelope's S function: strings, value types (numbers, booleans, enums, DateTime) and XML trees
    (System.Xml.Linq.X*) are values, returned as themselves; anything else is returned as its properties."""
    return isinstance(value, (str, bool, int, float, EnumValue, XElementValue))


def normalise(value):
    """The envelope's N function: null, strings and primitives stay; enumerations become arrays of [string];
    anything else becomes [string] of it (an enum its name, an XElement its XML text)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [to_ps_string(v) for v in value]
    if isinstance(value, Hashtable):
        # foreach over a hashtable yields the hashtable itself once.
        return [to_ps_string(value)]
    return to_ps_string(value)


def properties_of(obj) -> list[tuple[str, object]]:
    """$x.PSObject.Properties for an object the envelope returns as a property bag."""
    if isinstance(obj, dict):
        return list(obj.items())
    return []


def module_not_found(name: str) -> PSError:
    return PSError(
        f"The specified module '{name}' was not loaded because no valid module file was found in any module directory.",
        "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand",
        category="ResourceUnavailable", target=name, exception="System.IO.FileNotFoundException")


class EnvelopeRun:
    """One execution of the envelope in one powershell.exe process: one request (``run``) for the one-request
    envelope, request after request (``serve``) for the worker envelope."""

    def __init__(self, host, ctx: CmdletContext, out) -> None:
        self.host = host        # the HostRuntime's process state: imports, command lookup, engine access
        self.ctx = ctx
        self.out = out
        self.results: dict[str, list] = {}   # $R: the objects of the calls that carry a "name"

    def write(self, doc: dict) -> None:
        # J: one JSON document per line, flushed at once.
        self.out.stdout(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\r\n")

    @property
    def _gone(self) -> bool:
        """The process was ended from outside (Signal terminate, its shell deleted or reaped): a killed process
        runs nothing more, so no further call starts."""
        return bool(getattr(self.out, "cancelled", False))

    def run(self, stdin_line: bytes) -> int:
        """The one-request envelope: the request of stdin's second line, then the process ends."""
        code = self._request(stdin_line, worker=False)
        return 0 if code is None else code

    def serve(self, next_line) -> int:
        """The worker envelope's `while($true){$l=[Console]::In.ReadLine();if($null -eq $l){exit 0} ...}`:
        ``next_line()`` blocks until the next line has arrived and gives None once stdin has ended (ReadLine's
        $null); each line is one request, answered in full before the next is read. Ends with exit 0 at the
        end of stdin or on a stop request, with exit 1 after a fatal line."""
        while not self._gone:
            line = next_line()
            if line is None:
                return 0
            code = self._request(line, worker=True)
            if code is not None:
                return code
        return 0

    def _request(self, stdin_line: bytes, worker: bool) -> int | None:
        """One request: None once its done line is written, else the process's exit code (1 after a fatal line,
        0 for the worker's stop request, which writes nothing)."""
        version = host_powershell(self.ctx)
        too_old = None
        try:
            try:
                request = json.loads(base64.b64decode(stdin_line.strip(), validate=True).decode("utf-8"))
            except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
                # JavaScriptSerializer.DeserializeObject's refusal (wording assumed: its ArgumentException text).
                raise PSError(f"Invalid JSON primitive: {str(exc)[:60]}.", "ArgumentException",
                              category="NotSpecified", exception="System.ArgumentException") from None
            if not isinstance(request, dict):
                # $q.ContainsKey on an array: PowerShell's method-not-found error.
                raise PSError("Method invocation failed because [System.Object[]] doesn't contain a method named "
                              "'ContainsKey'.", "MethodNotFound", category="InvalidOperation",
                              exception="System.Management.Automation.RuntimeException")
            if request.get("v") != 1:
                raise thrown(f"unsupported request version {to_ps_string(request.get('v'))}")
            if worker and is_true(request.get("stop")):
                # `if(G $q 'stop'){exit 0}`: before min_ps and any import, nothing written.
                return 0
            needed = request.get("min_ps")
            if needed and _version_tuple(version) < _version_tuple(to_ps_string(needed)):
                too_old = {"message": f"Windows PowerShell {version} is older than {to_ps_string(needed)}",
                           "fqid": "PowerShellVersionTooOld", "category": "NotInstalled", "target": version,
                           "exception": "", "transient": False}
            else:
                for module in _as_array(request.get("modules")):
                    if module is None or str(module).lower() not in [m.lower() for m in ENVELOPE_MODULES]:
                        raise thrown(f"module not allowed: {to_ps_string(module)}")
                    # One-request: `Import-Module $m`; worker: `if(!(Get-Module $m)){Import-Module $m}`. Either
                    # way a module this process already loaded costs nothing again (HostRuntime.import_module).
                    self.host.import_module(self.ctx, str(module))
            credential = None
            cred = request.get("credential")
            if cred:
                credential = PSCredential(str(cred.get("username", "")), str(cred.get("password", "")))
        except PSError as error:
            self.write({"fatal": error_document(error)})
            return 1
        if too_old is not None:
            self.write({"fatal": too_old, "ps": version, "computer": self.ctx.server.computer_name})
            return 1
        self.write({"ready": True, "computer": self.ctx.server.computer_name, "ps": version})
        self.results = {}   # `$R=@{}`: named results are the request's own
        for call in _as_array(request.get("calls")):
            if self._gone:
                return 1
            call = call if isinstance(call, dict) else {}
            try:
                objects = self._call(call, credential)
                self.write({"id": call.get("id"), "ok": True, "objects": objects})
            except PSError as error:
                self.write({"id": call.get("id"), "ok": False, "error": error_document(error)})
        self.write({"done": True})
        return None

    def _call(self, call: dict, credential: PSCredential | None) -> list:
        name = to_ps_string(call.get("cmdlet"))
        if not (ALLOWED_CMDLET.match(name) or name.lower() in [n.lower() for n in ALLOWED_EXTRA]):
            raise thrown(f"cmdlet not allowed: {name}")
        params = to_hashtable(call.get("params"), self.results) if call.get("params") else Hashtable()
        if call.get("pass_credential") and credential is not None:
            params["Credential"] = credential
        select = call.get("select")
        wanted = None if select is None else {to_ps_string(s).lower() for s in _as_array(select)}
        emitted = list(self.host.call_cmdlet(self.ctx, name, params))
        if call.get("name"):
            self.results[to_ps_string(call["name"])] = emitted
        expand = call.get("expand")
        if expand:
            # `@(foreach($z in $a){$z.$x})`: each object's property, arrays unrolled into the result
            expanded = []
            for obj in emitted:
                value = get_property(obj, to_ps_string(expand)) if isinstance(obj, dict) else None
                if value is not None:
                    expanded.extend(value if isinstance(value, list) else [value])
            emitted = expanded
        result = []
        for obj in emitted:
            if obj is None:
                continue
            if is_value(obj):
                # `if(S $z){[void]$r.Add((N $z))}`: a string, an enum, an XElement travels as its value
                result.append(normalise(obj))
                continue
            row = {}
            for k, v in properties_of(obj):
                if wanted is not None and k.lower() not in wanted:
                    continue
                if expand and v is not None and not (is_value(v) or isinstance(v, (list, tuple, Hashtable))):
                    row[k] = {nk: normalise(nv) for nk, nv in properties_of(v)}
                else:
                    row[k] = normalise(v)
            result.append(row)
        return result


def is_true(value) -> bool:
    """PowerShell's truth of a deserialized JSON value: null, false, 0, '' and an empty array are false, a
    one-element array is its element, any object (a dictionary, even empty) is true (about_Booleans)."""
    if isinstance(value, list):
        return len(value) > 1 or (len(value) == 1 and is_true(value[0]))
    if isinstance(value, dict):
        return True
    if isinstance(value, str):
        return value != ""
    return bool(value)


def _as_array(value) -> list:
    """@($x) of a deserialized value: an array stays, anything else (null included) is one element."""
    return list(value) if isinstance(value, list) else [value]


class _StdinLines:
    """[Console]::In.ReadLine() over the command's stdin: each line as it arrives, its line break removed, None
    at the end of the stream (TextReader.ReadLine's null). A reader without readline() (a test double holding all
    its input) is split at once."""

    def __init__(self, stdin) -> None:
        self._readline = getattr(stdin, "readline", None)
        self._rest: collections.deque[bytes] | None = None
        if self._readline is None:
            self._rest = collections.deque(stdin.read().split(b"\n"))
            if self._rest and self._rest[-1] == b"":
                self._rest.pop()   # a final line break ends the last line, it does not start one

    def next(self) -> bytes | None:
        if self._rest is not None:
            return self._rest.popleft() if self._rest else None
        raw = self._readline()
        if not raw:
            return None
        return raw[:-1] if raw.endswith(b"\n") else raw


def run_loader(host, ctx: CmdletContext, out, errors, stdin) -> int:
    """The collection's loader, `$e=[Console]::In.ReadLine();&([ScriptBlock]::Create(...))`: stdin's first line
    is the envelope (base64 UTF-8), run as soon as that line has arrived; the envelope then reads its request
    line(s) from the same stdin, each as it arrives (a client may send them in later Sends)."""
    lines = _StdinLines(stdin)
    first = lines.next() or b""
    try:
        script = base64.b64decode(first.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        # [Convert]::FromBase64String's FormatException, on the loader's line (wording of .NET's message).
        error = PSError('Exception calling "FromBase64String" with "1" argument(s): "Invalid length for a Base-64 '
                        'char array or string."', "FormatException", category="NotSpecified",
                        exception="System.Management.Automation.MethodInvocationException")
        errors.write_error(error, None, None)
        return 1
    # [ScriptBlock]::Create parses the whole text first: an operator this PowerShell lacks stops it there.
    if host.parse(script, errors) is None:
        return 1
    if not is_envelope(script):
        error = PSError("The rehearsal lab runs only the lync.migration envelope through the loader (see "
                        "docs/envelope.md); this script is not one of its known versions.", "LabUnknownEnvelope",
                        category="NotImplemented", exception="System.NotSupportedException")
        errors.write_error(error, None, None)
        return 1
    run = EnvelopeRun(host, ctx, out)
    if is_worker_envelope(script):
        return run.serve(lines.next)
    # The one-request envelope reads one line; with none (stdin ended) its request is empty.
    return run.run(lines.next() or b"")
