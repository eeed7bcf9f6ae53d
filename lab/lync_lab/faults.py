"""Seeded, per-kind fault injection for reliability rehearsals (``--faults``).

A spec such as ``http500=0.05,reset=0.05,slow=0.05,quota=0.05,cmdlet=0.05,seed=7`` gives each kind of fault
a probability per opportunity. Each kind draws from its own random stream derived from the seed, so the
sequence of decisions for one kind does not depend on how often other kinds were rolled: a run with the same
seed and the same sequence of requests sees the same faults.

Who rolls what:
  http500  the WinRM listener, before it handles a SOAP request (answers HTTP 500, nothing runs)
  reset    the WinRM listener, before it handles a SOAP request (closes the connection, nothing runs)
           Both apply to every action (Create, Command, Send, Receive, Signal, Delete, Enumerate, Pull), so a
           faulted request changed nothing: no shell made or deleted, no output taken. A client must still
           authenticate its next connection again after a reset (NTLM, Kerberos, CredSSP bind to it).
  slow     the WinRM listener, on Receive (answers the operation-timeout fault late; no output is lost)
  quota    the WinRM listener, on shell Create (the MaxShellsPerUser quota fault)
  cmdlet   the engine, per cmdlet call (a transient PSError)
"""

from __future__ import annotations

import random
import threading

from .errors import LabConfigError

KINDS = ("http500", "reset", "slow", "quota", "cmdlet")


class FaultPlan:
    """Probabilities per fault kind plus the seeded random streams that decide each roll."""

    def __init__(self, rates: dict[str, float] | None = None, seed: int = 0) -> None:
        self.rates: dict[str, float] = dict(rates or {})
        self.seed = seed
        self._lock = threading.Lock()
        # One stream per kind (string seeds hash deterministically in random.Random).
        self._streams = {kind: random.Random(f"{seed}:{kind}") for kind in KINDS}
        self.counts: dict[str, int] = {kind: 0 for kind in KINDS}

    @classmethod
    def parse(cls, spec: str | None) -> "FaultPlan":
        """Parse ``kind=rate,...,seed=N``; None or "" gives a plan that never fires."""
        rates: dict[str, float] = {}
        seed = 0
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item:
                continue
            name, sep, value = item.partition("=")
            name = name.strip().lower()
            if not sep:
                raise LabConfigError(f"--faults: '{item}' is not name=value (e.g. reset=0.05)")
            if name == "seed":
                try:
                    seed = int(value)
                except ValueError:
                    raise LabConfigError(f"--faults: seed must be an integer, got '{value}'") from None
                continue
            if name not in KINDS:
                raise LabConfigError(f"--faults: unknown fault kind '{name}'; known kinds: {', '.join(KINDS)}, seed")
            try:
                rate = float(value)
            except ValueError:
                raise LabConfigError(f"--faults: rate for '{name}' must be a number, got '{value}'") from None
            if not 0.0 <= rate <= 1.0:
                raise LabConfigError(f"--faults: rate for '{name}' must be between 0 and 1, got {rate}")
            rates[name] = rate
        return cls(rates, seed)

    @property
    def enabled(self) -> bool:
        return any(rate > 0 for rate in self.rates.values())

    def roll(self, kind: str) -> bool:
        """True when a fault of this kind should happen now (thread-safe, reproducible from the seed)."""
        if kind not in self._streams:
            raise ValueError(f"unknown fault kind {kind!r}")
        rate = self.rates.get(kind, 0.0)
        if rate <= 0.0:
            return False
        with self._lock:
            hit = self._streams[kind].random() < rate
            if hit:
                self.counts[kind] += 1
        return hit

    def __repr__(self) -> str:
        inner = ",".join(f"{k}={v}" for k, v in sorted(self.rates.items()))
        return f"FaultPlan({inner},seed={self.seed})"
