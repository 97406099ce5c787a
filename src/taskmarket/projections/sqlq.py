"""Small helpers shared by the query functions of the read-model modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

T = TypeVar("T")


def fetch(conn: psycopg.Connection, query: Any, params: Any,
          make: Callable[[dict[str, Any]], T]) -> list[T]:
    with conn.cursor(row_factory=dict_row) as cur:
        return [make(row) for row in cur.execute(query, params)]


def by_id(rows: Iterable[Any]) -> dict[UUID, Any]:
    return {row.id: row for row in rows}


def unique_ids(ids: Iterable[UUID]) -> list[UUID]:
    return list(dict.fromkeys(ids))


def columns(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{name}" for name in names)
