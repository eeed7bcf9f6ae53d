"""Admin scripts as typed in `powershell -Command` or -EncodedCommand: statements, pipelines, a small
expression language (comparisons, -and/-or/-not, member access, variables), and the host cmdlets
(Where-Object, Select-Object, Sort-Object, Measure-Object, ConvertTo-Json, Format-*, Get-Help ...).

Works on the tree-sitter parse tree. Anything outside the supported subset is refused with a clear
"... is not supported by the lync.migration lab." error, never guessed at.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field

import tree_sitter

from .. import engine
from ..errors import PSError, not_supported
from .binder import Arg, BoundCall, ParameterBindingError, bind, redact
from .catalog import CmdletInfo
from .clixml import ClixmlErrorStream, SourcePosition
from . import out_file  # noqa: F401 - registers Out-File's file write with the engine
from .formatting import FormattedText, format_default, format_list, format_table, to_json
from .syntax import ParsedScript
from .values import (EnumValue, Hashtable, PSObject, ScriptBlock, XElementValue, get_property, has_property,
                     to_ps_string)


@dataclass(frozen=True)
class LiveScriptBlock(ScriptBlock):
    """A script block that still knows its parse node, so Where-Object and calculated properties can run it."""

    node: object = field(default=None, compare=False, repr=False)


class ScriptTerminated(Exception):
    """An error with -ErrorAction Stop: the whole script stops (after the error is written)."""


class StatementError(Exception):
    """A statement-terminating error: written, then the script goes on with the next statement."""

    def __init__(self, error: PSError, activity: str | None, position: SourcePosition | None) -> None:
        super().__init__(error.message)
        self.error, self.activity, self.position = error, activity, position


# Statement terminating binding errors: the same for every pipeline object, so PowerShell stops at once.
_TERMINATING_BINDING = ("NamedParameterNotFound", "AmbiguousParameter", "ParameterAlreadyBound", "MissingArgument",
                        "PositionalParameterNotFound", "CannotConvertArgument", "ParameterArgumentTransformation",
                        "AmbiguousParameterSet")
_WRAPPERS = {"pipeline", "logical_expression", "bitwise_expression", "comparison_expression", "additive_expression",
             "multiplicative_expression", "format_expression", "range_expression", "array_literal_expression",
             "unary_expression", "string_literal", "integer_literal", "statement_list", "script_block_body",
             "pipeline_chain", "left_assignment_expression", "expression_with_unary_operator"}


class ScriptRunner:
    def __init__(self, host, ctx, out, errors: ClixmlErrorStream) -> None:
        self.host = host
        self.ctx = ctx
        self.out = out
        self.errors = errors
        self.variables = host.state.variables
        self.parsed: ParsedScript | None = None
        self.failed = False
        self._input_given = False      # whether the host cmdlet being run got input (pipeline or -InputObject)
        self._common: dict = {}        # the common parameters of the command being run

    # -- statements ---------------------------------------------------------------------------------
    def run(self, parsed: ParsedScript) -> bool:
        """Run every statement; False when the last statement reported an error or the script stopped."""
        self.parsed = parsed
        ok = True
        for stmt in self._statements(parsed.root):
            self.failed = False
            try:
                outputs = self.statement(stmt)
                if outputs:
                    self.out.stdout(format_default(outputs))
            except StatementError as exc:
                self.errors.write_error(exc.error, exc.activity, exc.position)
                self.failed = True
            except ScriptTerminated:
                return False
            except PSError as error:
                self.errors.write_error(error, None, self._pos(stmt))
                self.failed = True
            ok = not self.failed
        return ok

    def _statements(self, node):
        for child in node.named_children:
            if child.type in ("comment", "empty_statement"):
                continue
            if child.type in ("statement_list", "program"):
                yield from self._statements(child)
            else:
                yield child

    def statement(self, node) -> list:
        if node.type == "pipeline":
            inner = [c for c in node.named_children if c.type != "comment"]
            if len(inner) == 1:
                return self.statement(inner[0])
        if node.type == "assignment_expression":
            return self.assign(node)
        if node.type == "pipeline_chain":
            return self.pipeline(node)
        if node.type == "command":
            return self.pipeline_elements([node])
        if node.type == "foreach_statement":
            return self.foreach(node)
        if node.type.endswith("_statement") or node.type in ("function_statement", "class_statement"):
            raise not_supported(f"The '{self.text(node).split()[0]}' statement")
        return _as_items(self.eval(node))

    def assign(self, node) -> list:
        target = node.child_by_field_name("left") or node.named_children[0]
        operator = next((c for c in node.children if c.type == "assignement_operator"), None)
        if operator is None or self.text(operator).strip() != "=":
            raise not_supported(f"The assignment operator '{self.text(operator) if operator else '?'}'")
        name = self.text(target).strip()
        names = [n.strip() for n in name.split(",")]
        if not all(re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", n) for n in names):
            raise not_supported(f"Assigning to '{name}'")
        value_node = node.child_by_field_name("value") or node.named_children[-1]
        items = self.statement(value_node)
        # `$a, $b = <items>`: one item to each variable in turn, the rest (as an array if several) to the last.
        for i, n in enumerate(names):
            share = items[i:i + 1] if i < len(names) - 1 else items[i:]
            self.variables[n[1:].lower()] = _single(share)
        return []

    def foreach(self, node) -> list:
        """`foreach ($item in <expression>) { ... }`: the block runs once per item with $item set."""
        named = [c for c in node.named_children if c.type != "comment"]
        variable = next(c for c in named if c.type == "variable")
        block = next(c for c in named if c.type == "statement_block")
        collection = next(c for c in named if c is not variable and c is not block)
        name = self.text(variable)[1:].lower()
        out: list = []
        body = next((c for c in block.named_children if c.type == "statement_list"), None)
        for item in _as_items(self.eval(collection)):
            self.variables[name] = item
            for stmt in (self._statements(body) if body is not None else []):
                out.extend(self.statement(stmt))
        return out

    def pipeline(self, node) -> list:
        elements = [c for c in node.named_children if c.type not in ("comment", "redirections")]
        # `(expression) > file`: the grammar hangs an expression's redirections on the pipeline.
        redirections = [r for c in node.named_children if c.type == "redirections" for r in self.redirections(c)]
        results = self.pipeline_elements(elements)
        return self._redirect(redirections, results, self._pos(node)) if redirections else results

    def pipeline_elements(self, elements) -> list:
        items: list | None = None
        for index, element in enumerate(elements):
            if element.type != "command":
                if index > 0:
                    raise not_supported("An expression after '|'")
                items = _as_items(self.eval(element))
                continue
            items = self.command(element, items if index > 0 else None)
        return items or []

    # -- commands -----------------------------------------------------------------------------------
    def command(self, node, piped: list | None) -> list:
        name_node = node.child_by_field_name("command_name")
        if name_node is None:
            raise not_supported(f"The command invocation '{self.text(node)}'")
        name = self.text(name_node)
        position = self._pos(node)
        range_match = re.fullmatch(r"(-?\d+)\.\.(-?\d+)", name)
        elements = node.child_by_field_name("command_elements")
        if range_match and (elements is None or not self.text(elements).strip()):
            # The grammar reads a statement that starts with `1..3` as a command; PowerShell, as a range.
            return _range(int(range_match.group(1)), int(range_match.group(2)))
        redirections = self.redirections(node)
        try:
            info = self.host.resolve(self.ctx, name)
        except PSError as error:
            raise StatementError(error, name, self._pos(name_node)) from None
        args = self.arguments(node)
        self._common = {}
        if info.implemented_by == "host":
            results = self._host_cmdlet(info, args, piped, position)
        else:
            results = self._engine_cmdlet(node, info, args, piped, position)
        if self._common.get("OutVariable"):
            # -OutVariable name: the command's output is also stored in $name ("+name" appends), as a list.
            target = str(self._common["OutVariable"])
            key = target.lstrip("+").lower()
            before = _as_list_value(self.variables.get(key)) if target.startswith("+") and key in self.variables else []
            self.variables[key] = before + list(results)
        return self._redirect(redirections, results, position)

    def _refuse_unsupported(self, bound: BoundCall, position) -> None:
        self._common = bound.common
        for common in ("ErrorVariable", "WarningVariable"):
            # They would hold ErrorRecord / WarningRecord objects, which the lab does not model.
            if common in bound.common:
                raise StatementError(not_supported(f"The common parameter -{common}"), bound.cmdlet.name, position)
        for pname in bound.cmdlet.unsupported_parameters:
            if pname in bound.params:
                raise StatementError(not_supported(f"The parameter -{pname} of {bound.cmdlet.name}"),
                                     bound.cmdlet.name, position)

    def _engine_cmdlet(self, node, info: CmdletInfo, args: list[Arg], piped: list | None, position) -> list:
        results: list = []
        inputs = [(None, False)] if piped is None else [(item, True) for item in piped]
        for item, has_item in inputs:
            try:
                bound = bind(info, args, item, has_item)
            except PSError as error:
                engine.record_rejected(self.ctx, info.name, self._audit_args(args), error)
                if not has_item or any(error.fqid.startswith(t) for t in _TERMINATING_BINDING):
                    raise StatementError(error, info.name, self._binding_pos(node, error) or position) from None
                self._non_terminating(error, info.name, position, {})
                continue
            self._refuse_unsupported(bound, position)
            try:
                results.extend(self.host.invoke_bound(self.ctx, bound))
            except PSError as error:
                self._non_terminating(error, info.name, position, bound.common)
        return results

    def _audit_args(self, args: list[Arg]) -> dict:
        shown: dict = {}
        for i, a in enumerate(args):
            shown[f"-{a.name}" if a.is_parameter else f"arg{i}"] = a.value if a.has_colon_value or not a.is_parameter else True
        return redact(shown)

    def _non_terminating(self, error: PSError, activity: str, position, common: dict) -> None:
        action = common.get("ErrorAction", self.variables.get("erroractionpreference", "Continue"))
        self.failed = True
        if str(action).lower() in ("silentlycontinue", "ignore"):
            return
        self.errors.write_error(error, activity, position)
        if str(action).lower() == "stop":
            raise ScriptTerminated()

    def _binding_pos(self, node, error: PSError) -> SourcePosition | None:
        offending = getattr(error, "offending", None)
        if not offending:
            return None
        start = self.text(node).lower().find(offending.lower())
        if start < 0:
            return None
        pos = self._pos(node)
        return SourcePosition(pos.line_number, pos.line_text, pos.start_column + start,
                              pos.start_column + start + len(offending))

    def redirections(self, node) -> list[tuple[str, object]]:
        """The `> file` / `>> file` redirections of a command's output (or of an expression's, `node` being the
        pipeline's `redirections`), as (operator, target). Only the output
        stream (1) is modelled; `2>`, `2>&1`, `*>` and the other streams are refused."""
        elements = node.child_by_field_name("command_elements") if node.type == "command" else node
        found = []
        for child in (elements.children if elements is not None else []):
            if child.type != "redirection":
                continue
            operator_node = next((c for c in child.children if c.type.endswith("redirection_operator")), None)
            operator = self.text(operator_node).strip() if operator_node is not None else ""
            if operator not in (">", ">>", "1>", "1>>"):
                raise not_supported(f"The redirection '{operator or self.text(child)}'")
            target_node = next((c for c in child.children if c.type == "redirected_file_name"), None)
            target_parts = [c for c in (target_node.named_children if target_node else [])
                            if c.type != "command_argument_sep"]
            if not target_parts:
                raise not_supported(f"The redirection '{self.text(child)}'")
            part = target_parts[0]
            target = _bare_word(self.text(part)) if part.type == "generic_token" else self.eval(part)
            found.append((operator.lstrip("1"), target))
        return found

    def _redirect(self, redirections: list, results: list, position) -> list:
        """`cmd > file` is `cmd | Out-File file`, `>>` is `Out-File -Append` (about_Redirection); `> $null`
        discards the output."""
        for operator, target in redirections:
            if target is not None:
                self._out_file(to_ps_string(target), results, operator == ">>", {"FilePath": to_ps_string(target)},
                               position)
            results = []
        return results

    def _out_file(self, path: str, items: list, append: bool, audit: dict, position, no_clobber: bool = False,
                  what_if: bool = False) -> list:
        params = {"FilePath": path, "Text": format_default(items), "Append": append, "NoClobber": no_clobber,
                  "WhatIf": what_if}
        try:
            return engine.invoke(self.ctx, "Out-File", params, redact(audit))
        except PSError as error:
            raise StatementError(error, "Out-File", position) from None

    def arguments(self, node) -> list[Arg]:
        elements = node.child_by_field_name("command_elements")
        args: list[Arg] = []
        if elements is None:
            return args
        colon_pending = False
        for child in elements.children:
            kind = child.type
            if kind == "command_argument_sep":
                if ":" in self.text(child):
                    colon_pending = True
                continue
            if kind == "comment":
                continue
            if kind == "command_parameter":
                text = self.text(child)
                if text.endswith(":"):
                    args.append(Arg(name=text[1:-1], text=text))
                    colon_pending = True
                else:
                    args.append(Arg(name=text[1:], text=text))
                continue
            if kind in ("redirection", "file_redirection_operator", "merging_redirection_operator"):
                continue   # see redirections()
            text = self.text(child)
            inner = child
            while inner.type in ("array_literal_expression", "unary_expression") and len(inner.named_children) == 1:
                inner = inner.named_children[0]
            if inner.type == "variable" and text.startswith("@"):
                splat = self.variables.get(text[1:].lower())
                if not isinstance(splat, dict):
                    raise not_supported(f"Splatting '{text}' (not a hashtable)")
                args.extend(Arg(value=v, name=str(k), has_colon_value=True, text=f"-{k}") for k, v in splat.items())
                continue
            continued = self._continuation(child, text) if text.startswith(",") and args else _NOTHING
            if continued is not _NOTHING:
                value = continued
                previous = args[-1]
                if previous.is_parameter and previous.has_colon_value:
                    previous.value = _as_list_value(previous.value) + [value]
                elif not previous.is_parameter:
                    previous.value = _as_list_value(previous.value) + [value]
                else:
                    raise not_supported(f"The argument '{text}'")
                continue
            value = _bare_word(text) if kind == "generic_token" else self.eval(child)
            if colon_pending and args and args[-1].is_parameter and not args[-1].has_colon_value:
                args[-1].value = value
                args[-1].has_colon_value = True
            else:
                args.append(Arg(value=value, text=text))
            colon_pending = False
        return args

    def _continuation(self, child, text: str):
        """The value after a comma that continues the previous argument's array (`A ,B`, `A ,"b"`, `A ,$x`,
        `A,<newline>@{...}`), or _NOTHING when `child` is not such a continuation."""
        if child.type == "generic_token":
            rest = text[1:]
            if re.fullmatch(r"[^\s$@('\"{]*", rest):
                return _bare_word(rest)
            return self._subexpression(rest)
        node = child
        while node.type in ("array_literal_expression", "unary_expression") and len(node.named_children) == 1:
            node = node.named_children[0]
        if node.type == "expression_with_unary_operator" and self.text(node.children[0]).strip() == ",":
            return self.eval(node.children[-1])
        return _NOTHING

    # -- expressions --------------------------------------------------------------------------------
    def text(self, node) -> str:
        return self.parsed.node_text(node)

    def _pos(self, node) -> SourcePosition:
        return self.parsed.position(node)

    def eval(self, node):
        kind = node.type
        named = [c for c in node.named_children if c.type != "comment"]
        if kind == "expandable_string_literal":
            return self.expand(self.text(node))
        if kind in ("verbatim_string_characters", "verbatim_string_literal", "verbatim_here_string_characters"):
            return _verbatim(self.text(node))
        if kind in ("decimal_integer_literal", "hexadecimal_integer_literal", "real_literal"):
            return _number(self.text(node))
        if kind == "variable":
            return self.variable(self.text(node))
        if kind == "generic_token":
            return _bare_word(self.text(node))
        if kind == "array_literal_expression" and len(named) > 1:
            return [self.eval(c) for c in named]
        if kind == "script_block_expression":
            raw = self.text(node)
            return LiveScriptBlock(raw[1:-1], node=node)
        if kind == "hash_literal_expression":
            return self.hashtable(node)
        if kind == "member_access":
            target = self.eval(named[0])
            member = self.text(named[-1])
            return get_property(target, member)
        if kind == "element_access":
            target = self.eval(named[0])
            index = self.eval(named[1])
            seq = target if isinstance(target, list) else [target]
            if isinstance(target, dict):
                return get_property(target, to_ps_string(index))
            try:
                return seq[int(index)]
            except (IndexError, ValueError, TypeError):
                return None
        if kind in ("parenthesized_expression", "sub_expression", "array_expression"):
            inner = [c for c in named if c.type not in ("(", ")")]
            items: list = []
            for stmt in inner:
                for s in ([stmt] if stmt.type != "statement_list" else self._statements(stmt)):
                    items.extend(self.statement(s))
            if kind == "array_expression":
                return items
            return None if not items else items[0] if len(items) == 1 else items
        if kind == "comparison_expression" and len(named) == 3:
            return compare(self.eval(named[0]), self.text(named[1]).strip(), self.eval(named[2]))
        if kind == "logical_expression" and len(node.children) == 3:
            operator = self.text(node.children[1]).strip().lower()
            left = is_true(self.eval(node.children[0]))
            if operator == "-and":
                return left and is_true(self.eval(node.children[2]))
            if operator == "-or":
                return left or is_true(self.eval(node.children[2]))
            if operator == "-xor":
                return left != is_true(self.eval(node.children[2]))
        if kind == "expression_with_unary_operator" and len(node.children) == 2:
            operator = self.text(node.children[0]).strip().lower()
            operand = self.eval(node.children[1])
            if operator in ("-not", "!"):
                return not is_true(operand)
            if operator == "-" and isinstance(operand, (int, float)) and not isinstance(operand, bool):
                return -operand
            if operator == "+" and isinstance(operand, (int, float)):
                return operand
        if kind == "additive_expression" and len(node.children) == 3:
            left, right = self.eval(node.children[0]), self.eval(node.children[2])
            operator = self.text(node.children[1]).strip()
            if isinstance(left, str) and operator == "+":
                return left + to_ps_string(right)
            if isinstance(left, (int, float)) and isinstance(right, (int, float)):
                return left + right if operator == "+" else left - right
            if isinstance(left, list) and operator == "+":
                return left + _as_list_value(right)
        if kind == "multiplicative_expression" and len(node.children) == 3:
            left, right = self.eval(node.children[0]), self.eval(node.children[2])
            operator = self.text(node.children[1]).strip()
            numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
            if numbers and operator == "*":
                return left * right
            if numbers and operator in ("/", "%") and right == 0:
                raise PSError("Attempted to divide by zero.", "RuntimeException", category="NotSpecified",
                              exception="System.Management.Automation.RuntimeException")
            if numbers and operator == "/":
                # An integer result stays an integer; otherwise a Double (PowerShell's division).
                return left // right if isinstance(left, int) and isinstance(right, int) and left % right == 0 \
                    else left / right
            if numbers and operator == "%":
                # .NET's remainder takes the sign of the dividend (Python's % the divisor's).
                remainder = abs(left) % abs(right)
                return -remainder if left < 0 else remainder
        if kind == "invokation_expression" and len(named) == 3 and self.text(named[1]).lower() == "tostring" \
                and self.text(named[2]).replace(" ", "") == "()":
            target = self.eval(named[0])
            # .ToString() of a string, number, Boolean, enumeration (its name) or XElement (its XML text); an
            # object's ToString is its .NET type's, which the lab does not model.
            if isinstance(target, (str, int, float, bool, EnumValue, XElementValue)):
                return to_ps_string(target)
        if kind == "range_expression" and len(node.children) == 3:
            low, high = self.eval(node.children[0]), self.eval(node.children[2])
            try:
                return _range(int(low), int(high))
            except (TypeError, ValueError):
                raise not_supported(f"The range '{self.text(node)}'") from None
        if kind == "command":
            return _single(self.pipeline_elements([node]))
        if kind == "pipeline_chain":
            return _single(self.pipeline(node))
        if len(named) == 1 and (kind in _WRAPPERS or len(node.children) == 1):
            return self.eval(named[0])
        raise not_supported(f"The expression '{self.text(node)}'")

    def variable(self, text: str):
        name = text[1:].strip("{}").lower()
        if name == "true":
            return True
        if name == "false":
            return False
        if name == "null":
            return None
        if name.startswith("env:"):
            key = name[4:]
            if key == "computername":
                return self.ctx.server.computer_name
            if key == "userdomain":
                return self.ctx.session.user.split("\\")[0]
            if key == "username":
                return self.ctx.session.user.split("\\")[-1]
            raise not_supported(f"The environment variable '{text}'")
        if ":" in name:
            raise not_supported(f"The variable '{text}'")
        return self.variables.get(name)

    def expand(self, raw: str) -> str:
        """A double-quoted string: backtick escapes, "" as a quote, $var and ${var} expanded; $(...) refused."""
        body = raw[1:-1] if len(raw) >= 2 and raw[0] in "\"“”" else raw
        out: list[str] = []
        i = 0
        escapes = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
        while i < len(body):
            ch = body[i]
            if ch == "`" and i + 1 < len(body):
                out.append(escapes.get(body[i + 1], body[i + 1]))
                i += 2
                continue
            if ch == '"' and i + 1 < len(body) and body[i + 1] == '"':
                out.append('"')
                i += 2
                continue
            if ch == "$" and i + 1 < len(body):
                if body[i + 1] == "(":
                    end = _closing_paren(body, i + 1)
                    if end is None:
                        raise not_supported("A $(...) subexpression inside a string")
                    out.append(to_ps_string(self._subexpression(body[i + 2:end])))
                    i = end + 1
                    continue
                m = re.match(r"\$(\{[^}]+\}|[A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_][A-Za-z0-9_]*)?)", body[i:])
                if m:
                    out.append(to_ps_string(self.variable(m.group(0))))
                    i += len(m.group(0))
                    continue
            out.append(ch)
            i += 1
        return "".join(out)

    def _subexpression(self, text: str):
        """`$( ... )` inside a double-quoted string: the statements run and their output is the value (an
        array is then joined with spaces, as $OFS is by default)."""
        from .syntax import parse_script

        inner = parse_script(text)
        saved, self.parsed = self.parsed, inner
        try:
            items: list = []
            for stmt in self._statements(inner.root):
                items.extend(self.statement(stmt))
        finally:
            self.parsed = saved
        return _single(items)

    def hashtable(self, node) -> Hashtable:
        table = Hashtable()
        body = next((c for c in node.named_children if c.type == "hash_literal_body"), None)
        for entry in (body.named_children if body else []):
            if entry.type != "hash_entry":
                continue
            parts = [c for c in entry.named_children if c.type != "comment"]
            key_node, value_node = parts[0], parts[-1]
            key = self.text(key_node)
            if key_node.type not in ("simple_name", "key_expression") or key[:1] in "'\"":
                key = to_ps_string(self.eval(key_node))
            value_items = self.statement(value_node) if value_node.type in ("pipeline", "pipeline_chain", "command", "assignment_expression") else _as_items(self.eval(value_node))
            table[key] = value_items[0] if len(value_items) == 1 else (value_items or None)
        return table

    def run_block(self, block: ScriptBlock, current) -> list:
        node = getattr(block, "node", None)
        if node is None:
            raise not_supported("A script block passed in a variable")
        saved = self.variables.get("_")
        self.variables["_"] = current
        try:
            items: list = []
            for stmt in self._statements(_block_body(node)):
                items.extend(self.statement(stmt))
            return items
        finally:
            self.variables["_"] = saved

    # -- host cmdlets -------------------------------------------------------------------------------
    def _host_cmdlet(self, info: CmdletInfo, args: list[Arg], piped: list | None, position) -> list:
        try:
            # Input objects bind to InputObject one by one; a representative one settles the parameter set.
            # Downstream of a pipeline that produced nothing, the parameters that take pipeline input are
            # still expected from the pipeline (PowerShell never asks for them): bind as if input is coming.
            bound = bind(info, args, piped[0] if piped else None, piped is not None)
        except PSError as error:
            raise StatementError(error, info.name, position) from None
        self._refuse_unsupported(bound, position)
        if piped is not None:
            bound.params.pop("InputObject", None)
        items = piped if piped is not None else _as_items(bound.params.get("InputObject"))
        self._input_given = piped is not None or "InputObject" in bound.params
        handler = getattr(self, "_cmd_" + info.name.replace("-", "_").lower(), None)
        if handler is None:
            raise not_supported(info.name)
        try:
            return handler(bound, items)
        except PSError as error:
            if isinstance(error, ParameterBindingError) or error.fqid == "LabNotSupported":
                raise StatementError(error, info.name, position) from None
            self._non_terminating(error, info.name, position, bound.common)
            return []

    def _cmd_where_object(self, bound: BoundCall, items: list) -> list:
        p = bound.params
        if "FilterScript" in p:
            return [item for item in items if is_true(_single(self.run_block(p["FilterScript"], item)))]
        operator = next((f"-{name.lower()}" for name in ("NE", "GT", "LT", "GE", "LE", "Like", "NotLike", "Match",
                                                           "NotMatch", "Contains", "NotContains", "In", "NotIn")
                         if p.get(name)), "-eq")
        prop = p["Property"]
        if "Value" not in p:
            return [item for item in items if is_true(get_property(item, prop))]
        return [item for item in items if is_true(compare(get_property(item, prop), operator, p["Value"]))]

    def _property_names(self, spec, items: list) -> list:
        names: list = []
        for entry in _as_list_value(spec):
            if isinstance(entry, dict):
                names.append(entry)
                continue
            text = to_ps_string(entry)
            if any(ch in text for ch in "*?["):
                for item in items:
                    if isinstance(item, dict):
                        for k in item:
                            if fnmatch.fnmatchcase(str(k).lower(), text.lower()) and k not in names:
                                names.append(k)
            else:
                names.append(text)
        return names

    def _calculated(self, spec: Hashtable, item):
        label = spec.get_ci("Name", spec.get_ci("N", spec.get_ci("Label", spec.get_ci("L"))))
        expression = spec.get_ci("Expression", spec.get_ci("E"))
        if label is None or expression is None:
            raise not_supported("A calculated property without Name and Expression")
        if isinstance(expression, ScriptBlock):
            return to_ps_string(label), _single(self.run_block(expression, item))
        return to_ps_string(label), get_property(item, to_ps_string(expression))

    def _cmd_select_object(self, bound: BoundCall, items: list) -> list:
        p = bound.params
        if "Index" in p:
            items = [items[i] for i in p["Index"] if -len(items) <= i < len(items)]
        if p.get("Skip"):
            items = items[p["Skip"]:]
        if "First" in p:
            items = items[:p["First"]]
        if "Last" in p:
            items = items[-p["Last"]:] if p["Last"] else []
        if "Property" in p:
            names = self._property_names(p["Property"], items)
            selected = []
            for item in items:
                obj = PSObject()
                for n in names:
                    if isinstance(n, dict):
                        key, value = self._calculated(Hashtable(n), item)
                        obj[key] = value
                    else:
                        real = next((k for k in item if str(k).lower() == n.lower()), n) if isinstance(item, dict) else n
                        obj[real] = get_property(item, n) if isinstance(item, dict) else None
                selected.append(obj)
            items = selected
        if "ExpandProperty" in p:
            name = p["ExpandProperty"]
            expanded = []
            for item in items:
                if not has_property(item, name):
                    raise PSError(f'Property "{name}" cannot be found.', "ExpandPropertyNotFound,"
                                  "Microsoft.PowerShell.Commands.SelectObjectCommand", "InvalidArgument",
                                  target=to_ps_string(item), exception="System.Management.Automation.PSArgumentException")
                expanded.extend(_as_items(get_property(item, name)))
            items = expanded
        if p.get("Unique"):
            seen, unique = set(), []
            for item in items:
                key = json.dumps(item, sort_keys=True, default=str)
                if key not in seen:
                    seen.add(key)
                    unique.append(item)
            items = unique
        return items

    def _cmd_sort_object(self, bound: BoundCall, items: list) -> list:
        p = bound.params
        names = [n for n in self._property_names(p.get("Property"), items) if isinstance(n, str)] if "Property" in p else []

        def key(item):
            values = [get_property(item, n) for n in names] if names else [item]
            return [_sort_key(v, p.get("CaseSensitive", False)) for v in values]

        result = sorted(items, key=key, reverse=bool(p.get("Descending")))
        if p.get("Unique"):
            seen, unique = [], []
            for item in result:
                k = key(item)
                if k not in seen:
                    seen.append(k)
                    unique.append(item)
            result = unique
        return result

    def _cmd_measure_object(self, bound: BoundCall, items: list) -> list:
        p = bound.params
        props = p.get("Property") or [None]
        results = []
        for prop in props:
            values = [get_property(i, prop) if prop else i for i in items]
            if prop:
                values = [v for v in values if v is not None]
            numbers = []
            if any(p.get(k) for k in ("Sum", "Average", "Maximum", "Minimum")):
                for v in values:
                    try:
                        numbers.append(float(v) if not isinstance(v, (int, float)) else v)
                    except (TypeError, ValueError):
                        raise PSError(f'Input object "{to_ps_string(v)}" is not numeric.', "NonNumericInputObject,"
                                      "Microsoft.PowerShell.Commands.MeasureObjectCommand", "InvalidType",
                                      target=to_ps_string(v), exception="System.Management.Automation.PSInvalidOperationException") from None
            info = PSObject()
            info["Count"] = len(values)
            info["Average"] = (sum(numbers) / len(numbers)) if p.get("Average") and numbers else None
            info["Sum"] = sum(numbers) if p.get("Sum") else None
            info["Maximum"] = max(numbers) if p.get("Maximum") and numbers else None
            info["Minimum"] = min(numbers) if p.get("Minimum") and numbers else None
            info["Property"] = prop
            results.append(info)
        return results

    def _cmd_convertto_json(self, bound: BoundCall, items: list) -> list:
        depth = bound.params.get("Depth", 2)
        if not items and "InputObject" not in bound.params:
            return []  # `@() | ConvertTo-Json` writes nothing: its process block never ran
        value = items[0] if len(items) == 1 else items
        return [to_json(value, depth, bool(bound.params.get("Compress")))]

    def _cmd_convertfrom_json(self, bound: BoundCall, items: list) -> list:
        text = "\n".join(to_ps_string(i) for i in items)
        try:
            data = json.loads(text, object_pairs_hook=lambda pairs: PSObject(pairs))
        except ValueError as exc:
            raise PSError(f"Invalid JSON primitive: {text[:40]}.", "System.ArgumentException,"
                          "Microsoft.PowerShell.Commands.ConvertFromJsonCommand", "NotSpecified",
                          exception="System.ArgumentException") from exc
        return data if isinstance(data, list) else [data]

    def _format_props(self, bound: BoundCall, items: list) -> tuple[list, list | None]:
        if "Property" not in bound.params:
            return items, None
        names = self._property_names(bound.params["Property"], items)
        rows = []
        for item in items:
            row = PSObject()
            for n in names:
                if isinstance(n, dict):
                    k, v = self._calculated(Hashtable(n), item)
                    row[k] = v
                else:
                    row[n] = get_property(item, n)
            rows.append(row)
        return rows, [n if isinstance(n, str) else self._calculated(Hashtable(n), {})[0] for n in names]

    def _cmd_format_list(self, bound: BoundCall, items: list) -> list:
        rows, names = self._format_props(bound, items)
        return [FormattedText(format_list(rows, names))] if rows else []

    def _cmd_format_table(self, bound: BoundCall, items: list) -> list:
        rows, names = self._format_props(bound, items)
        return [FormattedText(format_table(rows, names, bool(bound.params.get("HideTableHeaders"))))] if rows else []

    def _cmd_out_string(self, bound: BoundCall, items: list) -> list:
        text = format_default(items)
        if bound.params.get("Stream"):
            return [line for line in text.split("\r\n")]
        return [text]

    def _cmd_write_output(self, bound: BoundCall, items: list) -> list:
        return list(items)

    def _cmd_foreach_object(self, bound: BoundCall, items: list) -> list:
        """ForEach-Object -Process (with -Begin/-End) runs the blocks with $_ set to each input object;
        -MemberName gets that property of each. Without input, -Process runs once, as a cmdlet's process block."""
        p = bound.params
        if "MemberName" in p:
            if "ArgumentList" in p:
                raise not_supported("ForEach-Object -MemberName with -ArgumentList (a method call)")
            out = []
            for item in items:
                if not has_property(item, p["MemberName"]):
                    raise not_supported(f"ForEach-Object -MemberName '{p['MemberName']}' (not a property of the input)")
                out.extend(_as_items(get_property(item, p["MemberName"])))
            return out
        if p.get("RemainingScripts"):
            raise not_supported("ForEach-Object -RemainingScripts")
        out: list = []
        if "Begin" in p:
            out.extend(self.run_block(p["Begin"], None))
        for item in (items if self._input_given else [None]):
            for block in _as_list_value(p.get("Process") or []):
                out.extend(self.run_block(block, item))
        if "End" in p:
            out.extend(self.run_block(p["End"], None))
        return out

    def _cmd_group_object(self, bound: BoundCall, items: list) -> list:
        """Group-Object: one GroupInfo (Count, Name, Group) per distinct value of -Property (several properties:
        the values joined by ", "), in the order the values first appear, as the help's examples show;
        -NoElement leaves Group out, -AsHashTable returns a hashtable of value -> group."""
        p = bound.params
        specs = _as_list_value(p.get("Property")) if "Property" in p else []
        case_sensitive = bool(p.get("CaseSensitive"))
        groups: dict = {}
        for item in items:
            values = []
            for spec in specs:
                if isinstance(spec, ScriptBlock):
                    values.append(_single(self.run_block(spec, item)))
                elif isinstance(spec, dict):
                    values.append(self._calculated(Hashtable(spec), item)[1])
                else:
                    values.append(get_property(item, to_ps_string(spec)))
            name = ", ".join(to_ps_string(v) for v in values) if specs else to_ps_string(item)
            key = name if case_sensitive else name.lower()
            groups.setdefault(key, (name, values, []))[2].append(item)
        if p.get("AsHashTable"):
            table = Hashtable()
            for name, values, members in groups.values():
                single = values[0] if len(values) == 1 and not p.get("AsString") else name
                table[single] = members
            return [table]
        out = []
        for name, _values, members in groups.values():
            info = PSObject(Count=len(members), Name=name)
            if not p.get("NoElement"):
                info["Group"] = members
            out.append(info)
        return out

    def _cmd_out_null(self, bound: BoundCall, items: list) -> list:
        return []

    def _cmd_out_file(self, bound: BoundCall, items: list) -> list:
        p = bound.params
        path = p.get("FilePath") or p.get("LiteralPath")
        if p.get("Width") is not None:
            raise not_supported("Out-File -Width")
        return self._out_file(path, items, bool(p.get("Append")), bound.audit_params, None,
                              no_clobber=bool(p.get("NoClobber")), what_if=bool(p.get("WhatIf")))

    def _cmd_write_host(self, bound: BoundCall, items: list) -> list:
        """Write-Host writes to the host, which for powershell.exe under WinRM is its standard output, at once
        (not to the pipeline); an array's elements are joined by -Separator (default one space)."""
        p = bound.params
        separator = to_ps_string(p.get("Separator", " "))
        objects = items if items else ([p["Object"]] if "Object" in p else [""])
        for obj in objects:
            text = separator.join(to_ps_string(v) for v in obj) if isinstance(obj, (list, tuple)) else to_ps_string(obj)
            self.out.stdout(text + ("" if p.get("NoNewline") else "\r\n"))
        return []

    def _cmd_get_credential(self, bound: BoundCall, items: list) -> list:
        """Get-Credential -Credential returns that credential; any other form prompts, which powershell.exe
        -NonInteractive (every WinRM command) cannot do."""
        if "Credential" in bound.params:
            return [bound.params["Credential"]]
        raise PSError("PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
                      "System.Management.Automation.Host.HostException,"
                      "Microsoft.PowerShell.Commands.GetCredentialCommand", category="ResourceUnavailable",
                      exception="System.Management.Automation.Host.HostException")

    def _cmd_import_module(self, bound: BoundCall, items: list) -> list:
        for name in bound.params.get("Name", []):
            self.host.import_module(self.ctx, name)
        return []

    def _cmd_get_module(self, bound: BoundCall, items: list) -> list:
        names = ["Lync"] if bound.params.get("ListAvailable") and engine.server_has(self.ctx, "lync") else []
        if not bound.params.get("ListAvailable"):
            names = ["Lync"] if "lync" in self.host.state.imported else []
        wanted = bound.params.get("Name")
        return [PSObject(ModuleType="Manifest", Version="5.0.0.0", Name=n,
                         ExportedCommands=[c.name for c in self.host.catalog.lync_cmdlets()][:3] + ["..."])
                for n in names if not wanted or any(fnmatch.fnmatch(n.lower(), w.lower()) for w in wanted)]

    def _cmd_get_command(self, bound: BoundCall, items: list) -> list:
        p = bound.params
        lync = engine.server_has(self.ctx, "lync")
        found = []
        for name in self.host.catalog.names():
            info = self.host.catalog.get(name)
            if info.module == "Lync" and not lync:
                continue
            if p.get("Name") and not any(fnmatch.fnmatch(name.lower(), n.lower()) for n in p["Name"]):
                continue
            if p.get("Module") and not any(fnmatch.fnmatch(info.module.lower(), m.lower()) for m in p["Module"]):
                continue
            if p.get("Verb") and not any(fnmatch.fnmatch(name.split("-")[0].lower(), v.lower()) for v in p["Verb"]):
                continue
            if p.get("Noun") and not any(fnmatch.fnmatch(name.split("-", 1)[1].lower(), v.lower()) for v in p["Noun"]):
                continue
            found.append(info)
        if p.get("Name") and not found and not any(ch in n for n in p["Name"] for ch in "*?["):
            raise engine.not_recognized(p["Name"][0])
        if p.get("Syntax"):
            return [s for info in found for s in info.syntax]
        return [PSObject(CommandType="Cmdlet", Name=i.name, ModuleName=i.module) for i in found]

    def _cmd_get_help(self, bound: BoundCall, items: list) -> list:
        name = bound.params.get("Name") or "Get-Help"
        info = self.host.resolve(self.ctx, name)
        lines = ["", "NAME", f"    {info.name}", ""]
        if info.synopsis:
            lines += ["SYNOPSIS", f"    {info.synopsis}", ""]
        lines += ["", "SYNTAX"] + [f"    {s}" for s in info.syntax for _ in (0,)] + [""]
        if bound.params.get("Detailed") or bound.params.get("Full") or "Parameter" in bound.params:
            wanted = bound.params.get("Parameter")
            lines += ["", "PARAMETERS"]
            for p in info.parameters.values():
                if wanted and not fnmatch.fnmatch(p.name.lower(), wanted.lower()):
                    continue
                pipeline = "true (" + ", ".join(x for x, on in (("ByValue", p.by_value), ("ByPropertyName", p.by_property_name)) if on) + ")" if (p.by_value or p.by_property_name) else "false"
                lines += [f"    -{p.name} <{p.type}>",
                          f"        Required?                    {str(p.required).lower()}",
                          f"        Position?                    {'named' if p.position is None else p.position}",
                          f"        Accept pipeline input?       {pipeline}",
                          f"        Aliases                      {', '.join(p.aliases) or 'None'}", ""]
            lines += ["    <CommonParameters>",
                      "        This cmdlet supports the common parameters: Verbose, Debug,",
                      "        ErrorAction, ErrorVariable, WarningAction, WarningVariable,",
                      "        OutBuffer and OutVariable.", ""]
        lines += ["REMARKS", f'    For more information, type: "get-help {info.name} -detailed".', ""]
        return [FormattedText("\r\n".join(lines) + "\r\n")]


