"""The cmdlet registry: each module in this package registers its implementations with ``@cmdlet``."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

REQUIRES = ("lync", "ocs", "any")


@dataclass(frozen=True)
class CmdletImpl:
    name: str
    fn: Callable
    requires: str            # "lync" | "ocs" | "any": which servers have this command at all
    needs_directory: bool    # reaches AD / the back-end SQL from the server: subject to the double-hop rule
    move: bool               # a user move: counts against the target pool's concurrent-move capacity
    # Whether this call asks for confirmation (given its bound parameters), and Microsoft's page that says so.
    # Under powershell.exe -NonInteractive (every WinRM command) the prompt fails before anything changes.
    prompts: Callable[[dict], bool] | None = None
    prompt_source: str = ""


REGISTRY: dict[str, CmdletImpl] = {}


def cmdlet(name: str, requires: str = "lync", needs_directory: bool = False, move: bool = False,
           prompts: Callable[[dict], bool] | None = None, prompt_source: str = ""):
    """Register ``fn(ctx, params, tx) -> list[dict]`` as the implementation of cmdlet ``name``.

    ``prompts(params)``: True when that call shows a confirmation prompt; ``prompt_source`` must then name the
    Microsoft page and sentence that document it."""
    if requires not in REQUIRES:
        raise ValueError(f"requires must be one of {REQUIRES}, not {requires!r}")
    if prompts is not None and not prompt_source:
        raise ValueError(f"{name}: a modelled prompt needs its source")

    def wrap(fn: Callable) -> Callable:
        key = name.lower()
        if key in REGISTRY and REGISTRY[key].fn is not fn:
            raise ValueError(f"cmdlet {name} registered twice ({REGISTRY[key].fn.__module__} and {fn.__module__})")
        REGISTRY[key] = CmdletImpl(name, fn, requires, needs_directory, move, prompts, prompt_source)
        return fn

    return wrap


def unless_confirm_false(params: dict) -> bool:
    """A prompt that only -Confirm:$false suppresses (ConfirmImpact above the default $ConfirmPreference)."""
    return params.get("Confirm") is not False


def lookup(name: str) -> CmdletImpl | None:
    return REGISTRY.get(name.lower())


_loaded = False


def load_all() -> dict[str, CmdletImpl]:
    """Import every module of this package once, so that all ``@cmdlet`` registrations have run."""
    global _loaded
    if not _loaded:
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return REGISTRY
