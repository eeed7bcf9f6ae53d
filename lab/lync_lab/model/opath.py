"""The OPATH filter subset admins pass to Get-CsUser -Filter: Prop -eq "x", -ne, -like, -notlike, -and, -or,
-not, parentheses, $true/$false/$null. Comparisons are case-insensitive, as in AD."""

from __future__ import annotations

import fnmatch
import re
from typing import Callable

from ..errors import PSError

_TOKEN = re.compile(
    r"""\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op>-(?:eq|ne|like|notlike|and|or|not)\b)|(?P<bang>!)
         |"(?P<dq>(?:[^"]|"")*)"|[\'\u2018\u2019\u201a\u201b](?P<sq>(?:[^\'\u2018\u2019\u201a\u201b]|[\'\u2018\u2019\u201a\u201b]{2})*)[\'\u2018\u2019\u201a\u201b]
         |(?P<var>\$(?:true|false|null)\b)
         |(?P<word>[A-Za-z0-9_.@:+*\\-]+))""",
    re.I | re.X,
)
# PowerShell's tokenizer takes the typographic single quotes as single quotes too (a doubled one is one literal
# quote), so a value escaped by doubling them cannot end the literal.
_DOUBLED_SINGLE_QUOTE = re.compile("[\'\u2018\u2019\u201a\u201b]([\'\u2018\u2019\u201a\u201b])")


def _error(filter_text: str, problem: str) -> PSError:
    return PSError(
        f'Cannot bind parameter \'Filter\' to the target. Exception setting "Filter": "Invalid filter syntax. '
        f'For a description of the filter parameter syntax see the command help.\r\n"{filter_text}" {problem}"',
        "ParameterBindingFailed,Microsoft.Rtc.Management.AD.Cmdlets.GetOcsUserCmdlet",
        category="InvalidArgument",
        target=filter_text,
        exception="System.Management.Automation.ParameterBindingException",
    )


def compile_filter(text: str, properties: set[str]) -> Callable[[dict], bool]:
    src = text.strip()
    if src.startswith("{") and src.endswith("}"):
        src = src[1:-1]
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(src):
        if src[pos:].strip() == "":
            break
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise _error(text, f"at position {pos + 1}.")
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "dq":
            val, kind = val.replace('""', '"'), "str"
        elif kind == "sq":
            val, kind = _DOUBLED_SINGLE_QUOTE.sub(r"\1", val), "str"
        elif kind == "bang":
            kind, val = "op", "-not"
        elif kind == "op":
            val = val.lower()
        tokens.append((kind, val))
        pos = m.end()
    props = {p.lower(): p for p in properties}
    i = 0

    def peek():
        return tokens[i] if i < len(tokens) else (None, None)

    def take():
        nonlocal i
        tok = peek()
        i += 1
        return tok

    def parse_or():
        left = parse_and()
        while peek() == ("op", "-or"):
            take()
            right = parse_and()
            left = (lambda a, b: lambda o: a(o) or b(o))(left, right)
        return left

    def parse_and():
        left = parse_not()
        while peek() == ("op", "-and"):
            take()
            right = parse_not()
            left = (lambda a, b: lambda o: a(o) and b(o))(left, right)
        return left

    def parse_not():
        if peek() == ("op", "-not"):
            take()
            inner = parse_not()
            return lambda o: not inner(o)
        return parse_atom()

    def parse_atom():
        kind, val = take()
        if kind == "lp":
            inner = parse_or()
            if take()[0] != "rp":
                raise _error(text, "is missing a closing ')'.")
            return inner
        if kind != "word":
            raise _error(text, f"expects a property name where {val!r} is.")
        prop = props.get(val.lower())
        if prop is None:
            raise _error(text, f"uses the unknown property '{val}'.")
        op_kind, op = take()
        if op_kind != "op" or op not in ("-eq", "-ne", "-like", "-notlike"):
            raise _error(text, f"expects -eq, -ne, -like or -notlike after '{val}'.")
        vkind, value = take()
        if vkind == "var":
            value = {"$true": True, "$false": False, "$null": None}[value.lower()]
        elif vkind not in ("str", "word"):
            raise _error(text, f"expects a value after '{op}'.")
        return _compare(prop, op, value)

    if not tokens:
        raise _error(text, "is empty.")
    fn = parse_or()
    if i != len(tokens):
        raise _error(text, f"has unexpected text at '{tokens[i][1]}'.")
    return fn


def _norm(v):
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return str(v).lower()


def _compare(prop: str, op: str, value) -> Callable[[dict], bool]:
    want = _norm(value)

    def eq(obj):
        have = obj.get(prop)
        if isinstance(have, list):
            return any(_norm(h) == want for h in have)
        return _norm(have) == want

    def like(obj):
        have = obj.get(prop)
        return have is not None and fnmatch.fnmatchcase(str(have).lower(), str(value).lower())

    if op == "-eq":
        return eq
    if op == "-ne":
        return lambda o: not eq(o)
    if op == "-like":
        return like
    return lambda o: not like(o)
