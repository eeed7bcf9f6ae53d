# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixed PowerShell envelope, request encoding and response-line parsing.

The envelope is the only PowerShell text the collection ever sends. User values travel as data: a
base64 JSON request on stdin (docs/envelope.md). Nothing here opens connections; see session.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json

PROTOCOL_VERSION = 1

# Module names the envelope will import; anything else is refused inside the script as well.
ALLOWED_MODULES = ("Lync",)

# Reviewed script. PowerShell 3.0 compatible: no ::new, no classes. Kept small because its base64 UTF-16LE form
# travels on the command line (cmd.exe limit 8,191). Changing one byte changes ENVELOPE_SHA256: tell the lab.
ENVELOPE_SCRIPT = r"""$ErrorActionPreference='Stop'
$o=[Console]::Out
function W($x){$o.WriteLine((ConvertTo-Json $x -Compress -Depth 5));$o.Flush()}
function E($e){$x=$e.Exception;$i=$e.CategoryInfo;$c=[string]$i.Category
@{message=$x.Message;fqid=[string]$e.FullyQualifiedErrorId;category=$c;target=[string]$e.TargetObject;exception=$x.GetType().FullName
transient=(($x.GetType().FullName -match 'SqlException|TimeoutException') -or ($c -match '^(ResourceBusy|ResourceUnavailable)$'))}}
function H($j){$h=@{};foreach($p in $j.PSObject.Properties){$v=$p.Value
if($v -is [Management.Automation.PSCustomObject]){if($v.result_of){$t=[string]$v.result_of
if(!$R.ContainsKey($t)){throw "no earlier result named $t"};$v=$R[$t]}else{$v=H $v}};$h[$p.Name]=$v};$h}
function N($v){if($null -eq $v -or $v -is [string] -or $v.GetType().IsPrimitive){return $v}
if($v -is [Collections.IEnumerable]){return ,@(foreach($e in $v){[string]$e})};[string]$v}
try{$q=ConvertFrom-Json ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadLine())))
if($q.v -ne 1){throw "unsupported request version $($q.v)"}
foreach($m in @($q.modules)){if($m -notin @('Lync')){throw "module not allowed: $m"};Import-Module $m}
$cr=$null
if($q.credential){$cr=New-Object Management.Automation.PSCredential($q.credential.username,(ConvertTo-SecureString $q.credential.password -AsPlainText -Force))}
}catch{W @{fatal=(E $_)};exit 1}
W @{ready=$true;computer=$env:COMPUTERNAME;ps=[string]$PSVersionTable.PSVersion}
$ok='^(Get|Set|New|Remove|Grant|Revoke|Move|Merge|Import|Export|Enable|Disable|Install|Publish|Invoke|Test|Start|Stop|Update|Backup)-Cs[A-Za-z]+$'
$R=@{}
$more=@('Get-WinEvent','Get-Service','Start-Service','Stop-Service','Set-Service','Get-WmiObject','Get-CimInstance','Get-HotFix','Set-Content','Get-Content')
foreach($k in @($q.calls)){try{$n=[string]$k.cmdlet
if($n -notmatch $ok -and $n -notin $more){throw "cmdlet not allowed: $n"}
$p=@{};if($k.params){$p=H $k.params}
if($k.pass_credential -and $cr){$p['Credential']=$cr}
$s=@($k.select);$a=@(& $n @p);if($k.name){$R[[string]$k.name]=$a}
if($k.expand){$a=@(foreach($x in $a){$x.($k.expand)})}
$r=@(foreach($x in $a){if($x -is [string]){[string]::Copy($x)}else{$d=[ordered]@{}
foreach($y in $x.PSObject.Properties){if($null -eq $k.select -or $y.Name -in $s){$v=$y.Value
if($k.expand -and $null -ne $v -and !($v -is [string] -or $v.GetType().IsPrimitive -or $v -is [Collections.IEnumerable])){$w=[ordered]@{}
foreach($u in $v.PSObject.Properties){$w[$u.Name]=N $u.Value};$d[$y.Name]=$w}else{$d[$y.Name]=N $v}}};$d}})
W @{id=$k.id;ok=$true;objects=$r}}catch{W @{id=$k.id;ok=$false;error=(E $_)}}}
W @{done=$true}
"""

ENVELOPE_SHA256 = hashlib.sha256(ENVELOPE_SCRIPT.encode("utf-8")).hexdigest()

