"""Batch writes of a projection: rows are read once, changed in memory, written once.

A projection handles a whole batch of events inside one transaction. Its handlers read
and change rows in a `Batch` (plain dicts); at the end each changed table is written with
one COPY into a staging table and one upsert, so a task that saw ten events is written
once, and no event costs a round trip of its own.

Kinds of tables:
- ``rows``: keyed by one column; rows are loaded (in bulk by `preload`, else one by one),
  changed and upserted, or deleted.
- ``append``: only ever inserted (log-like tables).
- ``counters``: numeric columns added to by deltas, keyed by any columns; never loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from operator import itemgetter
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from .jsontext import json_text

# Up to this many rows go in one INSERT ... VALUES; more are COPYed through a staging
# table, which is emptied after use (no ON COMMIT action: that would cost every commit).
FEW = 50


_TYPES: dict[str, list[int]] = {}


def column_types(conn: psycopg.Connection, table: "Table") -> list[int]:
    """The type oids of a table's columns, in the table spec's order (asked once)."""
    found = _TYPES.get(table.name)
    if found is None:
        oids = dict(conn.execute(
            "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attnum > 0 AND NOT attisdropped", (table.name,)).fetchall())
        found = _TYPES[table.name] = [oids[c] for c in table.columns]
    return found


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    kind: str = "rows"  # rows | append | counters
    json_columns: frozenset[str] = frozenset()

    @property
    def stage(self) -> str:
        return f"stage_{self.name}"

    def values(self, row: dict[str, Any]) -> list[Any]:
        return list(self.getter(row))

    @cached_property
    def getter(self) -> Any:
        return itemgetter(*self.columns)

    @cached_property
    def json_positions(self) -> frozenset[int]:
        return frozenset(i for i, c in enumerate(self.columns) if c in self.json_columns)

    @property
    def column_list(self) -> sql.Composable:
        return sql.SQL(", ").join(map(sql.Identifier, self.columns))

    def on_conflict(self, add: bool) -> sql.Composable:
        """Replace the row, or (counters) add to its numbers."""
        others = [c for c in self.columns if c not in self.key]
        template = "{0} = {1}.{0} + EXCLUDED.{0}" if add else "{0} = EXCLUDED.{0}"
        sets = [sql.SQL(template).format(sql.Identifier(c), sql.Identifier(self.name))
                for c in others]
        return sql.SQL("ON CONFLICT ({}) DO UPDATE SET {}").format(
            sql.SQL(", ").join(map(sql.Identifier, self.key)), sql.SQL(", ").join(sets))

    # The statements, composed once per table (and row count) and kept as text: psycopg
    # renders a composed statement on every execute, and does not cache the conversion
    # of one with more than 50 parameters; a follower writing a few rows per batch paid
    # both on every batch.
    @cached_property
    def select_by_key(self) -> bytes:
        (key,) = self.key
        return _text(sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(
            self.column_list, sql.Identifier(self.name), sql.Identifier(key)))

    @cached_property
    def delete_by_key(self) -> bytes:
        (key,) = self.key
        return _text(sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
            sql.Identifier(self.name), sql.Identifier(key)))

    def copy_into(self, target: str) -> bytes:
        return _text(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(target), self.column_list))

    @cached_property
    def copy_rows(self) -> bytes:
        return self.copy_into(self.name)

    @cached_property
    def stage_statements(self) -> tuple[bytes, bytes, bytes]:
        """Create the staging table, COPY into it, empty it."""
        stage = sql.Identifier(self.stage)
        return (_text(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {})").format(
                    stage, sql.Identifier(self.name))),
                self.copy_into(self.stage),
                _text(sql.SQL("TRUNCATE {}").format(stage)))


def _text(statement: sql.Composable) -> bytes:
    return statement.as_string().encode()


# How an INSERT ... VALUES meets an existing row: not at all (append), replace it, add to it.
APPEND, REPLACE, ADD = "append", "replace", "add"


@cache
def upsert_from_stage(table: Table, add: bool) -> bytes:
    return _text(sql.SQL("INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} "
                         "{conflict}").format(
        table=sql.Identifier(table.name), columns=table.column_list,
        stage=sql.Identifier(table.stage), conflict=table.on_conflict(add)))


@cache
def insert_values(table: Table, rows: int, conflict: str) -> bytes:
    """``INSERT INTO table (columns) VALUES ($1, ...), ... [ON CONFLICT ...]`` for ``rows``
    rows, with numbered placeholders (run through a RawCursor: no conversion per execute).
    At most FEW rows per statement, so at most 3 x FEW texts per table."""
    width = len(table.columns)
    values = ", ".join("(" + ", ".join(f"${row * width + i + 1}" for i in range(width)) + ")"
                       for row in range(rows))
    tail = "" if conflict == APPEND else " " + table.on_conflict(conflict == ADD).as_string()
    head = sql.SQL("INSERT INTO {} ({}) VALUES ").format(
        sql.Identifier(table.name), table.column_list).as_string()
    return (head + values + tail).encode()


@dataclass
class TableState:
    table: Table
    conn: psycopg.Connection
    rows: dict[Any, dict | None] = field(default_factory=dict)
    dirty: set = field(default_factory=set)
    deleted: set = field(default_factory=set)
    appended: list = field(default_factory=list)
    deltas: dict[tuple, dict[str, int]] = field(default_factory=dict)

    # --- rows -----------------------------------------------------------------------
    def preload(self, keys: Iterable[Any]) -> None:
        missing = [k for k in set(keys) if k not in self.rows]
        if not missing:
            return
        (key,) = self.table.key
        with self.conn.cursor() as cur:
            for values in cur.execute(self.table.select_by_key, (missing,)):
                row = dict(zip(self.table.columns, values))
                self.rows[row[key]] = row
        for k in missing:
            self.rows.setdefault(k, None)

    def get(self, key: Any) -> dict | None:
        if key not in self.rows:
            self.preload([key])
        return self.rows[key]

    def put(self, row: dict[str, Any]) -> dict[str, Any]:
        key = row[self.table.key[0]]
        self.rows[key] = row
        self.dirty.add(key)
        self.deleted.discard(key)
        return row

    def changed(self, row: dict[str, Any]) -> None:
        self.dirty.add(row[self.table.key[0]])

    def change(self, key: Any, **columns: Any) -> dict[str, Any]:
        """The row of ``key`` with ``columns`` set, to be written; the caller may change
        it further before the batch flushes."""
        row = self.get(key)
        assert row is not None, f"no {self.table.name} row {key}"
        row.update(columns)
        self.changed(row)
        return row

    def delete(self, key: Any) -> None:
        self.rows[key] = None
        self.dirty.discard(key)
        self.deleted.add(key)

    # --- append and counters --------------------------------------------------------
    def append(self, row: dict[str, Any]) -> None:
        self.appended.append(row)

    def add(self, key: tuple, **amounts: int) -> None:
        totals = self.deltas.setdefault(key, {})
        for column, amount in amounts.items():
            totals[column] = totals.get(column, 0) + amount

    # --- writing --------------------------------------------------------------------
    def flush(self) -> None:
        if self.deleted:
            self.conn.execute(self.table.delete_by_key, (list(self.deleted),))
        if self.dirty:
            self._upsert([self.table.values(self.rows[k]) for k in self.dirty], add=False)
        if self.appended:
            self._append([self.table.values(r) for r in self.appended])
        if self.deltas:
            rows = [list(k) + [d.get(c, 0) for c in self._counter_columns]
                    for k, d in self.deltas.items()]
            self._upsert(rows, add=True)

    @property
    def _counter_columns(self) -> list[str]:
        return [c for c in self.table.columns if c not in self.table.key]

    def _copy(self, statement: bytes, rows: list[list[Any]]) -> None:
        """Binary COPY: psycopg's C dumpers and the server's binary input are several
        times faster than text for uuids, timestamps and arrays."""
        json_at = self.table.json_positions
        types = column_types(self.conn, self.table)  # not inside COPY: same connection
        with self.conn.cursor() as cur, cur.copy(statement) as copy:
            copy.set_types(types)
            if json_at:
                for row in rows:
                    for i in json_at:
                        if row[i] is not None:
                            row[i] = Jsonb(row[i], dumps=json_text)
                    copy.write_row(row)
            else:
                for row in rows:
                    copy.write_row(row)

    def _insert(self, rows: list[list[Any]], conflict: str) -> None:
        """Few rows: one INSERT ... VALUES statement, no staging."""
        json_at = self.table.json_positions
        if json_at:
            params = [Jsonb(v, dumps=json_text) if i in json_at and v is not None else v
                      for row in rows for i, v in enumerate(row)]
        else:
            params = [v for row in rows for v in row]
        with psycopg.RawCursor(self.conn) as cur:
            cur.execute(insert_values(self.table, len(rows), conflict), params)

    def _upsert(self, rows: list[list[Any]], add: bool) -> None:
        if len(rows) <= FEW:
            self._insert(rows, ADD if add else REPLACE)
            return
        create, copy, empty = self.table.stage_statements
        self.conn.execute(create)
        self._copy(copy, rows)
        self.conn.execute(upsert_from_stage(self.table, add))
        self.conn.execute(empty)

    def _append(self, rows: list[list[Any]]) -> None:
        if len(rows) <= FEW:
            self._insert(rows, APPEND)
        else:
            self._copy(self.table.copy_rows, rows)


class Batch:
    """The tables of one projection during one batch transaction."""

    def __init__(self, conn: psycopg.Connection, tables: Iterable[Table]):
        self.conn = conn
        self.tables = {t.name: TableState(t, conn) for t in tables}
        self.position = 0  # notification id of the event being handled
        self.extra: dict[str, Any] = {}  # per-batch scratch space of the handlers

    def __getitem__(self, name: str) -> TableState:
        return self.tables[name]

    def flush(self) -> None:
        for state in self.tables.values():
            state.flush()
