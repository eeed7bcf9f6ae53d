$ErrorActionPreference='Stop'
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
$f=$null
try{Add-Type -AssemblyName System.Web.Extensions
$j=New-Object Web.Script.Serialization.JavaScriptSerializer
$j.MaxJsonLength=[int]::MaxValue
$q=$j.DeserializeObject([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadLine())))
if((G $q 'v') -ne 1){throw "unsupported request version $(G $q 'v')"}
$pv=$PSVersionTable.PSVersion;$m=G $q 'min_ps'
if($m -and $pv -lt [version][string]$m){$f=@{message="Windows PowerShell $pv is older than $m";fqid='PowerShellVersionTooOld'
category='NotInstalled';target=[string]$pv;exception='';transient=$false}}
else{foreach($m in @(G $q 'modules')){if(@('Lync') -notcontains $m){throw "module not allowed: $m"};Import-Module $m}}
$cr=$null;$c=G $q 'credential'
if($c){$cr=New-Object Management.Automation.PSCredential($c['username'],(ConvertTo-SecureString $c['password'] -AsPlainText -Force))}
}catch{if(!$j){[Console]::Error.WriteLine([string]$_);exit 2};W @{fatal=(E $_)};exit 1}
if($f){W @{fatal=$f;ps=[string]$pv;computer=$env:COMPUTERNAME};exit 1}
W @{ready=$true;computer=$env:COMPUTERNAME;ps=[string]$pv}
$ok='^(Get|Set|New|Remove|Grant|Revoke|Move|Merge|Import|Export|Enable|Disable|Install|Publish|Invoke|Test|Start|Stop|Update|Backup)-Cs[A-Za-z]+$'
$R=@{}
$more=@('Get-WinEvent','Get-Service','Start-Service','Stop-Service','Set-Service','Get-WmiObject','Get-CimInstance','Get-HotFix','Set-Content','Get-Content')
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
W @{done=$true}
