"""The audit log: one JSON line per cmdlet call, durable as soon as the call returns."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

# Parameters whose values are secrets; their values never reach the log.
_SECRET_NAMES = {"credential", "password", "securepassword", "newpassword", "oldpassword", "pin"}
REDACTED = "********"


def redact(value: Any, name: str = "") -> Any:
    if name.lower() in _SECRET_NAMES:
        if isinstance(value, dict) and "username" in {k.lower() for k in value}:
            # Who acted is worth keeping; the password is not.
            user = next(v for k, v in value.items() if k.lower() == "username")
            return {"username": user, "password": REDACTED}
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class AuditLog:
    def __init__(self, path: str | Path, truncate: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._f = open(self.path, "w" if truncate else "a", encoding="utf-8")

    def record(self, time: str, user: str, server: str, cmdlet: str, params: dict, outcome: str,
               error: dict | None = None) -> None:
        line = json.dumps(
            {"time": time, "user": user, "server": server, "cmdlet": cmdlet, "params": redact(params),
             "outcome": outcome, "error": error},
            ensure_ascii=False,
        )
        with self._lock:
            self._f.write(line + "\n")
            self._f.flush()
            os.fsync(self._f.fileno())

    def read(self) -> list[dict]:
        with open(self.path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def close(self) -> None:
        with self._lock:
            self._f.close()