POWERSHELL_EXE = "powershell.exe"
POWERSHELL_SWITCHES = ("-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand")

# cmd.exe refuses longer command lines with "The command line is too long."
CMD_LINE_LIMIT = 8191


def encoded_command():
    """base64(UTF-16LE(envelope)): the -EncodedCommand argument."""
    return base64.b64encode(ENVELOPE_SCRIPT.encode("utf-16-le")).decode("ascii")


def command_line():
    """(executable, [arguments]) for the WinRS Command; the joined line stays under cmd.exe's limit."""
    args = list(POWERSHELL_SWITCHES) + [encoded_command()]
    line = " ".join([POWERSHELL_EXE] + args)
    if len(line) > CMD_LINE_LIMIT:
        # A code change made the envelope too big; never truncate silently.
        raise ValueError("envelope command line is %d characters, over cmd.exe's %d" % (len(line), CMD_LINE_LIMIT))
    return POWERSHELL_EXE, args


def result_of(name):
    """A parameter value that stands for what an earlier call of the same request named ``name`` emitted
    (the objects themselves, e.g. New-CsStaticRoute's in-memory route for Set-CsStaticRoutingConfiguration)."""
    return {"result_of": name}


class Call:
    """One cmdlet call: name, parameters (data, splatted as they are), properties to select.

    ``name``: keep the emitted objects under this name for later calls' result_of() values.
    ``expand``: return the elements of this property instead of the objects (Select-Object -ExpandProperty),
    each element's object-valued properties as their properties, one level deep.
    """

    __slots__ = ("cmdlet", "params", "select", "pass_credential", "id", "name", "expand")

    def __init__(self, cmdlet, params=None, select=None, pass_credential=False, id=None, name=None, expand=None):
        self.cmdlet = cmdlet
        self.params = dict(params or {})
        self.select = list(select) if select is not None else None
        self.pass_credential = bool(pass_credential)
        self.id = id
        self.name = name
        self.expand = expand

    @property
    def read_only(self):
        """True for calls safe to send again when their outcome is unknown."""
        verb = self.cmdlet.split("-", 1)[0].lower()
        return verb in ("get", "test")

    def to_json(self, call_id):
        doc = {"id": call_id, "cmdlet": self.cmdlet, "params": self.params, "pass_credential": self.pass_credential}
        if self.select is not None:
            doc["select"] = self.select
        if self.name is not None:
            doc["name"] = self.name
        if self.expand is not None:
            doc["expand"] = self.expand
        return doc

    def __repr__(self):
        return "Call(%r, %r)" % (self.cmdlet, self.params)


def build_request(calls, modules=ALLOWED_MODULES, credential=None):
    """The request document (a dict). ``credential`` is (username, password) or None.

    Call ids are the positions in ``calls`` as strings, so results map back without trusting the server.
    """
    for module_name in modules:
        if module_name not in ALLOWED_MODULES:
            raise ValueError("module %r is not in the envelope's allow-list %s" % (module_name, ", ".join(ALLOWED_MODULES)))
    request = {
        "v": PROTOCOL_VERSION,
        "modules": list(modules),
        "calls": [call.to_json(str(index)) for index, call in enumerate(calls)],
    }
    if credential is not None:
        request["credential"] = {"username": credential[0], "password": credential[1]}
    return request


def encode_request(request):
    """stdin bytes: base64(UTF-8(JSON)) followed by CRLF."""
    raw = json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(raw) + b"\r\n"


def decode_request(data):
    """The inverse of encode_request (tests and diagnostics)."""
    return json.loads(base64.b64decode(data.strip()).decode("utf-8"))


