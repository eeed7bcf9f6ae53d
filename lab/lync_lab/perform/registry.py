"""The `lync-lab perform` step registry: each step module registers its steps with ``@step``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


class PerformError(Exception):
    """The step cannot be done in this state (the message says why and what comes first)."""


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[object, str | None], dict]   # run(tx, server) -> {"changed": bool, "detail": str}
    needs_server: bool                          # the step acts on one computer: --server is required
    help: str                                   # what `lync-lab perform --list` shows


# In registration order, which is the order `--list` shows them in (command.py imports the step modules).
STEPS: dict[str, Step] = {}


def step(name: str, needs_server: bool, help: str):
    """Register ``run(tx, server) -> dict`` as the step ``name``."""

    def register(run: Callable) -> Callable:
        if name in STEPS and STEPS[name].run is not run:
            raise ValueError(f"perform step {name} registered twice ({STEPS[name].run.__module__} and "
                             f"{run.__module__})")
        STEPS[name] = Step(name, run, needs_server, help)
        return run

    return register


def scenario_of(tx):
    """The scenario the lab state was seeded from (the store keeps its name or path)."""
    from ..model.scenario import load_scenario

    return load_scenario(tx.meta_get("scenario"))
