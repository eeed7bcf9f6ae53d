"""The cmdlets the lab knows, with the parameter metadata PowerShell binds against.

Two sources: Microsoft's Lync Server 2013 catalog (data/lync2013-cmdlets.json, transcribed from the published
help) and the lab's own transcription of the Windows PowerShell 3.0 cmdlets it supports
(data/windows-cmdlets.json). Only parameters applicable to Lync Server 2013 exist for the Lync cmdlets: a
parameter added in a later product (Get-CsUser -OnModernServer) is unknown, as it is on a real Lync 2013 server.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
LYNC_PRODUCT = "Lync Server 2013"
ALL_SETS = "(All)"
# The name PowerShell gives the one set of a cmdlet that declares none.
DEFAULT_SET = "__AllParameterSets"


@dataclass(frozen=True)
class ParameterInfo:
    name: str
    type: str
    required: bool
    position: int | None            # None = named only; otherwise the sort key among positional parameters
    parameter_sets: tuple[str, ...]  # ("(All)",) = member of every set
    aliases: tuple[str, ...]
    by_value: bool
    by_property_name: bool

    def in_set(self, set_name: str) -> bool:
        return ALL_SETS in self.parameter_sets or set_name in self.parameter_sets

    @property
    def is_switch(self) -> bool:
        return self.type.rsplit(".", 1)[-1] == "SwitchParameter"


@dataclass(frozen=True)
class CmdletInfo:
    name: str
    module: str                      # "Lync" or the Windows module that ships it
    cmdlet_class: str                # for FullyQualifiedErrorId
    parameters: dict[str, ParameterInfo]
    sets: tuple[str, ...]            # every parameter set; the first is the default one
    syntax: tuple[str, ...]
    synopsis: str = ""
    implemented_by: str = "engine"   # "engine" (lync_lab.engine.invoke) or "host" (the pipeline layer itself)
    # Parameters PowerShell binds but the lab does not model (windows-cmdlets.json "lab": "not supported: ...").
    unsupported_parameters: tuple[str, ...] = ()

    @property
    def default_set(self) -> str:
        return self.sets[0]


# The few Lync cmdlet classes the migration touches most, as they appear in real FullyQualifiedErrorIds.
# Other Lync cmdlets get a name formed the same way (the catalog does not publish class names).
_KNOWN_LYNC_CLASSES = {
    "Get-CsUser": "Microsoft.Rtc.Management.AD.Cmdlets.GetOcsUserCmdlet",
    "Set-CsUser": "Microsoft.Rtc.Management.AD.Cmdlets.SetOcsUserCmdlet",
    "Enable-CsUser": "Microsoft.Rtc.Management.AD.Cmdlets.EnableOcsUserCmdlet",
    "Disable-CsUser": "Microsoft.Rtc.Management.AD.Cmdlets.DisableOcsUserCmdlet",
    "Move-CsUser": "Microsoft.Rtc.Management.AD.Cmdlets.MoveOcsUserCmdlet",
    "Move-CsLegacyUser": "Microsoft.Rtc.Management.AD.Cmdlets.MoveOcsLegacyUserCmdlet",
    "Get-CsAdUser": "Microsoft.Rtc.Management.AD.Cmdlets.GetAdUserCmdlet",
}


def _lync_class(name: str) -> str:
    if name in _KNOWN_LYNC_CLASSES:
        return _KNOWN_LYNC_CLASSES[name]
    verb, noun = name.split("-", 1)
    return f"Microsoft.Rtc.Management.AD.Cmdlets.{verb}{noun.replace('Cs', 'Ocs', 1)}Cmdlet"


def _position(raw: str) -> int | None:
    return int(raw) if re.fullmatch(r"\d+", str(raw)) else None


def _parameter(name: str, raw: dict) -> ParameterInfo:
    pipeline = raw.get("pipeline_input", "False")
    return ParameterInfo(
        name=name,
        type=raw.get("type", "String"),
        required=str(raw.get("required", False)).lower() == "true",
        position=_position(raw.get("position", "Named")),
        parameter_sets=tuple(raw.get("parameter_sets") or [ALL_SETS]),
        aliases=tuple(a for a in raw.get("aliases", []) if a.lower() != name.lower()),
        by_value="ByValue" in pipeline,
        by_property_name="ByPropertyName" in pipeline,
    )


def _cmdlet(name: str, raw: dict, module: str, cmdlet_class: str, lync: bool) -> CmdletInfo:
    params: dict[str, ParameterInfo] = {}
    for pname, praw in raw.get("parameters", {}).items():
        if lync and LYNC_PRODUCT not in praw.get("applicable", raw.get("applicable", [LYNC_PRODUCT])):
            continue
        params[pname] = _parameter(pname, praw)
    declared = []
    for p in params.values():
        for s in p.parameter_sets:
            if s != ALL_SETS and s not in declared:
                declared.append(s)
    # The help lists the default set first; keep that order where the names agree.
    syntax_names = [s.get("name") for s in raw.get("syntax", [])]
    ordered = [s for s in syntax_names if s in declared] + [s for s in declared if s not in syntax_names]
    return CmdletInfo(
        name=name,
        module=module,
        cmdlet_class=cmdlet_class,
        parameters=params,
        sets=tuple(ordered) or (DEFAULT_SET,),
        syntax=tuple(s.get("syntax", "") for s in raw.get("syntax", [])),
        synopsis=raw.get("synopsis", ""),
        implemented_by=raw.get("implemented_by", "engine"),
        unsupported_parameters=tuple(n for n, p in raw.get("parameters", {}).items()
                                     if n in params and str(p.get("lab", "")).startswith("not supported")),
    )


class Catalog:
    """Case-insensitive lookup of every cmdlet the lab knows."""

    def __init__(self, cmdlets: list[CmdletInfo]) -> None:
        self._by_lower = {c.name.lower(): c for c in cmdlets}
        self._aliases: dict[str, str] = {}
        self._not_implemented: dict[str, tuple[str, str]] = {}   # lower name or alias -> (cmdlet, module)

    def add_alias(self, alias: str, cmdlet: str) -> None:
        self._aliases[alias.lower()] = cmdlet

    def add_not_implemented(self, name: str, module: str, alias: str | None = None) -> None:
        self._not_implemented[(alias or name).lower()] = (name, module)

    def not_implemented(self, name: str) -> tuple[str, str] | None:
        """(cmdlet, module) when `name` is a Windows PowerShell 3.0 cmdlet (or alias) the lab does not implement:
        it exists on every Windows Server 2012, so it is not "not recognized" there."""
        return self._not_implemented.get(name.lower())

    def get(self, name: str) -> CmdletInfo | None:
        key = name.lower()
        key = self._aliases.get(key, key).lower()
        return self._by_lower.get(key)

    def names(self) -> list[str]:
        return sorted(c.name for c in self._by_lower.values())

    def lync_cmdlets(self) -> list[CmdletInfo]:
        return [c for c in self._by_lower.values() if c.module == "Lync"]

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    lync = json.loads((DATA_DIR / "lync2013-cmdlets.json").read_text(encoding="utf-8"))["cmdlets"]
    windows = json.loads((DATA_DIR / "windows-cmdlets.json").read_text(encoding="utf-8"))
    cmdlets = [
        _cmdlet(name, raw, "Lync", _lync_class(name), lync=True)
        for name, raw in lync.items()
        if LYNC_PRODUCT in raw.get("applicable", [])
    ]
    cmdlets += [
        _cmdlet(name, raw, raw["module"], raw["class"], lync=False) for name, raw in windows["cmdlets"].items()
    ]
    catalog = Catalog(cmdlets)
    for alias, target in windows.get("aliases", {}).items():
        catalog.add_alias(alias, target)
    for module, names in windows.get("not_implemented", {}).get("modules", {}).items():
        for name in names:
            catalog.add_not_implemented(name, module)
    modules = {n.lower(): m for m, names in windows.get("not_implemented", {}).get("modules", {}).items() for n in names}
    for alias, target in windows.get("not_implemented_aliases", {}).get("aliases", {}).items():
        catalog.add_not_implemented(target, modules.get(target.lower(), ""), alias=alias)
    return catalog
