"""What Windows a modelled server runs: OS, PowerShell, .NET, WinRM and the WinRM quotas it enforces.

A value module: it imports nothing of the lab, so every layer may read a host (the WinRM listener its quotas, the
PowerShell runtime its version; the scenario loader builds it). Every lab server has a ``HostProfile``
(``ServerInfo.host``, lync_lab.context). A scenario names the OS (``os: 2008r2``) and may override the PowerShell,
.NET or WinRM version and single quotas; the rest comes from ``PROFILES``, one entry per operating system, with the
Microsoft page each value is taken from. A value no Microsoft page gives is marked
*assumed* in the table's ``source`` text, with the reason.

Sources (paraphrased; see each profile's ``source``):

- PowerShell-Docs ``reference/docs-conceptual/windows-powershell/wmf-overview.md`` ("WMF availability across
  Windows operating systems"): WMF 2.0 is included in Windows Server 2008 R2 SP1 and can be installed on 2008
  SP2 and 2003 (the newest WMF 2003 can have); WMF 3.0 can be installed on 2008 R2 SP1 and 2008 SP2 and is
  included in 2012; WMF 4.0 is included in 2012 R2.
- win32 ``desktop-src/WinRM/installation-and-configuration-for-windows-remote-management.md``: the WinRM 2.0
  defaults: MaxEnvelopeSizekb 150, MaxTimeoutms 60000, MaxConcurrentOperationsPerUser 1500, and under "Winrs
  Default Configuration Settings" IdleTimeout 180000 ms ("WinRM 2.0: ... minimum 60000; lower has no effect"),
  MaxConcurrentUsers 5, MaxProcessesPerShell 15, MaxMemoryPerShellMB 150, MaxShellsPerUser 5. The same page:
  by default no WinRM listener is configured (``winrm quickconfig`` creates one).
- win32 ``desktop-src/WinRM/quotas.md``: the newer (WinRM 3.0) defaults: MaxProcessesPerShell 25,
  MaxMemoryPerShellMB 1024, MaxShellsPerUser 30, MaxConcurrentUsers 10; IdleTimeout minimum 1000 ms, and its
  ``winrm get winrm/config`` listing of the default quotas shows IdleTimeout = 7200000. (Its prose says the
  IdleTimeout default is 180000, the WinRM 2.0 value, as does MS-WSMV 2.2.4.42 WinrsType's schema; the listing is
  taken as what a WinRM 3.0 host reports.) MS-WSMV 2.2.4.42 gives the same 25/1024/30/10.
- Not modelled: a Windows Server 2008 host has no WinRM listener until ``winrm quickconfig`` (installation page);
  every lab server is taken as configured, since the collection needs a listener on each.
- MaxEnvelopeSizekb 500 on WinRM 3.0: no Microsoft page found that states it; *assumed* from what WinRM 3.0 hosts
  report in ``winrm get winrm/config`` (transcripts in chef/knife-windows#365, microsoft/azure-pipelines-tasks#1897,
  ansible-collections/ansible.windows#391).
- WMF 3.0 memory bug: with WMF 3.0 the WinRM service ignores a MaxMemoryPerShellMB above the old default and a
  shell runs out of memory at about 150 MB until hotfix KB2842230 is installed (the KB, as Ansible's Windows
  setup guide cites it for Windows 7 / Server 2008 R2; xebialabs/overthere#64 shows the limit hit at ~114 MB of
  Java heap with MaxMemoryPerShellMB=2048). The 150 MB figure is the WinRM 2.0 default; *assumed* as the exact
  ceiling.
- Lync Server 2013: OfficeDocs-SkypeForBusiness ``Lync/LyncServer/lync-server-2013-server-and-tools-operating-
  system-support.md`` (Windows Server 2008 R2 SP1, 2012, 2012 R2) and ``lync-server-2013-additional-software-
  requirements.md`` (Windows PowerShell 3.0 and .NET Framework 4.5 on every Lync server). OCS 2007 R2: 64-bit
  Windows Server 2003 SP2, 2008 SP2 or 2008 R2 with .NET Framework 3.5 SP1 (OCS 2007 R2 Supportability Guide;
  technet ff181533 "Top Things You Need to Know": 64-bit hardware and operating systems only).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# Quota names as ``winrm get winrm/config`` spells them; a scenario's ``quotas:`` uses the same names.
QUOTA_NAMES = ("MaxShellsPerUser", "MaxMemoryPerShellMB", "MaxConcurrentUsers", "MaxProcessesPerShell",
               "MaxEnvelopeSizekb", "IdleTimeout", "MaxTimeoutms", "MaxConcurrentOperationsPerUser")
POWERSHELL_VERSIONS = ("2.0", "3.0", "4.0")
# The newest .NET Framework installed; a host patched beyond what its OS and products need may say 4.6.1 or later
# (ServiceController.StartType, for one, exists only from 4.6.1).
DOTNET_VERSIONS = ("3.5", "4.0", "4.5", "4.6.1", "4.7.2", "4.8")
WINRM_VERSIONS = ("2.0", "3.0")
# WinRM 2.0 ignores an IdleTimeout below 60 s (installation page); quotas.md gives 1 s as the minimum otherwise.
IDLE_TIMEOUT_FLOOR_MS = {"2.0": 60000, "3.0": 1000}
# What a shell holds to on a WMF 3.0 host without KB2842230, whatever MaxMemoryPerShellMB says.
WMF3_BUG_MEMORY_MB = 150


@dataclass(frozen=True)
class WinRMQuotas:
    """The winrm/config (service) and winrm/config/winrs values the host enforces."""

    MaxShellsPerUser: int
    MaxMemoryPerShellMB: int
    MaxConcurrentUsers: int
    MaxProcessesPerShell: int
    MaxEnvelopeSizekb: int
    IdleTimeout: int               # ms
    MaxTimeoutms: int
    MaxConcurrentOperationsPerUser: int = 1500

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in QUOTA_NAMES}


WINRM2_QUOTAS = WinRMQuotas(MaxShellsPerUser=5, MaxMemoryPerShellMB=150, MaxConcurrentUsers=5,
                            MaxProcessesPerShell=15, MaxEnvelopeSizekb=150, IdleTimeout=180000,
                            MaxTimeoutms=60000)
WINRM3_QUOTAS = WinRMQuotas(MaxShellsPerUser=30, MaxMemoryPerShellMB=1024, MaxConcurrentUsers=10,
                            MaxProcessesPerShell=25, MaxEnvelopeSizekb=500, IdleTimeout=7200000,
                            MaxTimeoutms=60000)
DEFAULT_QUOTAS = {"2.0": WINRM2_QUOTAS, "3.0": WINRM3_QUOTAS}

_WMF = "PowerShell-Docs windows-powershell/wmf-overview.md (WMF availability table)"
_WINRM2 = ("win32 WinRM/installation-and-configuration-for-windows-remote-management.md (WinRM 2.0 defaults: "
           "MaxEnvelopeSizekb 150, Winrs IdleTimeout 180000, MaxConcurrentUsers 5, MaxProcessesPerShell 15, "
           "MaxMemoryPerShellMB 150, MaxShellsPerUser 5)")
_WINRM3 = ("win32 WinRM/quotas.md (MaxShellsPerUser 30, MaxMemoryPerShellMB 1024, MaxConcurrentUsers 10, "
           "MaxProcessesPerShell 25; its winrm/config listing IdleTimeout 7200000); MaxEnvelopeSizekb 500 assumed "
           "from hosts' winrm get winrm/config output (no Microsoft page found)")
_OCS = "OCS 2007 R2 runs on 64-bit Windows Server 2003 SP2, 2008 SP2, 2008 R2 with .NET Framework 3.5 SP1"
_LYNC = ("OfficeDocs-SkypeForBusiness lync-server-2013-server-and-tools-operating-system-support.md and "
         "lync-server-2013-additional-software-requirements.md (PowerShell 3.0, .NET Framework 4.5)")


@dataclass(frozen=True)
class HostProfile:
    """One server's Windows: what PowerShell scripts can use and what WinRM allows a client."""

    os: str                        # a PROFILES key, e.g. "2008r2"
    os_name: str                   # as Windows names itself
    powershell: str                # "2.0" | "3.0" | "4.0"
    dotnet: str                    # the newest .NET Framework installed: "3.5" | "4.0" | "4.5" | "4.6.1" | ...
    winrm: str                     # "2.0" | "3.0"
    quotas: WinRMQuotas
    wmf3_memory_bug: bool = False  # WMF 3.0 without KB2842230: shells hold to 150 MB whatever the quota says
    source: str = ""

    @property
    def effective_memory_mb(self) -> int:
        """The memory a shell really gets (what the WMF 3.0 bug leaves of MaxMemoryPerShellMB)."""
        if self.wmf3_memory_bug:
            return min(self.quotas.MaxMemoryPerShellMB, WMF3_BUG_MEMORY_MB)
        return self.quotas.MaxMemoryPerShellMB

    @property
    def idle_timeout_seconds(self) -> float:
        """IdleTimeout as the service applies it: values under the version's minimum have no effect."""
        return max(self.quotas.IdleTimeout, IDLE_TIMEOUT_FLOOR_MS[self.winrm]) / 1000.0

    @property
    def max_envelope_bytes(self) -> int:
        return self.quotas.MaxEnvelopeSizekb * 1024

    @property
    def max_timeout_seconds(self) -> float:
        return self.quotas.MaxTimeoutms / 1000.0


