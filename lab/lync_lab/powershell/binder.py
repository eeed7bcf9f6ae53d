"""Parameter binding as PowerShell does it, against the catalog's metadata.

Input: the arguments of one command in the order typed (named `-Param`, `-Param:value`, or plain values) and
optionally one pipeline object. Output: canonical parameter names with converted values, or a PSError with
PowerShell's own wording (ParameterBindingException and friends).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from ..errors import PSError
from .catalog import ALL_SETS, CmdletInfo, ParameterInfo
from .values import Hashtable, PSCredential, ScriptBlock, get_property, to_ps_string

# Common parameters every cmdlet has (PowerShell 3.0), with their aliases and types.
COMMON_PARAMETERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Verbose": ("SwitchParameter", ("vb",)),
    "Debug": ("SwitchParameter", ("db",)),
    "ErrorAction": ("ActionPreference", ("ea",)),
    "WarningAction": ("ActionPreference", ("wa",)),
    "ErrorVariable": ("String", ("ev",)),
    "WarningVariable": ("String", ("wv",)),
    "OutVariable": ("String", ("ov",)),
    "OutBuffer": ("Int32", ("ob",)),
}
ACTION_PREFERENCES = ("SilentlyContinue", "Stop", "Continue", "Inquire", "Ignore")   # in enum value order
# Parameter types that are [Flags] enumerations, so an array of names binds: the page that says so.
FLAGS_ENUMS = {
    "ObjectType": "office-docs-powershell skype/skype-ps/SkypeForBusiness/Grant-CsOUPermission.md: to assign "
                  "multiple object types in the same command, separate them with commas",
}

_INT_RANGES = {
    "Byte": (0, 255), "SByte": (-128, 127), "Int16": (-(2**15), 2**15 - 1), "UInt16": (0, 2**16 - 1),
    "Int32": (-(2**31), 2**31 - 1), "UInt32": (0, 2**32 - 1), "Int64": (-(2**63), 2**63 - 1), "UInt64": (0, 2**64 - 1),
}


@dataclass
class Arg:
    """One command argument as typed: a parameter name (`-Name` or `-Name:value`) or a value."""

    value: object = None
    name: str | None = None        # set for a `-Name` token (without the dash)
    has_colon_value: bool = False  # `-Name:value`
    text: str = ""                 # the token as typed, for error positions

    @property
    def is_parameter(self) -> bool:
        return self.name is not None


@dataclass
class BoundCall:
    cmdlet: CmdletInfo
    params: dict = field(default_factory=dict)        # canonical name -> converted value (no common parameters)
    common: dict = field(default_factory=dict)        # ErrorAction etc., canonical names
    parameter_set: str = ""

    @property
    def audit_params(self) -> dict:
        return redact(self.params)


class ParameterBindingError(PSError):
    """A PSError raised by binding; `offending` is the argument text PowerShell points at, if any."""

    def __init__(self, cmdlet: CmdletInfo, message: str, error_id: str, offending: str | None = None,
                 category: str = "InvalidArgument") -> None:
        super().__init__(message, f"{error_id},{cmdlet.cmdlet_class}", category=category,
                         exception="System.Management.Automation.ParameterBindingException")
        self.offending = offending
        self.cmdlet_name = cmdlet.name


def redact(params: dict) -> dict:
    """The parameters as they may be logged: credentials show their user name and `***` for the password."""
    out = {}
    for k, v in params.items():
        if isinstance(v, PSCredential):
            out[k] = {"UserName": v.username, "Password": "***"}
        elif isinstance(v, ScriptBlock):
            out[k] = v.text
        else:
            out[k] = v
    return out


def _type_leaf(ptype: str) -> str:
    """`System.Management.Automation.PSListModifier`1[System.String]` -> `PSListModifier`; `String[]` stays."""
    base = ptype.split("`", 1)[0]
    return base.rsplit(".", 1)[-1] + ("[]" if ptype.endswith("[]") and not base.endswith("[]") else "")


