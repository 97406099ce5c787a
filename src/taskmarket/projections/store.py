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
from functools import cached_property
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
        query = sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(
            sql.SQL(", ").join(map(sql.Identifier, self.table.columns)),
            sql.Identifier(self.table.name), sql.Identifier(key))
        with self.conn.cursor() as cur:
            for values in cur.execute(query, (missing,)):
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
            (key,) = self.table.key
            self.conn.execute(sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
                sql.Identifier(self.table.name), sql.Identifier(key)), (list(self.deleted),))
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

    def _copy(self, target: str, rows: list[list[Any]]) -> None:
        """Binary COPY: psycopg's C dumpers and the server's binary input are several
        times faster than text for uuids, timestamps and arrays."""
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(target), self.table.column_list)
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

    def _insert(self, rows: list[list[Any]], conflict: sql.Composable) -> None:
        """Few rows: one INSERT ... VALUES statement, no staging."""
        json_at = self.table.json_positions
        params = [Jsonb(v, dumps=json_text) if i in json_at and v is not None else v
                  for row in rows for i, v in enumerate(row)]
        one = sql.SQL("({})").format(sql.SQL(", ").join(
            [sql.Placeholder()] * len(self.table.columns)))
        self.conn.execute(sql.SQL("INSERT INTO {} ({}) VALUES {} {}").format(
            sql.Identifier(self.table.name), self.table.column_list,
            sql.SQL(", ").join([one] * len(rows)), conflict), params)

    def _upsert(self, rows: list[list[Any]], add: bool) -> None:
        conflict = self.table.on_conflict(add)
        if len(rows) <= FEW:
            self._insert(rows, conflict)
            return
        stage = sql.Identifier(self.table.stage)
        self.conn.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {})").format(
            stage, sql.Identifier(self.table.name)))
        self._copy(self.table.stage, rows)
        self.conn.execute(sql.SQL("INSERT INTO {table} ({columns}) SELECT {columns} FROM "
                                  "{stage} {conflict}").format(
            table=sql.Identifier(self.table.name), columns=self.table.column_list,
            stage=stage, conflict=conflict))
        self.conn.execute(sql.SQL("TRUNCATE {}").format(stage))

    def _append(self, rows: list[list[Any]]) -> None:
        if len(rows) <= FEW:
            self._insert(rows, sql.SQL(""))
        else:
            self._copy(self.table.name, rows)


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