PROFILES: dict[str, HostProfile] = {
    "2003sp2": HostProfile(
        "2003sp2", "Microsoft Windows Server 2003 R2 Enterprise x64 Edition Service Pack 2", "2.0", "3.5", "2.0",
        WINRM2_QUOTAS, source=f"{_WMF}: 2003 can have at most WMF 2.0; {_WINRM2}; {_OCS}"),
    "2008sp2": HostProfile(
        "2008sp2", "Microsoft Windows Server 2008 Enterprise Service Pack 2", "2.0", "3.5", "2.0",
        WINRM2_QUOTAS, source=f"{_WMF}: WMF 2.0 installable on 2008 SP2; {_WINRM2}; {_OCS}"),
    "2008sp2-wmf3": HostProfile(
        "2008sp2-wmf3", "Microsoft Windows Server 2008 Enterprise Service Pack 2", "3.0", "4.0", "3.0",
        WINRM3_QUOTAS, wmf3_memory_bug=True,
        source=f"{_WMF}: WMF 3.0 installable on 2008 SP2; {_WINRM3}; WMF 3.0 memory bug until KB2842230 "
               f"(assumed to affect 2008 SP2 as it does 2008 R2: same WMF 3.0 package); WMF 3.0 needs .NET 4"),
    "2008r2": HostProfile(
        "2008r2", "Microsoft Windows Server 2008 R2 Enterprise", "2.0", "3.5", "2.0",
        WINRM2_QUOTAS, source=f"{_WMF}: WMF 2.0 included in 2008 R2; {_WINRM2}; {_OCS}"),
    "2008r2sp1": HostProfile(
        "2008r2sp1", "Microsoft Windows Server 2008 R2 Enterprise Service Pack 1", "2.0", "3.5", "2.0",
        WINRM2_QUOTAS, source=f"{_WMF}: WMF 2.0 included in 2008 R2 SP1; {_WINRM2}"),
    "2008r2sp1-wmf3": HostProfile(
        "2008r2sp1-wmf3", "Microsoft Windows Server 2008 R2 Enterprise Service Pack 1", "3.0", "4.5", "3.0",
        WINRM3_QUOTAS, wmf3_memory_bug=True,
        source=f"{_WMF}: WMF 3.0 installable on 2008 R2 SP1; {_LYNC}; {_WINRM3}; KB2842230 (WMF 3.0 ignores "
               f"MaxMemoryPerShellMB, as cited in Ansible's Windows setup guide)"),
    "2012": HostProfile(
        "2012", "Microsoft Windows Server 2012 Standard", "3.0", "4.5", "3.0",
        WINRM3_QUOTAS, source=f"{_WMF}: WMF 3.0 included in 2012; {_LYNC}; {_WINRM3}"),
    "2012r2": HostProfile(
        "2012r2", "Microsoft Windows Server 2012 R2 Standard", "4.0", "4.5", "3.0",
        WINRM3_QUOTAS, source=f"{_WMF}: WMF 4.0 included in 2012 R2 (WinRM stays 3.0); {_LYNC}; {_WINRM3}"),
}

