"""The audit log: one JSON line per cmdlet call, durable as soon as the call returns.

Crash safety: a call that changed the store has its line written into the store (table ``audit_pending``) in
the same transaction as the change (``stage``), then appended to audit.jsonl and fsynced, then removed from the
table (``confirm``). A lab killed between the commit and the append finds the line still pending when it
serves again (``recover``, on the first call after start) and appends it then, unless the file already has a
line with that ``id``: every committed change has exactly one line, and a call whose transaction rolled back
is logged only after the rollback, with its error.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from .. import request_context

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


PENDING_TABLE = "audit_pending"


def read_entries(path: str | Path) -> list[dict]:
    """The log's entries so far; a line being written right now (or cut short by a killed lab) is left out."""
    path = Path(path)
    if not path.exists():
        return []
    entries = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
    return entries


def _sql(tx):
    """The SQLite connection of an open store Transaction (the pending table lives beside the documents)."""
    return tx._conn


class AuditLog:
    def __init__(self, path: str | Path, truncate: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._f = open(self.path, "w" if truncate else "a", encoding="utf-8")
        # A truncated log starts a new history: lines pending from an earlier one belong to the old file.
        self._truncated = truncate
        self._ready: set[int] = set()

    @staticmethod
    def entry(time: str, user: str, server: str, cmdlet: str, params: dict, outcome: str,
              error: dict | None = None) -> dict:
        entry = {"time": time, "user": user, "server": server, "cmdlet": cmdlet, "params": redact(params),
                 "outcome": outcome, "error": error, "id": uuid.uuid4().hex}
        request = request_context.current()
        if request is not None:   # the WinRS command the call ran in (absent for lync-lab's own calls)
            entry["request"] = request
        return entry

    def record(self, time: str, user: str, server: str, cmdlet: str, params: dict, outcome: str,
               error: dict | None = None) -> None:
        self._append(self.entry(time, user, server, cmdlet, params, outcome, error))

    def _append(self, entry: dict) -> None:
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock:
            self._f.write(line + "\n")
            self._f.flush()
            os.fsync(self._f.fileno())

    # -- the line of a change, committed with it ------------------------------------------------------------
    def prepare(self, store) -> None:
        """Create the pending table and append what a killed lab left pending (once per store)."""
        if id(store) in self._ready:
            return
        with self._lock:
            if id(store) in self._ready:
                return
            with store.transaction() as tx:
                _sql(tx).execute(f"CREATE TABLE IF NOT EXISTS {PENDING_TABLE} (id TEXT PRIMARY KEY, line TEXT NOT NULL)")
                rows = _sql(tx).execute(f"SELECT id, line FROM {PENDING_TABLE} ORDER BY rowid").fetchall()
                if rows and not self._truncated:
                    written = {e.get("id") for e in read_entries(self.path)}
                    missing = [line for line_id, line in rows if line_id not in written]
                    if missing:
                        self._f.write("".join(line + "\n" for line in missing))
                        self._f.flush()
                        os.fsync(self._f.fileno())
                _sql(tx).execute(f"DELETE FROM {PENDING_TABLE}")
            self._ready.add(id(store))

    def stage(self, tx, entry: dict) -> None:
        """Inside the call's transaction: the line commits (or rolls back) with the change."""
        _sql(tx).execute(f"INSERT INTO {PENDING_TABLE}(id, line) VALUES (?, ?)",
                         (entry["id"], json.dumps(entry, ensure_ascii=False)))

    def confirm(self, store, entry: dict) -> None:
        """After the commit: append the line durably, then drop it from the pending table."""
        self._append(entry)
        with store.transaction() as tx:
            _sql(tx).execute(f"DELETE FROM {PENDING_TABLE} WHERE id = ?", (entry["id"],))

    def read(self) -> list[dict]:
        with open(self.path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def close(self) -> None:
        with self._lock:
            self._f.close()