def _dotnet_name(ptype: str) -> str:
    leaf = _type_leaf(ptype).removesuffix("[]")
    if leaf in _INT_RANGES or leaf in ("String", "Boolean", "Guid", "Object", "DateTime", "TimeSpan"):
        return "System." + leaf
    return ptype


def _is_array(ptype: str) -> bool:
    return (ptype.endswith("[]") or "MultiValuedProperty" in ptype or "List`1" in ptype
            or "Collection`1" in ptype)


def _convert_bool(cmdlet: CmdletInfo, pname: str, value, for_switch: bool):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if value is None and not for_switch:
        return False
    shown = "System.String" if isinstance(value, str) else type(value).__name__
    raise ParameterBindingError(
        cmdlet,
        f"Cannot process argument transformation on parameter '{pname}'. Cannot convert value \"{shown}\" to type "
        f"\"System.{'Management.Automation.SwitchParameter' if for_switch else 'Boolean'}\". Boolean parameters "
        "accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
        "ParameterArgumentTransformationError",
        offending=pname,
    )


def _cannot_convert(cmdlet: CmdletInfo, pname: str, value, ptype: str, reason: str) -> ParameterBindingError:
    return ParameterBindingError(
        cmdlet,
        f"Cannot bind parameter '{pname}'. Cannot convert value \"{to_ps_string(value)}\" to type "
        f"\"{_dotnet_name(ptype)}\". Error: \"{reason}\"",
        "CannotConvertArgumentNoMessage",
        offending=pname,
    )


def _convert_scalar(cmdlet: CmdletInfo, p: ParameterInfo, value, leaf: str):
    if leaf in _INT_RANGES or leaf == "Unlimited":
        if leaf == "Unlimited" and isinstance(value, str) and value.lower() == "unlimited":
            return "Unlimited"
        int_type = "UInt32" if leaf == "Unlimited" else leaf
        lo, hi = _INT_RANGES[int_type]
        if isinstance(value, bool):
            number = int(value)
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*0x[0-9a-fA-F]+\s*", value):
            number = int(value, 16)
        else:
            raise _cannot_convert(cmdlet, p.name, value, "System." + int_type, "Input string was not in a correct format.")
        if not lo <= number <= hi:
            raise _cannot_convert(cmdlet, p.name, value, "System." + int_type,
                                  f"Value was either too large or too small for {'an' if int_type.startswith(('I', 'U')) else 'a'} {int_type}.")
        return number
    if leaf == "Boolean":
        return _convert_bool(cmdlet, p.name, value, for_switch=False)
    if leaf == "Guid":
        text = to_ps_string(value)
        try:
            return str(uuid.UUID(text.strip("{}")))
        except ValueError:
            raise _cannot_convert(cmdlet, p.name, value, "System.Guid",
                                  "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).") from None
    if leaf == "PSCredential":
        if isinstance(value, PSCredential):
            return value
        if isinstance(value, str):
            # PowerShell turns a user name into a credential prompt, which -NonInteractive cannot show.
            raise PSError(
                "Cannot process argument transformation on parameter 'Credential'. A command that prompts the user "
                "failed because the host program or the command type does not support user interaction. Try a host "
                "program that supports user interaction, such as the Windows PowerShell Console or Windows PowerShell "
                "ISE, and remove prompt-related commands from command types that do not support user interaction, "
                "such as Windows PowerShell workflows.",
                f"ParameterArgumentTransformationError,{cmdlet.cmdlet_class}", "InvalidData",
                exception="System.Management.Automation.ParameterBindingArgumentTransformationException")
        raise _cannot_convert(cmdlet, p.name, value, "System.Management.Automation.PSCredential",
                              "Invalid cast.")
    if leaf in ("Hashtable",):
        if isinstance(value, dict):
            return Hashtable(value)
        raise _cannot_convert(cmdlet, p.name, value, "System.Collections.Hashtable", "Invalid cast.")
    if leaf in ("PSObject", "Object", "ScriptBlock"):
        return value
    if leaf == "PSListModifier" and isinstance(value, Hashtable):
        # @{Add=...; Remove=...; Replace=...}: the cmdlet applies the changes to the collection it holds.
        return value
    if leaf == "ActionPreference":
        # An enum also converts from its underlying number: `-ea 0` is SilentlyContinue (the ActionPreference
        # enum of System.Management.Automation: SilentlyContinue 0, Stop 1, Continue 2, Inquire 3, Ignore 4).
        number = value if isinstance(value, int) and not isinstance(value, bool) else \
            int(value) if isinstance(value, str) and value.strip().isdigit() else None
        if number is not None and 0 <= number < len(ACTION_PREFERENCES):
            return ACTION_PREFERENCES[number]
        text = to_ps_string(value)
        for choice in ACTION_PREFERENCES:
            if choice.lower() == text.lower():
                return choice
        raise ParameterBindingError(
            cmdlet,
            f"Cannot bind parameter '{p.name}'. Cannot convert value \"{text}\" to type "
            "\"System.Management.Automation.ActionPreference\". Error: \"Unable to match the identifier name "
            f"{text} to a valid enumerator name.  Specify one of the following enumerator names and try again: "
            "SilentlyContinue, Stop, Continue, Inquire, Ignore\"",
            "CannotConvertArgumentNoMessage", offending=p.name)
    # String, the Lync identity types (Fqdn, UserIdParameter, XdsIdentity, ...) and enumerations: their text.
    if isinstance(value, dict) and not isinstance(value, Hashtable):
        identity = get_property(value, "Identity")
        if identity is not None:
            return to_ps_string(identity)
    return to_ps_string(value)


