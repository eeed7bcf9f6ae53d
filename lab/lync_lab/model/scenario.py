"""Scenario files: the organisation a lab emulates (servers, accounts, legacy OCS configuration, users, waves).

``load_scenario("contoso-small")`` (a shipped name) or ``load_scenario("path/to/file.yml")``. Every problem is a
LabConfigError naming the file, the field path (``users[12].sip``) and what to write instead.
"""

from __future__ import annotations

import hmac
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import LabConfigError
from ..context import ServerInfo
from ..hosts import HostSpec, HostSpecError, build_host

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
ROLES = {
    "ocs_frontend", "ocs_standard", "ocs_edge", "ocs_director", "ocs_mediation", "ocs_archiving",
    "ocs_monitoring", "ocs_cwa", "ocs_xmpp", "lync_frontend", "lync_edge", "lync_mediation", "dc",
}
_FQDN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)
_SIP = re.compile(r"^[^@\s:]+@[a-z0-9.-]+\.[a-z]{2,63}$", re.I)
_SAM = re.compile(r"^[^\"/\\\[\]:;|=,+*?<>@\s]{1,20}$")
_POLICY_FIELDS = ("meeting_policy", "location_profile", "voice_policy", "presence_policy",
                  "external_access_policy", "archiving_policy")
_POLICY_LISTS = {"meeting_policy": "meeting_policies", "location_profile": "location_profiles",
                 "voice_policy": "voice_policies", "presence_policy": "presence_policies",
                 "external_access_policy": "external_access_policies", "archiving_policy": "archiving_policies"}


@dataclass
class Scenario:
    name: str
    path: Path
    raw: dict
    servers: list[ServerInfo]
    users: list[dict] = field(default_factory=list)   # expanded, defaults applied (generated ones included)

    @property
    def ref(self) -> str:
        """What load_scenario finds this scenario again by: a shipped scenario's name, else its file's path (a
        captured scenario; `lync-lab perform` reloads the scenario the state was seeded from)."""
        path = Path(self.path).resolve()
        return self.name if path.parent == SCENARIO_DIR and path.stem == self.name else str(path)

    @property
    def domain(self) -> str:
        return self.raw["domain"]["fqdn"]

    @property
    def netbios(self) -> str:
        return self.raw["domain"]["netbios"]

    @property
    def admin_server(self) -> ServerInfo:
        name = next(s["fqdn"] for s in self.raw["servers"] if s.get("admin"))
        return next(s for s in self.servers if s.fqdn == name)

    @property
    def waves(self) -> dict[str, list[str]]:
        return dict(self.raw.get("waves") or {})

    def check_password(self, user: str, password: str) -> str | None:
        """The canonical DOMAIN\\user when (user, password) is one of the scenario's accounts, else None.

        Accepts user, DOMAIN\\user, domain.fqdn\\user and user@domain.fqdn, as Windows does."""
        name = _account_name(user, self.netbios, self.domain)
        if name is None:
            return None
        for acct in self.raw["accounts"]:
            if acct["user"].lower() == name.lower():
                if hmac.compare_digest(str(acct["password"]).encode(), str(password).encode()):
                    return f"{self.netbios}\\{acct['user']}"
                return None
        return None

    def ntlm_accounts(self) -> list[tuple[str, str, str]]:
        return [(self.netbios, a["user"], str(a["password"])) for a in self.raw["accounts"]]

def _account_name(user: str, netbios: str, domain: str) -> str | None:
    if "\\" in user:
        dom, name = user.split("\\", 1)
        return name if dom.lower() in (netbios.lower(), domain.lower()) else None
    if "@" in user:
        name, dom = user.rsplit("@", 1)
        return name if dom.lower() in (netbios.lower(), domain.lower()) else None
    return user


