"""The emulator's state on disk: one SQLite file (stdlib ``sqlite3``), JSON documents.

Stripe keeps what it was told; a stand-in that forgets its accounts and transfers on a
restart makes every payout after it fail and leaves paid payouts pointing at nothing.
SQLite fits a stand-in: no server, one file in the data dir, atomic writes, and the
standard library has it. Documents keep their insertion order (``seq``), which is the
order Stripe lists objects in.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL,
    body  TEXT NOT NULL,
    UNIQUE (kind, id)
);
CREATE TABLE IF NOT EXISTS settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class Persistence:
    """Documents by (kind, id). Thread-safe; writes are durable when the call returns."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them or none (nested calls join the outer one)."""
        with self._lock:
            if self._depth == 0:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._conn.execute("COMMIT")

    def put(self, kind: str, doc_id: str, body: Any) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO documents (kind, id, body) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                (kind, doc_id, json.dumps(body)))

    def delete(self, kind: str, doc_id: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM documents WHERE kind = ? AND id = ?", (kind, doc_id))

    def get(self, kind: str, doc_id: str) -> Any:
        """One document, or None."""
        with self._lock:
            row = self._conn.execute("SELECT body FROM documents WHERE kind = ? AND id = ?",
                                     (kind, doc_id)).fetchone()
        return json.loads(row[0]) if row else None

    def ids(self, kind: str) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT id FROM documents WHERE kind = ? ORDER BY seq",
                                      (kind,)).fetchall()
        return [row[0] for row in rows]

    def count(self, kind: str) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM documents WHERE kind = ?",
                                      (kind,)).fetchone()[0]

    def delete_older(self, kind: str, field: str, cutoff: float) -> list[str]:
        """Delete the documents of ``kind`` whose number ``field`` is below ``cutoff``;
        their ids."""
        path = f"$.{field}"
        with self._lock:
            rows = self._conn.execute(
                "DELETE FROM documents WHERE kind = ? AND json_extract(body, ?) < ? "
                "RETURNING id", (kind, path, cutoff)).fetchall()
        return [row[0] for row in rows]

    def matching(self, kind: str, equals: dict[str, Any],
                 created: dict[str, int]) -> list[tuple[str, Any]]:
        """Like ``all``, of the documents whose fields equal ``equals`` (None: any) and
        whose ``created`` is within ``created`` (``gt``, ``gte``, ``lt``, ``lte``)."""
        where, params = ["kind = ?"], [kind]
        for name, value in equals.items():
            if value is not None:
                where.append("json_extract(body, ?) = ?")
                params += [f"$.{name}", value]
        for op, bound in created.items():
            where.append(f"json_extract(body, '$.created') {_COMPARISONS[op]} ?")
            params.append(bound)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT id, body FROM documents WHERE {' AND '.join(where)} ORDER BY seq",
                params).fetchall()
        return [(doc_id, json.loads(body)) for doc_id, body in rows]

    def all(self, kind: str) -> list[tuple[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, body FROM documents WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
        return [(doc_id, json.loads(body)) for doc_id, body in rows]

    def set_setting(self, name: str, value: Any) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO settings (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, json.dumps(value)))

    def setting(self, name: str, default: Any = None) -> Any:
        with self._lock:
            row = self._conn.execute("SELECT value FROM settings WHERE name = ?",
                                     (name,)).fetchone()
        return json.loads(row[0]) if row else default

    def clear(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM documents")
            self._conn.execute("DELETE FROM settings")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