_NOTHING = object()


def _closing_paren(text: str, start: int) -> int | None:
    """The index of the `)` closing the `(` at `start`, skipping quoted strings; None if it is not closed."""
    depth, i, quote = 0, start, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _range(low: int, high: int) -> list[int]:
    """`a..b`: every integer from a to b, counting down when b < a."""
    return list(range(low, high + 1)) if low <= high else list(range(low, high - 1, -1))


def _block_body(node):
    block = next((c for c in node.named_children if c.type == "script_block"), None)
    if block is None:
        return node
    body = next((c for c in block.named_children if c.type == "script_block_body"), None)
    return body if body is not None else block


def _as_items(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _as_list_value(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _single(items: list):
    return None if not items else items[0] if len(items) == 1 else items


def _verbatim(text: str) -> str:
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        text = text[1:-1]
    return text.replace("''", "'")


def _number(text: str):
    t = text.lower()
    multiplier = 1
    for suffix, factor in (("kb", 1024), ("mb", 1024 ** 2), ("gb", 1024 ** 3), ("tb", 1024 ** 4)):
        if t.endswith(suffix):
            t, multiplier = t[:-2], factor
    t = t.rstrip("l")
    if t.startswith("0x"):
        return int(t, 16) * multiplier
    if re.fullmatch(r"\d+", t):
        return int(t) * multiplier
    value = float(t) * multiplier
    return value


def _bare_word(text: str):
    """A command-mode bare word: numbers become numbers, quoted pieces lose their quotes."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return _verbatim(text)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"').replace("`", "")
    if text.lower() in ("$true", "$false", "$null"):
        return {"$true": True, "$false": False, "$null": None}[text.lower()]
    return text.replace("`", "")


def is_true(value) -> bool:
    """PowerShell's truth: $null, 0, '' and empty arrays are false; a one-element array is its element."""
    if isinstance(value, (list, tuple)):
        return len(value) > 1 or (len(value) == 1 and is_true(value[0]))
    if isinstance(value, str):
        return value != ""
    return bool(value)


def _like(pattern: str) -> re.Pattern:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            end = pattern.find("]", i)
            if end > i:
                out.append("[" + re.escape(pattern[i + 1:end]).replace("\\-", "-") + "]")
                i = end
            else:
                out.append(re.escape(ch))
        elif ch == "`" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z", re.S)


def _coerce(left, right):
    """Convert the right operand to the left one's type, as PowerShell's comparison operators do."""
    if isinstance(left, bool):
        return is_true(right)
    if isinstance(left, (int, float)) and not isinstance(right, (int, float)):
        try:
            return type(left)(to_ps_string(right))
        except ValueError:
            return None
    if isinstance(left, str):
        return to_ps_string(right)
    return right


def compare(left, operator: str, right):
    op = operator.lower().lstrip("-")
    case_sensitive = op.startswith("c") and op[1:] in _OPERATORS
    if op[:1] in ("c", "i") and op[1:] in _OPERATORS:
        op = op[1:]
    if op not in _OPERATORS:
        raise not_supported(f"The operator '{operator}'")
    if op in ("contains", "notcontains"):
        hit = any(_scalar_compare(item, "eq", right, case_sensitive) for item in _as_list_value(left))
        return hit if op == "contains" else not hit
    if op in ("in", "notin"):
        hit = any(_scalar_compare(left, "eq", item, case_sensitive) for item in _as_list_value(right))
        return hit if op == "in" else not hit
    if isinstance(left, (list, tuple)):
        # A collection on the left filters: the result is the elements that match.
        return [item for item in left if _scalar_compare(item, op, right, case_sensitive)]
    return _scalar_compare(left, op, right, case_sensitive)


_OPERATORS = ("eq", "ne", "gt", "lt", "ge", "le", "like", "notlike", "match", "notmatch", "contains", "notcontains",
              "in", "notin")


def _scalar_compare(left, op: str, right, case_sensitive: bool) -> bool:
    if isinstance(left, EnumValue) and op in ("eq", "ne", "gt", "lt", "ge", "le"):
        # The right operand converts to the enumeration: a name (any case) or its number.
        if isinstance(right, EnumValue):
            right = right.value
        elif not isinstance(right, (int, float)):
            text = to_ps_string(right)
            right = left.value if text.lower() == left.name.lower() else int(text) if text.strip().isdigit() else None
            if right is None:
                return op == "ne"
        left = left.value
    if op in ("like", "notlike"):
        flags = 0 if case_sensitive else re.I
        hit = bool(re.compile(_like(to_ps_string(right)).pattern, flags | re.S).match(to_ps_string(left)))
        return hit if op == "like" else not hit
    if op in ("match", "notmatch"):
        hit = bool(re.search(to_ps_string(right), to_ps_string(left), 0 if case_sensitive else re.I))
        return hit if op == "match" else not hit
    if left is None or right is None:
        if op == "eq":
            return left is None and right is None
        if op == "ne":
            return not (left is None and right is None)
    r = _coerce(left, right)
    lkey, rkey = left, r
    if isinstance(left, str) and not case_sensitive:
        lkey, rkey = left.lower(), to_ps_string(r).lower()
    try:
        return {"eq": lambda: lkey == rkey, "ne": lambda: lkey != rkey, "gt": lambda: lkey > rkey,
                "lt": lambda: lkey < rkey, "ge": lambda: lkey >= rkey, "le": lambda: lkey <= rkey}[op]()
    except TypeError:
        return False


def _sort_key(value, case_sensitive: bool):
    if value is None:
        return (0, "")
    if isinstance(value, EnumValue):
        return (1, value.value)   # an enumeration sorts by its number
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    text = to_ps_string(value)
    return (2, text if case_sensitive else text.lower())
