# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixed PowerShell envelope and request encoding (the response lines are parsed in response.py).

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

# Reviewed script: a worker. The loader (LOADER_SCRIPT, the command line) reads it from stdin's first line; it then
# serves request after request, one base64 JSON line each, answering each with a ready line, one line per call and
# a done line, until stdin ends or a request says stop; a fatal line ends the process (docs/envelope.md, "The
# worker protocol"). The Lync module is imported by the first request that asks for it and kept. It must parse and
# run on Windows PowerShell 2.0 (.NET 3.5 SP1: the OCS 2007 R2 servers) as well as on 3.0/4.0 (Lync Server 2013
# hosts), so it avoids everything 3.0 added: -in/-notin, [ordered], ConvertFrom-Json/ConvertTo-Json, member
# enumeration, `foreach` over $null meaning no iteration. JSON is read with .NET 3.5's JavaScriptSerializer
# (MaxJsonLength raised: ConvertFrom-Json on 3.0/4.0 stops at 2,097,152 characters) and written by J, which only
# ever hands the serializer a [string], so a PSObject wrapper can never reach it. Changing one byte changes
# ENVELOPE_SHA256: tell the lab (lab/lync_lab/powershell/envelope.py KNOWN_ENVELOPE_SHA256).
ENVELOPE_SCRIPT = r"""$ErrorActionPreference='Stop'
$o=[Console]::Out
$j=$null
# One JSON document per line, flushed at once, so each result is known as soon as its call ends.
function W($x){$o.WriteLine((J $x));$o.Flush()}
function J($v){if($null -eq $v){return 'null'};if($v -is [bool]){return ([string]$v).ToLower()}
if($v -is [string] -or $v -is [char]){return $j.Serialize([string]$v)}
if($v -is [Collections.IDictionary]){return '{'+(@(foreach($n in $v.Keys){$j.Serialize([string]$n)+':'+(J $v[$n])}) -join ',')+'}'}
if($v -is [Collections.IEnumerable]){return '['+(@(foreach($e in $v){J $e}) -join ',')+']'}
if($v.GetType().IsPrimitive){return [string]$v};$j.Serialize([string]$v)}
# The error record as data. Transient only for what a busy back end gives (SQL, timeouts, throttling): a prompt
# refused under -NonInteractive or a missing module (both ResourceUnavailable) can never succeed when retried.
function E($e){$x=$e.Exception;$c=[string]$e.CategoryInfo.Category;$t=$x.GetType().FullName
@{message=$x.Message;fqid=[string]$e.FullyQualifiedErrorId;category=$c;target=[string]$e.TargetObject;exception=$t
transient=(($t -match 'SqlException|TimeoutException') -or $c -eq 'ResourceBusy')}}
# A key of a deserialized object, $null when absent (the unary comma keeps an array an array).
function G($d,$n){if($d.ContainsKey($n)){,$d[$n]}}
# Request parameters as hashtables for splatting; {"result_of": name} stands for an earlier call's objects.
function H($d){$h=@{};foreach($n in @($d.Keys)){$v=$d[$n]
if($v -is [Collections.IDictionary]){if($v.ContainsKey('result_of')){$t=[string]$v['result_of']
if(!$R.ContainsKey($t)){throw "no earlier result named $t"};$v=$R[$t]}else{$v=H $v}};$h[$n]=$v};$h}
# A property value as data: null, strings and primitives stay, enumerations become arrays of [string], anything
# else its [string] (an enum its name, an XElement its XML text, a DateTime PowerShell's invariant text).
function N($v){if($null -eq $v -or $v -is [string] -or $v.GetType().IsPrimitive){return $v}
if($v -is [Collections.IEnumerable]){return ,@(foreach($e in $v){[string]$e})};[string]$v}
# Objects that are values, not property bags: strings, enums and other value types, XML trees.
function S($x){$x -is [string] -or $x -is [ValueType] -or $x.GetType().FullName -like 'System.Xml.Linq.X*'}
function D{New-Object Collections.Specialized.OrderedDictionary}
try{Add-Type -AssemblyName System.Web.Extensions
$j=New-Object Web.Script.Serialization.JavaScriptSerializer
$j.MaxJsonLength=[int]::MaxValue}catch{[Console]::Error.WriteLine([string]$_);exit 2}
$ok='^(Get|Set|New|Remove|Grant|Revoke|Move|Merge|Import|Export|Enable|Disable|Install|Publish|Invoke|Test|Start|Stop|Update|Backup)-Cs[A-Za-z]+$'
$more=@('Get-WinEvent','Get-Service','Start-Service','Stop-Service','Set-Service','Get-WmiObject','Get-CimInstance','Get-HotFix','Set-Content','Get-Content')
$pv=$PSVersionTable.PSVersion
# A worker: one request per stdin line, each answered by ready, its results and done, until stdin ends or a
# request says stop. A module already imported into this process is not imported again.
while($true){$l=[Console]::In.ReadLine();if($null -eq $l){exit 0}
$f=$null
try{$q=$j.DeserializeObject([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($l)))
if((G $q 'v') -ne 1){throw "unsupported request version $(G $q 'v')"}
if(G $q 'stop'){exit 0}
$m=G $q 'min_ps'
if($m -and $pv -lt [version][string]$m){$f=@{message="Windows PowerShell $pv is older than $m";fqid='PowerShellVersionTooOld'
category='NotInstalled';target=[string]$pv;exception='';transient=$false}}
else{foreach($m in @(G $q 'modules')){if(@('Lync') -notcontains $m){throw "module not allowed: $m"};if(!(Get-Module $m)){Import-Module $m}}}
$cr=$null;$c=G $q 'credential'
if($c){$cr=New-Object Management.Automation.PSCredential($c['username'],(ConvertTo-SecureString $c['password'] -AsPlainText -Force))}
}catch{W @{fatal=(E $_)};exit 1}
if($f){W @{fatal=$f;ps=[string]$pv;computer=$env:COMPUTERNAME};exit 1}
W @{ready=$true;computer=$env:COMPUTERNAME;ps=[string]$pv}
$R=@{}
foreach($k in @(G $q 'calls')){try{$n=[string](G $k 'cmdlet')
if($n -notmatch $ok -and $more -notcontains $n){throw "cmdlet not allowed: $n"}
$p=@{};$x=G $k 'params';if($x){$p=H $x}
if((G $k 'pass_credential') -and $cr){$p['Credential']=$cr}
$a=@(& $n @p);$x=G $k 'name';if($x){$R[[string]$x]=$a}
$x=G $k 'expand';if($x){$a=@(foreach($z in $a){$z.$x})}
$s=G $k 'select';$r=New-Object Collections.ArrayList
foreach($z in $a){if($null -eq $z){continue};if(S $z){[void]$r.Add((N $z));continue};$d=D
foreach($y in $z.PSObject.Properties){if($null -eq $s -or @($s) -contains $y.Name){$v=$y.Value
if($x -and $null -ne $v -and !((S $v) -or $v -is [Collections.IEnumerable])){$w=D
foreach($u in $v.PSObject.Properties){$w[$u.Name]=N $u.Value};$d[$y.Name]=$w}else{$d[$y.Name]=N $v}}};[void]$r.Add($d)}
W @{id=(G $k 'id');ok=$true;objects=$r}}catch{W @{id=(G $k 'id');ok=$false;error=(E $_)}}}
W @{done=$true}}
"""