# A server whose scenario names no OS: Windows Server 2012, what every lab host was before hosts were modelled.
DEFAULT_OS = "2012"


def default_host() -> HostProfile:
    return PROFILES[DEFAULT_OS]


@dataclass
class HostSpecError(ValueError):
    """A host description is wrong: ``field`` names the key, ``problem`` what is wrong, ``fix`` what to write."""

    field: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}; {self.fix}"


@dataclass
class HostSpec:
    """The ``os:`` and overrides of one scenario server, before they are checked."""

    os: str | None = None
    powershell: str | None = None
    dotnet: str | None = None
    winrm: str | None = None
    wmf3_memory_bug: bool | None = None
    quotas: dict = field(default_factory=dict)


def _version(value, name: str, allowed: tuple[str, ...]) -> str:
    text = str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    if text is not None and "." not in text:
        text += ".0"
    if text not in allowed:
        raise HostSpecError(name, f"{value!r} is not a {name} version this lab models",
                            f"use one of {', '.join(allowed)} (quote it: {name}: \"{allowed[0]}\")")
    return text


def build_host(spec: HostSpec) -> HostProfile:
    """The HostProfile of ``spec``: the OS's documented defaults with the overrides applied and checked."""
    os_key = spec.os if spec.os is not None else DEFAULT_OS
    if isinstance(os_key, int) and not isinstance(os_key, bool):
        os_key = str(os_key)   # YAML reads `os: 2012` as a number
    if not isinstance(os_key, str) or os_key.lower() not in PROFILES:
        raise HostSpecError("os", f"unknown operating system {os_key!r}",
                            f"use one of {', '.join(PROFILES)}")
    base = PROFILES[os_key.lower()]
    changes: dict = {}
    if spec.powershell is not None:
        changes["powershell"] = _version(spec.powershell, "powershell", POWERSHELL_VERSIONS)
    if spec.dotnet is not None:
        changes["dotnet"] = _version(spec.dotnet, "dotnet", DOTNET_VERSIONS)
    winrm = base.winrm
    if spec.winrm is not None:
        winrm = changes["winrm"] = _version(spec.winrm, "winrm", WINRM_VERSIONS)
    powershell = changes.get("powershell", base.powershell)
    if os_key.lower() == "2003sp2" and powershell != "2.0":
        raise HostSpecError("powershell", "Windows Server 2003 can have at most WMF 2.0 (PowerShell 2.0)",
                            "use powershell: \"2.0\" or another os (wmf-overview.md)")
    if powershell != "2.0" and winrm == "2.0":
        raise HostSpecError("winrm", f"PowerShell {powershell} comes with WinRM 3.0 (WMF 3.0 and later)",
                            "drop winrm: or write winrm: \"3.0\"")
    # Changing the WinRM version changes the defaults the quotas start from.
    quotas = DEFAULT_QUOTAS[winrm] if winrm != base.winrm else base.quotas
    if not isinstance(spec.quotas, dict):
        raise HostSpecError("quotas", f"expected a mapping, found {type(spec.quotas).__name__}",
                            "write quotas: {MaxShellsPerUser: 5, ...}")
    values = {}
    for name, value in spec.quotas.items():
        if name not in QUOTA_NAMES:
            raise HostSpecError(f"quotas.{name}", "not a WinRM quota this lab models",
                                f"use one of {', '.join(QUOTA_NAMES)} (spelled as winrm get winrm/config shows it)")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise HostSpecError(f"quotas.{name}", f"{value!r} is not a positive whole number",
                                "write the value as winrm get winrm/config shows it (IdleTimeout in ms)")
        values[name] = value
    if values:
        quotas = replace(quotas, **values)
    changes["quotas"] = quotas
    bug = base.wmf3_memory_bug if spec.wmf3_memory_bug is None else spec.wmf3_memory_bug
    if not isinstance(bug, bool):
        raise HostSpecError("wmf3_memory_bug", f"{bug!r} is not true or false", "write wmf3_memory_bug: true")
    if bug and powershell != "3.0":
        raise HostSpecError("wmf3_memory_bug", f"the bug is WMF 3.0's; this host has PowerShell {powershell}",
                            "remove wmf3_memory_bug or use a WMF 3.0 host (powershell: \"3.0\")")
    changes["wmf3_memory_bug"] = bug
    return replace(base, **changes)