def convert_value(cmdlet: CmdletInfo, p: ParameterInfo, value):
    """Convert an argument to the parameter's type as PowerShell's binder would."""
    leaf = _type_leaf(p.type)
    if p.is_switch:
        return _convert_bool(cmdlet, p.name, value, for_switch=True)
    if leaf in FLAGS_ENUMS and isinstance(value, (list, tuple)):
        # A [Flags] enumeration takes several names at once (`-ObjectType "user","contact"`).
        return [_convert_scalar(cmdlet, p, v, leaf) for v in value]
    if _is_array(p.type):
        items = value if isinstance(value, (list, tuple)) else [value]
        element = leaf.removesuffix("[]")
        if element in ("MultiValuedProperty", "List", "Collection"):
            element = "String"
        return [_convert_scalar(cmdlet, p, v, element) for v in items]
    if leaf == "String" and isinstance(value, (list, tuple)):
        return " ".join(to_ps_string(v) for v in value)
    if isinstance(value, (list, tuple)) and leaf not in ("PSObject", "Object", "PSListModifier"):
        if len(value) == 1:
            return _convert_scalar(cmdlet, p, value[0], leaf)
        return _cannot_convert_array(cmdlet, p, value)
    return _convert_scalar(cmdlet, p, value, leaf)


def _cannot_convert_array(cmdlet: CmdletInfo, p: ParameterInfo, value):
    raise ParameterBindingError(
        cmdlet,
        f"Cannot convert '{to_ps_string(value)}' to the type '{_dotnet_name(p.type)}' required by parameter "
        f"'{p.name}'. Specified method is not supported.",
        "CannotConvertArgument", offending=p.name)


