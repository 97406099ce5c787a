"""Small helpers shared by the query functions of the read-model modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from . import cursors

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


def newest_first_page(conn: psycopg.Connection, select: str, where: Sequence[str],
                      params: Sequence[Any], after: str | None, order: tuple[str, str],
                      first: int, make: Callable[[dict[str, Any]], T]) -> list[T]:
    """``first`` rows of ``select`` that meet every ``where`` condition, newest first by
    ``order`` (a time column and the id), after the cursor ``after``."""
    conditions, values = list(where), list(params)
    place = cursors.decode(after, datetime, UUID)
    if place:
        conditions.append(f"({order[0]}, {order[1]}) < (%s, %s)")
        values.extend(place)
    condition = " AND ".join(conditions) or "true"
    return fetch(conn, f"{select} WHERE {condition} ORDER BY {order[0]} DESC, "
                       f"{order[1]} DESC LIMIT %s", [*values, first], make)