class CmdletError:
    """An error as PowerShell reported it for one call (or for the whole envelope when fatal)."""

    __slots__ = ("message", "fqid", "category", "target", "exception", "transient", "outcome_unknown")

    def __init__(self, message, fqid="", category="NotSpecified", target=None, exception="", transient=False,
                 outcome_unknown=False):
        self.message = message
        self.fqid = fqid or ""
        self.category = category or "NotSpecified"
        self.target = target
        self.exception = exception or ""
        self.transient = bool(transient)
        # The request was sent but no answer came for this call: it may or may not have run.
        self.outcome_unknown = bool(outcome_unknown)

    @classmethod
    def from_json(cls, doc):
        if not isinstance(doc, dict):
            return cls("malformed error record from the envelope: %r" % (doc,), fqid="EnvelopeProtocolError")
        return cls(
            message=str(doc.get("message") or ""),
            fqid=doc.get("fqid") or "",
            category=doc.get("category") or "NotSpecified",
            target=doc.get("target") or None,
            exception=doc.get("exception") or "",
            transient=bool(doc.get("transient", False)),
        )

    def to_dict(self):
        return {
            "message": self.message,
            "fqid": self.fqid,
            "category": self.category,
            "target": self.target,
            "exception": self.exception,
            "transient": self.transient,
            "outcome_unknown": self.outcome_unknown,
        }

    def __repr__(self):
        return "CmdletError(%r, fqid=%r, category=%r)" % (self.message, self.fqid, self.category)


class CallResult:
    """What one Call produced: objects when ok, else a CmdletError. ``attempts`` counts sends."""

    __slots__ = ("call", "ok", "objects", "error", "attempts")

    def __init__(self, call, ok, objects=None, error=None, attempts=1):
        self.call = call
        self.ok = ok
        self.objects = objects if objects is not None else []
        self.error = error
        self.attempts = attempts

    def __repr__(self):
        if self.ok:
            return "CallResult(%s, ok, %d objects)" % (self.call.cmdlet, len(self.objects))
        return "CallResult(%s, %r)" % (self.call.cmdlet, self.error)


class EnvelopeProtocolError(Exception):
    """The server's output does not follow the envelope protocol, or stopped early (not a PowerShell error).
    ``parser`` holds the results that did arrive, when known."""

    def __init__(self, message, parser=None):
        super(EnvelopeProtocolError, self).__init__(message)
        self.message = message
        self.parser = parser


class EnvelopeFatal(Exception):
    """The envelope could not start (module import failed, bad request): no call ran."""

    def __init__(self, error):
        super(EnvelopeFatal, self).__init__(error.message)
        self.error = error


class ResponseParser:
    """Turns stdout bytes, fed as they arrive, into events: ('ready', doc), ('result', CallResult),
    ('done', None). Raises EnvelopeFatal on a fatal line, EnvelopeProtocolError on garbage."""

    def __init__(self, calls):
        self._calls = list(calls)
        self._pending = b""
        self.ready = None
        self.done = False
        self.results = {}

    def feed(self, data):
        events = []
        self._pending += data
        while b"\n" in self._pending:
            line, self._pending = self._pending.split(b"\n", 1)
            event = self._parse_line(line)
            if event is not None:
                events.append(event)
        return events

    def finish(self):
        """Called at end of output: a last line without newline still counts."""
        events = []
        if self._pending.strip():
            line, self._pending = self._pending, b""
            event = self._parse_line(line)
            if event is not None:
                events.append(event)
        return events

    def missing_calls(self):
        """Indexes of calls for which no result line arrived (e.g. output truncated)."""
        return [i for i in range(len(self._calls)) if i not in self.results]

    def _parse_line(self, line):
        text = line.decode("utf-8", errors="replace").strip()
        if not text:
            return None
        try:
            doc = json.loads(text)
        except ValueError:
            raise EnvelopeProtocolError("unexpected output from the envelope: %s" % text[:300])
        if not isinstance(doc, dict):
            raise EnvelopeProtocolError("unexpected output from the envelope: %s" % text[:300])
        if "fatal" in doc:
            raise EnvelopeFatal(CmdletError.from_json(doc["fatal"]))
        if doc.get("ready"):
            self.ready = doc
            return ("ready", doc)
        if doc.get("done"):
            self.done = True
            return ("done", None)
        if "id" in doc:
            try:
                index = int(doc["id"])
                call = self._calls[index]
            except (TypeError, ValueError, IndexError):
                raise EnvelopeProtocolError("result for unknown call id %r" % (doc.get("id"),))
            if doc.get("ok"):
                objects = doc.get("objects") or []
                if isinstance(objects, dict):  # a single object, if a server ever unwraps the array
                    objects = [objects]
                result = CallResult(call, True, objects=objects)
            else:
                result = CallResult(call, False, error=CmdletError.from_json(doc.get("error")))
            self.results[index] = result
            return ("result", (index, result))
        raise EnvelopeProtocolError("unexpected output from the envelope: %s" % text[:300])
