"""The lab's state: a generic document store in SQLite (WAL), one connection per thread.

Every cmdlet call runs inside one ``Transaction`` (BEGIN IMMEDIATE, so two writers never interleave and a
reader never sees half a move). Documents are JSON objects filed under (kind, key); keys are lower-cased so
lookups are case-insensitive the way AD and the CMS are.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

_SCHEMA = """
CREATE TABLE IF NOT EXISTS doc (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
                                PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""


def _norm(key: str) -> str:
    return str(key).lower()


class Transaction:
    """One open transaction on one connection. Only valid inside ``Store.transaction()``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.discarded = False

    def get(self, kind: str, key: str) -> dict | None:
        row = self._conn.execute("SELECT body FROM doc WHERE kind=? AND key=?", (kind, _norm(key))).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, key: str, doc: dict) -> None:
        self._conn.execute(
            "INSERT INTO doc(kind, key, body) VALUES (?,?,?) ON CONFLICT(kind, key) DO UPDATE SET body=excluded.body",
            (kind, _norm(key), json.dumps(doc, ensure_ascii=False)),
        )

    def put_many(self, kind: str, items: list[tuple[str, dict]]) -> None:
        """Bulk insert/replace (seeding 20,000 users one statement at a time would be slow)."""
        self._conn.executemany(
            "INSERT INTO doc(kind, key, body) VALUES (?,?,?) ON CONFLICT(kind, key) DO UPDATE SET body=excluded.body",
            [(kind, _norm(k), json.dumps(d, ensure_ascii=False)) for k, d in items],
        )

    def delete(self, kind: str, key: str) -> bool:
        cur = self._conn.execute("DELETE FROM doc WHERE kind=? AND key=?", (kind, _norm(key)))
        return cur.rowcount > 0

    def query(self, kind: str, prefix: str | None = None) -> list[tuple[str, dict]]:
        """Every (key, doc) of a kind in key order; ``prefix`` limits to keys starting with it."""
        if prefix is None:
            rows = self._conn.execute("SELECT key, body FROM doc WHERE kind=? ORDER BY key", (kind,))
        else:
            p = _norm(prefix)
            rows = self._conn.execute(
                "SELECT key, body FROM doc WHERE kind=? AND key >= ? AND key < ? ORDER BY key", (kind, p, p + "\uffff")
            )
        return [(k, json.loads(b)) for k, b in rows]

    def count(self, kind: str) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM doc WHERE kind=?", (kind,)).fetchone()[0]

    def kinds(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT kind FROM doc ORDER BY kind")]

    def meta_get(self, name: str, default: Any = None) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return json.loads(row[0]) if row else default

    def meta_put(self, name: str, value: Any) -> None:
        self._conn.execute(
            "INSERT INTO meta(name, value) VALUES (?,?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
            (name, json.dumps(value, ensure_ascii=False)),
        )

    def meta_all(self) -> dict[str, Any]:
        return {n: json.loads(v) for n, v in self._conn.execute("SELECT name, value FROM meta ORDER BY name")}

    def discard(self) -> None:
        """Roll back instead of committing when the block ends normally (-WhatIf)."""
        self.discarded = True


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        conn = self._conn()
        conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("store is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves. check_same_thread=False only so close()
            # can close every thread's connection; each connection is used by its own thread.
            conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed transaction survives the process being killed (-9); only an OS
            # crash could lose the last commits, which a rehearsal lab can afford.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
            self._local.depth = 0
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Transaction]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on exception or ``tx.discard()``). Nested calls on the same thread
        become SAVEPOINTs so an inner failure undoes only the inner work. ``write=False`` starts a deferred
        (read) transaction that does not wait for writers."""
        conn = self._conn()
        depth = self._local.depth
        tx = Transaction(conn)
        if depth == 0:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        else:
            conn.execute(f"SAVEPOINT sp{depth}")
        self._local.depth = depth + 1
        try:
            yield tx
        except BaseException:
            self._local.depth = depth
            if depth == 0:
                conn.execute("ROLLBACK")
            else:
                conn.execute(f"ROLLBACK TO sp{depth}")
                conn.execute(f"RELEASE sp{depth}")
            raise
        self._local.depth = depth
        if depth == 0:
            conn.execute("ROLLBACK" if tx.discarded else "COMMIT")
        else:
            if tx.discarded:
                conn.execute(f"ROLLBACK TO sp{depth}")
            conn.execute(f"RELEASE sp{depth}")

    def seed(self, scenario, stage: int) -> None:
        """Replace the whole state with the scenario's state just before phase ``stage``."""
        from . import stages

        with self.transaction() as tx:
            tx._conn.execute("DELETE FROM doc")
            tx._conn.execute("DELETE FROM meta")
            stages.seed(tx, scenario, stage)

    def snapshot(self, dest_path: str | Path) -> None:
        """A consistent copy of the state (SQLite online backup: safe while other threads write)."""
        dest_path = Path(dest_path)
        dest_path.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(str(dest_path))
        try:
            self._conn().backup(dst)
        finally:
            dst.close()

    @classmethod
    def restore(cls, src_path: str | Path, path: str | Path) -> "Store":
        """Overwrite the state at ``path`` with the snapshot at ``src_path``; returns the opened store."""
        src_path = Path(src_path)
        if not src_path.exists():
            raise FileNotFoundError(f"snapshot {src_path} does not exist")
        src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
        store = cls(path)
        try:
            src.backup(store._conn())
        finally:
            src.close()
        return store

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
            self._closed = True
        for c in conns:
            try:
                c.close()
            except sqlite3.Error:
                pass