def scenario_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yml", ".yaml") or p.exists():
        return p
    return SCENARIO_DIR / f"{name_or_path}.yml"


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    path = scenario_path(name_or_path)
    if not path.is_file():
        raise LabConfigError(
            f"scenario {name_or_path!r}: no such file {path}; give a path to a scenario YAML file or one of the "
            f"shipped names: {', '.join(shipped_scenarios())}"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise LabConfigError(f"{path}: not valid YAML: {e}") from None
    return Scenario_from_dict(raw, path)


def Scenario_from_dict(raw: Any, path: Path) -> Scenario:  # noqa: N802 - reads as a constructor
    v = _Validator(path)
    v.mapping(raw, "")
    name = v.string(raw, "name", "")
    dom = v.mapping(v.need(raw, "domain", ""), "domain")
    fqdn = v.string(dom, "fqdn", "domain")
    if not _FQDN.match(fqdn):
        v.fail("domain.fqdn", f"{fqdn!r} is not a DNS domain name", "write e.g. contoso.net")
    netbios = v.string(dom, "netbios", "domain")
    if not re.match(r"^[A-Za-z0-9-]{1,15}$", netbios):
        v.fail("domain.netbios", f"{netbios!r} is not a NetBIOS domain name", "use 1-15 letters, digits or '-'")
    dom.setdefault("users_ou", "OU=Users," + ",".join(f"DC={p}" for p in fqdn.split(".")))

    accounts = v.seq(v.need(raw, "accounts", ""), "accounts", nonempty=True)
    for i, a in enumerate(accounts):
        p = f"accounts[{i}]"
        v.mapping(a, p)
        v.string(a, "user", p)
        if not isinstance(a.get("password"), (str, int)) or str(a.get("password")) == "":
            v.fail(f"{p}.password", "missing or empty", "give the account's password as a string")

    servers_raw = v.seq(v.need(raw, "servers", ""), "servers", nonempty=True)
    servers: list[ServerInfo] = []
    seen_ports: dict[int, str] = {}
    seen_fqdns: set[str] = set()
    for i, s in enumerate(servers_raw):
        p = f"servers[{i}]"
        v.mapping(s, p)
        sf = v.string(s, "fqdn", p)
        if not _FQDN.match(sf):
            v.fail(f"{p}.fqdn", f"{sf!r} is not a fully qualified domain name", "write e.g. lync-fe01.contoso.net")
        if sf.lower() in seen_fqdns:
            v.fail(f"{p}.fqdn", f"{sf} is listed twice", "list each server once")
        seen_fqdns.add(sf.lower())
        role = v.string(s, "role", p)
        if role not in ROLES:
            v.fail(f"{p}.role", f"unknown role {role!r}", f"use one of {', '.join(sorted(ROLES))}")
        for port_key in ("http_port", "https_port"):
            port = s.get(port_key)
            if port is None:
                continue
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                v.fail(f"{p}.{port_key}", f"{port!r} is not a TCP port", "use a number from 1024 to 65535")
            if port in seen_ports:
                v.fail(f"{p}.{port_key}", f"port {port} is already used by {seen_ports[port]}", "give every server its own ports")
            seen_ports[port] = f"{sf} {port_key}"
        host = _host(v, s, p)
        servers.append(ServerInfo(fqdn=sf, role=role, pool=s.get("pool"), site=s.get("site"),
                                  http_port=s.get("http_port"), https_port=s.get("https_port"),
                                  netbios=s.get("netbios", ""), host=host))
    servers = [replace(srv, culture=_culture(v, s, f"servers[{i}]"))
               for i, (srv, s) in enumerate(zip(servers, servers_raw))]
    admins = [i for i, s in enumerate(servers_raw) if s.get("admin")]
    if len(admins) != 1:
        v.fail("servers", f"{len(admins)} servers are flagged admin: true",
               "flag exactly one Lync Front End with admin: true (it gets --http-port/--https-port)")
    if servers[admins[0]].role != "lync_frontend":
        v.fail(f"servers[{admins[0]}].admin", "the admin server must be a Lync Front End (role lync_frontend)",
               "move admin: true to the lync_frontend server")

    legacy = v.mapping(raw.get("legacy") or {}, "legacy")
    legacy_pools = v.seq(legacy.get("pools") or [], "legacy.pools")
    for i, lp in enumerate(legacy_pools):
        v.mapping(lp, f"legacy.pools[{i}]")
        v.string(lp, "fqdn", f"legacy.pools[{i}]")
    names: dict[str, set[str]] = {}
    for list_name in list(_POLICY_LISTS.values()) + ["voice_routes"]:
        items = v.seq(legacy.get(list_name) or [], f"legacy.{list_name}")
        names[list_name] = set()
        for i, item in enumerate(items):
            p = f"legacy.{list_name}[{i}]"
            v.mapping(item, p)
            key = "name"
            n = v.string(item, key, p)
            if n in names[list_name]:
                v.fail(f"{p}.{key}", f"{n!r} appears twice", "give each item a unique name")
            names[list_name].add(n)

    if raw.get("generate") is not None:
        _generate(raw, v)
    pools = {lp["fqdn"].lower() for lp in legacy_pools} | {s.pool.lower() for s in servers if s.pool}
    defaults = v.mapping(raw.get("user_defaults") or {}, "user_defaults")
    users = v.seq(raw.get("users") or [], "users")
    expanded: list[dict] = []
    seen_sip: dict[str, int] = {}
    seen_sam: dict[str, int] = {}
    for i, u in enumerate(users):
        p = f"users[{i}]"
        v.mapping(u, p)
        user = {**defaults, **u}
        v.string(user, "name", p)
        sip = v.string(user, "sip", p)
        if sip.lower().startswith("sip:"):
            sip = user["sip"] = sip[4:]
        if not _SIP.match(sip):
            v.fail(f"{p}.sip", f"{sip!r} is not a SIP address", "write user@domain, e.g. ken.myer@contoso.net")
        if sip.lower() in seen_sip:
            v.fail(f"{p}.sip", f"{sip} is already used by users[{seen_sip[sip.lower()]}]", "SIP addresses are unique")
        seen_sip[sip.lower()] = i
        sam = v.string(user, "sam", p)
        if not _SAM.match(sam):
            v.fail(f"{p}.sam", f"{sam!r} is not a valid SamAccountName", "use at most 20 characters, no spaces or \"/\\[]:;|=,+*?<>@")
        if sam.lower() in seen_sam:
            v.fail(f"{p}.sam", f"{sam} is already used by users[{seen_sam[sam.lower()]}]", "SamAccountNames are unique")
        seen_sam[sam.lower()] = i
        pool = v.string(user, "pool", p)
        if pool.lower() not in pools:
            v.fail(f"{p}.pool", f"unknown pool {pool!r}", f"use one of {', '.join(sorted(pools))}")
        for pf in _POLICY_FIELDS:
            val = user.get(pf)
            if val is not None and val not in names[_POLICY_LISTS[pf]]:
                v.fail(f"{p}.{pf}", f"no legacy.{_POLICY_LISTS[pf]} entry named {val!r}",
                       f"use one of {sorted(names[_POLICY_LISTS[pf]])} or null")
        stage = user.get("from_stage", 1)
        if isinstance(stage, bool) or not isinstance(stage, int) or not 1 <= stage <= 11:
            v.fail(f"{p}.from_stage", f"{stage!r} is not a stage", "use a number from 1 to 11")
        early = user.get("moved_early")
        if early is not None:
            # A user an admin moved by hand once the pilot pool existed (outside the phases): homed on `pool`
            # until then, on the early pool from that stage on. A continuous rehearsal leaves them legacy.
            if not isinstance(early, dict) or not isinstance(early.get("stage"), int) or not 4 <= early["stage"] <= 11:
                v.fail(f"{p}.moved_early", f"{early!r} is not {{stage: N, pool: FQDN}} with N from 4 to 11",
                       "write e.g. moved_early: {stage: 4, pool: pool02.contoso.net}")
            elif not isinstance(early.get("pool"), str) or not early["pool"]:
                v.fail(f"{p}.moved_early.pool", f"{early.get('pool')!r} is not a pool FQDN", "name the Lync pool")
        meetings = user.get("meetings", 0)
        if isinstance(meetings, bool) or not isinstance(meetings, int) or meetings < 0:
            v.fail(f"{p}.meetings", f"{meetings!r} is not a count", "use a number >= 0")
        if user.get("line_uri") is not None and not str(user["line_uri"]).lower().startswith("tel:"):
            v.fail(f"{p}.line_uri", f"{user['line_uri']!r} is not a tel: URI", "write e.g. tel:+14255550101")
        expanded.append(user)
    expanded.extend(raw.pop("_generated_users", []))

    names_by_display: dict[str, int] = {}
    for u in expanded:
        names_by_display[u["name"]] = names_by_display.get(u["name"], 0) + 1
    waves = v.mapping(raw.get("waves") or {}, "waves")
    for wave, members in waves.items():
        v.seq(members, f"waves.{wave}")
        for j, m in enumerate(members):
            if not isinstance(m, str) or m not in names_by_display:
                v.fail(f"waves.{wave}[{j}]", f"{m!r} is not the display name of a user in users",
                       "use a user's name exactly as in users[].name")

    if raw.get("topology") is not None:
        try:
            from .topology import validate_topology_section
        except ImportError:
            validate_topology_section = None  # the topology model is not installed in this build
        if validate_topology_section is not None:
            validate_topology_section(raw["topology"], path)
    return Scenario(name=name, path=path, raw=raw, servers=servers, users=expanded)


_LYNC_ROLES = ("lync_frontend", "lync_edge", "lync_mediation")
# Lync Server 2013 runs on Windows Server 2008 R2 SP1 with WMF 3.0, 2012 or 2012 R2 (OfficeDocs-SkypeForBusiness
# lync-server-2013-server-and-tools-operating-system-support.md); OCS 2007 R2 on 64-bit 2003 SP2, 2008 SP2, 2008 R2.
_LYNC_OS = ("2008r2sp1-wmf3", "2012", "2012r2")
_OCS_OS = ("2003sp2", "2008sp2", "2008sp2-wmf3", "2008r2", "2008r2sp1", "2008r2sp1-wmf3")


def _dotnet(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _host(v: "_Validator", s: dict, p: str):
    """servers[i].os and its overrides (powershell, dotnet, winrm, wmf3_memory_bug, quotas) as a HostProfile."""
    quotas = s.get("quotas")
    spec = HostSpec(os=s.get("os"), powershell=s.get("powershell"), dotnet=s.get("dotnet"), winrm=s.get("winrm"),
                    wmf3_memory_bug=s.get("wmf3_memory_bug"), quotas={} if quotas is None else quotas)
    try:
        host = build_host(spec)
    except HostSpecError as e:
        v.fail(f"{p}.{e.field}", e.problem, e.fix)
    role = s.get("role", "")
    if s.get("os") is not None:
        if role in _LYNC_ROLES and host.os not in _LYNC_OS:
            v.fail(f"{p}.os", f"Lync Server 2013 does not run on {host.os_name} ({host.os})",
                   f"use one of {', '.join(_LYNC_OS)} (lync-server-2013-server-and-tools-operating-system-support.md)")
        if role.startswith("ocs_") and host.os not in _OCS_OS:
            v.fail(f"{p}.os", f"OCS 2007 R2 does not run on {host.os_name} ({host.os})",
                   f"use one of {', '.join(_OCS_OS)} (OCS 2007 R2 needs 64-bit 2003 SP2, 2008 SP2 or 2008 R2)")
    if role in _LYNC_ROLES and (host.powershell == "2.0" or _dotnet(host.dotnet) < (4, 5)):
        v.fail(f"{p}.powershell", f"Lync Server 2013 needs PowerShell 3.0 and .NET Framework 4.5; this host has "
               f"PowerShell {host.powershell}, .NET {host.dotnet}",
               "use os: 2008r2sp1-wmf3, 2012 or 2012r2 without lowering powershell/dotnet "
               "(lync-server-2013-additional-software-requirements.md)")
    return host


def _culture(v: "_Validator", s: dict, p: str) -> str:
    """servers[i].culture: the language its error messages come in (lync_lab.localisation), en-US by default."""
    from ..localisation import CULTURES, DEFAULT_CULTURE

    culture = s.get("culture", DEFAULT_CULTURE)
    if culture not in CULTURES:
        v.fail(f"{p}.culture", f"{culture!r} is not a culture the lab has messages for",
               f"use one of {', '.join(CULTURES)}")
    return culture


class _Validator:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, field_path: str, problem: str, fix: str):
        where = field_path or "(top level)"
        raise LabConfigError(f"{self.path}: {where}: {problem}; {fix}")

    def need(self, d: dict, key: str, parent: str):
        if key not in d or d[key] is None:
            self.fail(_join(parent, key), "missing", f"add {key}: (see lab/README.md, Scenario format)")
        return d[key]

    def mapping(self, d: Any, p: str) -> dict:
        if not isinstance(d, dict):
            self.fail(p, f"expected a mapping, found {type(d).__name__}", "write key: value pairs")
        return d

    def seq(self, d: Any, p: str, nonempty: bool = False) -> list:
        if not isinstance(d, list):
            self.fail(p, f"expected a list, found {type(d).__name__}", "write a YAML list (- item)")
        if nonempty and not d:
            self.fail(p, "is empty", "list at least one entry")
        return d

    def string(self, d: dict, key: str, parent: str) -> str:
        val = d.get(key)
        if not isinstance(val, str) or val == "":
            self.fail(_join(parent, key), "missing or not a string" if val is None or val == "" else
                      f"expected a string, found {val!r}", f"give {key} as a non-empty string")
        return val


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


# -- generated organisations (contoso-large) ------------------------------------------------------------
_FIRST = ["Adam", "Alex", "Amy", "Ana", "Andrew", "Anne", "Ben", "Beth", "Brian", "Carl", "Carol", "Chris", "Dan",
          "Diane", "Don", "Ed", "Elena", "Eric", "Eva", "Frank", "Gail", "Greg", "Hana", "Ivan", "Jan", "Jeff",
          "Jill", "Jon", "Judy", "Karen", "Kim", "Lars", "Linda", "Lisa", "Luis", "Mark", "Mary", "Mei", "Nina",
          "Olga", "Omar", "Paul", "Peter", "Priya", "Rachel", "Raj", "Rob", "Ruth", "Sam", "Sara", "Scott", "Tom",
          "Uma", "Victor", "Wendy", "Yuki", "Zoe"]
_LAST = ["Abbott", "Alvarez", "Baker", "Barr", "Berg", "Bishop", "Brewer", "Chen", "Cook", "Cox", "Davis", "Dixon",
         "Erickson", "Frank", "Garcia", "Hall", "Hansen", "Hay", "Houston", "Irons", "Jordan", "Kahn", "Kotas",
         "Lang", "Lew", "Miller", "Mitchell", "Morris", "Nguyen", "Park", "Patel", "Perham", "Peterson", "Poe",
         "Quinn", "Reyes", "Smith", "Tanaka", "Valdez", "Wallace", "West", "Wilson", "Yang", "Young", "Zhou"]


def _generate(raw: dict, v: _Validator) -> None:
    """Expand ``generate:`` into users spread over the legacy pools (deterministic for a given seed)."""
    gen = v.mapping(raw["generate"], "generate")
    count = gen.get("users")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        v.fail("generate.users", f"{count!r} is not a user count", "use a number >= 1")
    seed = gen.get("seed", 1)
    pools = [lp["fqdn"] for lp in (raw.get("legacy") or {}).get("pools") or []]
    if not pools:
        v.fail("legacy.pools", "generate: needs at least one legacy pool to home users on", "list the OCS pools")
    legacy = raw.get("legacy") or {}
    choices = {pf: [p["name"] for p in legacy.get(_POLICY_LISTS[pf]) or []] for pf in _POLICY_FIELDS}
    rng = random.Random(seed)
    domain = raw["domain"]["fqdn"]
    taken_sip = {str(u.get("sip", "")).lower() for u in raw.get("users") or [] if isinstance(u, dict)}
    taken_sam = {str(u.get("sam", "")).lower() for u in raw.get("users") or [] if isinstance(u, dict)}
    meetings_per_user = gen.get("meetings_per_user", 1)
    out = []
    for n in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        base = f"{first}.{last}".lower()
        sip = f"{base}{n}@{domain}"
        sam = f"{first[0]}{last}{n}".lower()[:20]
        if sip in taken_sip or sam in taken_sam:
            continue
        user = {"name": f"{first} {last} {n:05d}", "sip": sip, "sam": sam, "pool": pools[n % len(pools)],
                "meetings": meetings_per_user if n % 4 == 0 else 0, "generated": True}
        for pf, opts in choices.items():
            user[pf] = opts[rng.randrange(len(opts))] if opts else None
        out.append(user)
    raw["_generated_users"] = out