ENVELOPE_SHA256 = hashlib.sha256(ENVELOPE_SCRIPT.encode("utf-8")).hexdigest()

# What the command line carries: read the envelope (stdin's first line, base64 UTF-8) and run it; the envelope
# then reads the request (the second line). [ScriptBlock]::Create exists from PowerShell 2.0 on.
LOADER_SCRIPT = ("$e=[Console]::In.ReadLine();"
                 "&([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($e))))")

LOADER_SHA256 = hashlib.sha256(LOADER_SCRIPT.encode("utf-8")).hexdigest()

# The Lync Server 2013 Management Shell needs Windows PowerShell 3.0 (Lync Server 2013 additional software
# requirements: WMF 3.0 on Windows Server 2008 R2 SP1); the envelope itself runs on 2.0.
MODULE_MIN_POWERSHELL = {"Lync": "3.0"}

POWERSHELL_EXE = "powershell.exe"
POWERSHELL_SWITCHES = ("-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand")

# cmd.exe refuses longer command lines with "The command line is too long."
CMD_LINE_LIMIT = 8191


def encoded_command():
    """base64(UTF-16LE(loader)): the -EncodedCommand argument."""
    return base64.b64encode(LOADER_SCRIPT.encode("utf-16-le")).decode("ascii")


def _envelope_line():
    return base64.b64encode(ENVELOPE_SCRIPT.encode("utf-8")) + b"\r\n"


ENVELOPE_LINE = _envelope_line()


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
    ``min_ps`` is the PowerShell version the modules need: an older host answers a fatal PowerShellVersionTooOld
    before anything runs.
    """
    for module_name in modules:
        if module_name not in ALLOWED_MODULES:
            raise ValueError("module %r is not in the envelope's allow-list %s" % (module_name, ", ".join(ALLOWED_MODULES)))
    request = {
        "v": PROTOCOL_VERSION,
        "modules": list(modules),
        "calls": [call.to_json(str(index)) for index, call in enumerate(calls)],
    }
    needed = [MODULE_MIN_POWERSHELL[m] for m in modules if m in MODULE_MIN_POWERSHELL]
    if needed:
        request["min_ps"] = max(needed, key=lambda v: tuple(int(p) for p in v.split(".")))
    if credential is not None:
        request["credential"] = {"username": credential[0], "password": credential[1]}
    return request


def encode_request(request):
    """stdin bytes: the envelope's line for the loader, then base64(UTF-8(JSON)), each followed by CRLF."""
    raw = json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return ENVELOPE_LINE + base64.b64encode(raw) + b"\r\n"


def request_line(stdin_bytes):
    """The request's own line of what encode_request made: what a worker already running is sent."""
    if stdin_bytes.startswith(ENVELOPE_LINE):
        return stdin_bytes[len(ENVELOPE_LINE):]
    return stdin_bytes


# The request that ends a worker at once (exit 0, nothing written for it).
STOP_REQUEST_LINE = base64.b64encode(json.dumps({"v": PROTOCOL_VERSION, "stop": True}).encode("utf-8")) + b"\r\n"


def decode_request(data):
    """The inverse of encode_request (tests and diagnostics): the request of stdin's last line."""
    return json.loads(base64.b64decode(data.strip().split(b"\n")[-1].strip()).decode("utf-8"))


__all__ = ["ALLOWED_MODULES", "Call", "ENVELOPE_SCRIPT", "ENVELOPE_SHA256", "LOADER_SCRIPT", "build_request",
           "STOP_REQUEST_LINE", "command_line", "decode_request", "encode_request", "encoded_command", "request_line",
           "result_of"]