class Binder:
    """Binds one command's arguments. `bind()` is the entry point; see the module docstring."""

    def __init__(self, cmdlet: CmdletInfo) -> None:
        self.cmdlet = cmdlet
        self._names: list[tuple[str, str]] = []   # (lowercase name or alias, canonical name)
        for p in cmdlet.parameters.values():
            self._names.append((p.name.lower(), p.name))
            for a in p.aliases:
                self._names.append((a.lower(), p.name))
        for name, (_, aliases) in COMMON_PARAMETERS.items():
            if name not in cmdlet.parameters:
                self._names.append((name.lower(), name))
                for a in aliases:
                    self._names.append((a.lower(), name))

    # -- names --------------------------------------------------------------------------------------
    def resolve_name(self, typed: str) -> str:
        key = typed.lower()
        exact = {canon for n, canon in self._names if n == key}
        if exact:
            return exact.pop()
        matches: list[str] = []
        for n, canon in self._names:
            if n.startswith(key) and canon not in matches:
                matches.append(canon)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ParameterBindingError(
                self.cmdlet, f"A parameter cannot be found that matches parameter name '{typed}'.",
                "NamedParameterNotFound", offending=f"-{typed}")
        raise ParameterBindingError(
            self.cmdlet,
            f"Parameter cannot be processed because the parameter name '{typed}' is ambiguous. "
            f"Possible matches include: {' '.join('-' + m for m in matches)}.",
            "AmbiguousParameter", offending=f"-{typed}")

    def _info(self, canon: str) -> ParameterInfo:
        if canon in self.cmdlet.parameters:
            return self.cmdlet.parameters[canon]
        ptype, aliases = COMMON_PARAMETERS[canon]
        return ParameterInfo(canon, ptype, False, None, (ALL_SETS,), aliases, False, False)

    # -- binding ------------------------------------------------------------------------------------
    def bind(self, args: list[Arg], pipeline_object=None, has_pipeline_object: bool = False) -> BoundCall:
        cmdlet = self.cmdlet
        bound: dict[str, object] = {}
        common: dict[str, object] = {}
        positional: list[Arg] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if not arg.is_parameter:
                positional.append(arg)
                continue
            canon = self.resolve_name(arg.name)
            p = self._info(canon)
            if canon in bound or canon in common:
                raise ParameterBindingError(
                    cmdlet,
                    f"Cannot bind parameter because parameter '{canon}' is specified more than once. To provide "
                    "multiple values to parameters that can accept multiple values, use the array syntax. For "
                    "example, \"-parameter value1,value2,value3\".",
                    "ParameterAlreadyBound", offending=f"-{arg.name}")
            if arg.has_colon_value:
                raw = arg.value
            elif p.is_switch:
                raw = True
            else:
                if i >= len(args) or args[i].is_parameter:
                    raise ParameterBindingError(
                        cmdlet,
                        f"Missing an argument for parameter '{canon}'. Specify a parameter of type "
                        f"'{_dotnet_name(p.type)}' and try again.",
                        "MissingArgument", offending=f"-{arg.name}")
                raw = args[i].value
                i += 1
            value = convert_value(cmdlet, p, raw)
            (common if canon in COMMON_PARAMETERS and canon not in cmdlet.parameters else bound)[canon] = value

        candidates = [s for s in cmdlet.sets if all(self._info(n).in_set(s) for n in bound)]
        if not candidates:
            raise self._set_error()

        # Positional arguments: fill the unbound positional parameters in position order.
        for arg in positional:
            slots = sorted(
                {(p.position, p.name) for p in cmdlet.parameters.values()
                 if p.position is not None and p.name not in bound and any(p.in_set(s) for s in candidates)})
            chosen = None
            for _, pname in slots:
                p = cmdlet.parameters[pname]
                narrowed = [s for s in candidates if p.in_set(s)]
                if narrowed:
                    chosen = p
                    # With several sets still open, prefer the default set's parameter at this position.
                    # A script block goes to a ScriptBlock parameter when one is open at this position.
                    same_pos = [cmdlet.parameters[n] for pos, n in slots if pos == p.position]
                    typed = [q for q in same_pos if isinstance(arg.value, ScriptBlock) and q.type == "ScriptBlock"]
                    defaults = [q for q in same_pos if q.in_set(cmdlet.default_set) and cmdlet.default_set in candidates]
                    untyped = [q for q in same_pos if q.type != "ScriptBlock"]
                    if typed:
                        chosen = typed[0]
                    elif defaults and defaults[0].type != "ScriptBlock":
                        chosen = defaults[0]
                    elif untyped:
                        chosen = untyped[0]
                    break
            if chosen is None:
                raise ParameterBindingError(
                    cmdlet, f"A positional parameter cannot be found that accepts argument '{to_ps_string(arg.value)}'.",
                    "PositionalParameterNotFound", offending=arg.text or to_ps_string(arg.value))
            bound[chosen.name] = convert_value(cmdlet, chosen, arg.value)
            candidates = [s for s in candidates if chosen.in_set(s)]

        if has_pipeline_object:
            candidates = self._bind_pipeline(bound, candidates, pipeline_object)

        chosen_set = self._choose_set(bound, candidates, has_pipeline_object)
        return BoundCall(cmdlet, bound, common, chosen_set)

    def _set_error(self) -> ParameterBindingError:
        return ParameterBindingError(
            self.cmdlet, "Parameter set cannot be resolved using the specified named parameters.",
            "AmbiguousParameterSet")

    def _bind_pipeline(self, bound: dict, candidates: list[str], obj) -> list[str]:
        cmdlet = self.cmdlet
        open_params = [p for p in cmdlet.parameters.values()
                       if p.name not in bound and any(p.in_set(s) for s in candidates)]
        is_object = isinstance(obj, dict) and not isinstance(obj, Hashtable)

        def take(p: ParameterInfo, value) -> list[str]:
            bound[p.name] = convert_value(cmdlet, p, value)
            return [s for s in candidates if p.in_set(s)]

        # 1. ByValue without coercion: an object into a PSObject/Object parameter, a string into a string one.
        for p in open_params:
            leaf = _type_leaf(p.type).removesuffix("[]")
            if p.by_value and (leaf in ("PSObject", "Object") or (isinstance(obj, str) and leaf == "String")):
                return take(p, obj)
        # 2. ByPropertyName: every open parameter whose name or alias is a property of the object.
        if is_object:
            hit = False
            for p in open_params:
                if not p.by_property_name:
                    continue
                for n in (p.name, *p.aliases):
                    value = get_property(obj, n)
                    if value is not None and any(p.in_set(s) for s in candidates):
                        candidates = take(p, value)
                        hit = True
                        break
            if hit:
                return candidates
        # 3. ByValue with coercion: an object becomes its Identity (Lync identity types) or its text.
        for p in open_params:
            if p.by_value:
                return take(p, obj)
        raise PSError(
            "The input object cannot be bound to any parameters for the command either because the command does not "
            "take pipeline input or the input and its properties do not match any of the parameters that take "
            "pipeline input.",
            f"InputObjectNotBound,{cmdlet.cmdlet_class}", "InvalidArgument", target=to_ps_string(obj),
            exception="System.Management.Automation.ParameterBindingException")

    def _choose_set(self, bound: dict, candidates: list[str], piped: bool) -> str:
        cmdlet = self.cmdlet

        def missing(s: str) -> list[str]:
            params = [p for p in cmdlet.parameters.values() if p.required and p.in_set(s) and p.name not in bound]
            params.sort(key=lambda p: (p.position is None, p.position or 0))
            return [p.name for p in params]

        complete = [s for s in candidates if not missing(s)]
        if len(complete) == 1:
            return complete[0]
        if len(complete) > 1:
            if cmdlet.default_set in complete:
                return cmdlet.default_set
            # Several sets fit and none is the default: only a set that uses more of what was given wins.
            ranked = sorted(complete, key=lambda s: -self._specific(bound, s))
            if self._specific(bound, ranked[0]) == self._specific(bound, ranked[1]):
                raise self._set_error()
            return ranked[0]
        if len(candidates) == 1 or cmdlet.default_set in candidates:
            target = candidates[0] if len(candidates) == 1 else cmdlet.default_set
            raise ParameterBindingError(
                cmdlet,
                "Cannot process command because of one or more missing mandatory parameters: "
                f"{' '.join(missing(target))}.",
                "MissingMandatoryParameter")
        raise self._set_error()

    def _specific(self, bound: dict, s: str) -> int:
        return sum(1 for n in bound if s in self.cmdlet.parameters[n].parameter_sets)


def bind(cmdlet: CmdletInfo, args: list[Arg], pipeline_object=None, has_pipeline_object: bool = False) -> BoundCall:
    return Binder(cmdlet).bind(args, pipeline_object, has_pipeline_object)


def bind_named(cmdlet: CmdletInfo, params: dict) -> BoundCall:
    """Bind a splatted hashtable (`@params`): every key is a named parameter with its value after a colon."""
    return bind(cmdlet, [Arg(value=v, name=k, has_colon_value=True) for k, v in params.items()])
