"""The cmd.exe command line a WinRS `Command` carries, and powershell.exe's own switches.

Switch matching follows powershell.exe (Windows PowerShell 3.0): a switch is any prefix of its name at least as
long as its shortest accepted abbreviation (-nop, -noni, -e, -ec, -ex, -ep ...), `-` or `/` introduce it, and
the first argument that is not a switch starts the command, as if -Command had been given.
"""

from __future__ import annotations

import base64
import binascii
import ntpath
from dataclasses import dataclass, field

# powershell.exe's exit code for a command line it cannot parse (0xFFFD0000 as a signed int).
BAD_COMMAND_LINE_EXIT = -196608

# (full name, shortest abbreviation), in the order powershell.exe tests them.
_SWITCHES = [
    ("help", "h"), ("?", "?"), ("noexit", "noe"), ("noprofile", "nop"), ("nologo", "nol"),
    ("noninteractive", "noni"), ("command", "c"), ("windowstyle", "w"), ("file", "f"),
    ("executionpolicy", "ex"), ("ep", "ep"), ("encodedcommand", "e"), ("ec", "e"),
    ("outputformat", "o"), ("of", "o"), ("inputformat", "i"), ("if", "if"), ("psconsolefile", "psc"),
    ("version", "v"), ("sta", "s"), ("mta", "mta"),
]
_CANONICAL = {"ep": "executionpolicy", "ec": "encodedcommand", "of": "outputformat", "if": "inputformat", "?": "help"}
_TAKES_VALUE = {"windowstyle", "file", "executionpolicy", "encodedcommand", "outputformat", "inputformat",
                "psconsolefile", "version"}


class CommandLineError(Exception):
    """powershell.exe refused its command line; the message is what it prints."""


def split_windows_args(line: str) -> list[str]:
    """Split a command line as CommandLineToArgvW / the MSVC runtime do (quotes and backslashes)."""
    args: list[str] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        current: list[str] = []
        in_quotes = False
        while i < n and (in_quotes or line[i] not in " \t"):
            if line[i] == "\\":
                j = i
                while j < n and line[j] == "\\":
                    j += 1
                count = j - i
                if j < n and line[j] == '"':
                    current.append("\\" * (count // 2))
                    if count % 2:
                        current.append('"')
                        i = j + 1
                    else:
                        i = j
                    continue
                current.append("\\" * count)
                i = j
                continue
            if line[i] == '"':
                if in_quotes and i + 1 < n and line[i + 1] == '"':
                    current.append('"')   # "" inside quotes is a literal quote
                    i += 2
                    continue
                in_quotes = not in_quotes
                i += 1
                continue
            current.append(line[i])
            i += 1
        args.append("".join(current))
    return args


def program_name(token: str) -> str:
    """`C:\\Windows\\...\\PowerShell.exe` -> `powershell`."""
    base = ntpath.basename(token.strip('"')).lower()
    return base[:-4] if base.endswith(".exe") else base


@dataclass
class PowerShellInvocation:
    switches: dict[str, str | bool] = field(default_factory=dict)
    script: str | None = None          # the command text, decoded
    script_from_stdin: bool = False    # -Command - (or no command at all with redirected stdin)
    encoded: bool = False


def _match(key: str) -> str | None:
    for full, shortest in _SWITCHES:
        if full.startswith(key) and len(key) >= len(shortest):
            return _CANONICAL.get(full, full)
    return None


def parse_powershell_args(args: list[str]) -> PowerShellInvocation:
    inv = PowerShellInvocation()
    i = 0
    while i < len(args):
        raw = args[i].strip()
        if not raw:
            i += 1
            continue
        name = _match(raw[1:].lower()) if raw[0] in "-/" and len(raw) > 1 else None
        if name is None or name == "command":
            rest = args[i + 1:] if name == "command" else args[i:]
            if rest == ["-"]:
                inv.script_from_stdin = True
            elif rest and rest[0] == "-" :
                raise CommandLineError('Cannot process the command because "-" must be the last argument of -Command.')
            else:
                inv.script = " ".join(rest)
            return inv
        if name in _TAKES_VALUE:
            if i + 1 >= len(args):
                raise CommandLineError(f"Missing {'the encoded command' if name == 'encodedcommand' else 'an argument'} "
                                       f"for the -{raw[1:]} parameter. Specify a value for the parameter.")
            value = args[i + 1]
            inv.switches[name] = value
            i += 2
            if name == "encodedcommand":
                inv.encoded = True
                try:
                    inv.script = base64.b64decode(value, validate=True).decode("utf-16-le")
                except (binascii.Error, UnicodeDecodeError, ValueError):
                    raise CommandLineError(
                        "Cannot process the command because the value specified with -EncodedCommand is not "
                        "properly encoded. The value must be Base64 encoded.") from None
            elif name == "file":
                raise CommandLineError(
                    f"The argument '{value}' to the -File parameter does not exist. Provide the path to an existing "
                    "'.ps1' file as an argument to the -File parameter.")
            elif name in ("outputformat", "inputformat") and value.lower() not in ("text", "xml"):
                raise CommandLineError(
                    f"Cannot process the command because the value specified with -{'OutputFormat' if name == 'outputformat' else 'InputFormat'} "
                    "is not valid. Valid values are 'Text' and 'XML'.")
            elif name in ("outputformat", "inputformat") and value.lower() == "xml":
                raise CommandLineError(f"-{'OutputFormat' if name == 'outputformat' else 'InputFormat'} XML is not "
                                       "supported by the lync.migration lab (only Text).")
            continue
        inv.switches[name] = True
        i += 1
    if inv.script is None:
        # No command: powershell.exe reads commands from its redirected standard input.
        inv.script_from_stdin = True
    return inv
