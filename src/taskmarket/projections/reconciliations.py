"""Reconciliation runs with Stripe, newest first, each with its discrepancies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from . import cursors
from .base import Handlers, Projection
from .sqlq import fetch
from .store import Batch, Table

RUNS = Table("reconciliation_runs", (
    "id", "started_at", "finished_at", "period_from", "period_to", "payouts_compared",
    "transfers_compared", "discrepancies"), ("id",), json_columns=frozenset({"discrepancies"}))
handlers = Handlers()


@handlers.on("ReconciliationRunCompleted")
def completed(batch: Batch, event: Any) -> None:
    batch["reconciliation_runs"].put(dict(
        id=event.originator_id, started_at=event.started_at, finished_at=event.finished_at,
        period_from=event.period_from, period_to=event.period_to,
        payouts_compared=event.payouts_compared, transfers_compared=event.transfers_compared,
        discrepancies=event.discrepancies))


PROJECTION = Projection("reconciliations", [RUNS], [handlers])


@dataclass(frozen=True)
class ReconciliationRunRow:
    id: UUID
    started_at: datetime
    finished_at: datetime | None
    period_from: datetime
    period_to: datetime
    payouts_compared: int
    transfers_compared: int
    discrepancies: list[dict[str, Any]]
    cursor: str = ""


_COLUMNS = ", ".join(RUNS.columns)


def _make(row: dict) -> ReconciliationRunRow:
    return ReconciliationRunRow(**row, cursor=cursors.encode(row["started_at"], row["id"]))


def newest(conn: psycopg.Connection, first: int, after: str | None) -> list[ReconciliationRunRow]:
    place = cursors.decode(after, datetime, UUID)
    where, params = ("(started_at, id) < (%s, %s)", list(place)) if place else ("true", [])
    return fetch(conn, f"SELECT {_COLUMNS} FROM reconciliation_runs WHERE {where} "
                       "ORDER BY started_at DESC, id DESC LIMIT %s", [*params, first], _make)


def by_ids(conn: psycopg.Connection, ids: list[UUID]) -> dict[UUID, ReconciliationRunRow]:
    rows = fetch(conn, f"SELECT {_COLUMNS} FROM reconciliation_runs WHERE id = ANY(%s)",
                 (ids,), _make)
    return {row.id: row for row in rows}


def open_discrepancies(conn: psycopg.Connection) -> int:
    """Discrepancies the newest run found (what is still open as far as we know)."""
    row = conn.execute("SELECT jsonb_array_length(discrepancies) FROM reconciliation_runs "
                       "ORDER BY started_at DESC, id DESC LIMIT 1").fetchone()
    return row[0] if row else 0
