"""Requesters: name, currency, available balance, escrow, spent and deposited funds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from . import cursors
from .base import Handlers, Projection
from .rows import RequesterRow
from .sqlq import by_id, columns, fetch, unique_ids
from .store import Batch, Table

REQUESTERS = Table("requesters", ("id", "name", "currency", "balance", "escrow", "spent",
                                  "deposited", "created_at", "version"), ("id",))
handlers = Handlers()


def _row(batch: Batch, event: Any) -> dict:
    return batch["requesters"].change(event.originator_id, version=event.originator_version)


@handlers.on("RequesterCreated")
def created(batch: Batch, event: Any) -> None:
    batch["requesters"].put(dict(
        id=event.originator_id, name=event.name, currency=getattr(event, "currency", None),
        balance=0, escrow=0, spent=0,
        deposited=0, created_at=event.timestamp, version=event.originator_version))


@handlers.on("RequesterFundsDeposited")
def deposited(batch: Batch, event: Any) -> None:
    row = _row(batch, event)
    row["currency"] = event.currency
    row["balance"] += event.amount
    row["deposited"] += event.amount


def _moving(source: str, target: str) -> Any:
    """A handler that moves the event's amount from one money column to another."""
    def move(batch: Batch, event: Any) -> None:
        row = _row(batch, event)
        row[source] -= event.amount
        row[target] += event.amount
    return move


handlers.on("RequesterEscrowReserved")(_moving("balance", "escrow"))
handlers.on("RequesterEscrowReleased")(_moving("escrow", "balance"))
handlers.on("RequesterEscrowConsumed")(_moving("escrow", "spent"))
handlers.on("RequesterBonusFunded")(_moving("balance", "spent"))


def _preload(batch: Batch, events: list[tuple[str, Any]]) -> None:
    batch["requesters"].preload(e.originator_id for kind, e in events
                                if kind != "RequesterCreated")


PROJECTION = Projection("requesters", [REQUESTERS], [handlers], preload=_preload)

# --- queries ----------------------------------------------------------------------------
_COLUMNS = columns(RequesterRow.__dataclass_fields__.keys() - {"cursor"})


def _make(row: dict) -> RequesterRow:
    return RequesterRow(**row, cursor=cursors.encode(row["created_at"], row["id"]))


def by_ids(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, RequesterRow]:
    return by_id(fetch(conn, f"SELECT {_COLUMNS} FROM requesters WHERE id = ANY(%s)",
                       (unique_ids(ids),), _make))


def page(conn: psycopg.Connection, first: int, after: str | None) -> list[RequesterRow]:
    """Requesters oldest first, from a keyset cursor on."""
    place = cursors.decode(after, datetime, UUID)
    where = "WHERE (created_at, id) > (%s, %s)" if place else ""
    return fetch(conn, f"SELECT {_COLUMNS} FROM requesters {where} "
                       "ORDER BY created_at, id LIMIT %s", [*(place or ()), first], _make)
