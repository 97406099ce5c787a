"""Payouts: the finance history of every payout, its Stripe transfer and failures."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from . import cursors, worker_stats
from .base import Handlers, Projection
from .rows import PayoutRow
from .sqlq import by_id, columns, fetch, newest_first_page, unique_ids
from .store import Batch, Table

PAYOUTS = Table("payouts", (
    "id", "worker_id", "requester_id", "task_id", "submission_id", "kind", "amount",
    "currency", "status", "stripe_transfer_id", "attempts", "retries", "failure_reason",
    "retryable", "reversed_amount", "requested_at", "paid_at", "updated_at", "reason",
), ("id",))
handlers = Handlers()


@handlers.on("PayoutRequested")
def requested(batch: Batch, event: Any) -> None:
    batch["payouts"].put(dict(
        id=event.originator_id, worker_id=event.worker_id, requester_id=event.requester_id,
        task_id=event.task_id, submission_id=event.submission_id, kind=event.kind,
        amount=event.amount, currency=event.currency, status="REQUESTED",
        stripe_transfer_id=None, attempts=0, retries=0, failure_reason=None, retryable=None,
        reversed_amount=0, requested_at=event.requested_at, paid_at=None,
        updated_at=event.timestamp, reason=getattr(event, "reason", None)))


def _row(batch: Batch, event: Any) -> dict:
    return batch["payouts"].change(event.originator_id, updated_at=event.timestamp)


@handlers.on("PayoutPaid")
def paid(batch: Batch, event: Any) -> None:
    row = _row(batch, event)
    row.update(status="PAID", stripe_transfer_id=event.transfer_id, paid_at=event.paid_at,
               attempts=event.attempt, failure_reason=None)


@handlers.on("PayoutFailed")
def failed(batch: Batch, event: Any) -> None:
    row = _row(batch, event)
    row.update(attempts=event.attempt, failure_reason=event.reason, retryable=event.retryable)
    if not event.retryable:
        row["status"] = "FAILED"


@handlers.on("PayoutRetried")
def retried(batch: Batch, event: Any) -> None:
    _row(batch, event).update(status="REQUESTED", retries=event.retries, failure_reason=None,
                              retryable=None)


@handlers.on("PayoutTransferReversed")
def reversed_(batch: Batch, event: Any) -> None:
    _row(batch, event)["reversed_amount"] += event.amount


def _preload(batch: Batch, events: list[tuple[str, Any]]) -> None:
    batch["payouts"].preload(e.originator_id for kind, e in events
                             if kind != "PayoutRequested")


PROJECTION = Projection("payouts", [PAYOUTS, worker_stats.WORKER_EARNINGS],
                        [handlers, worker_stats.earning_handlers], preload=_preload)

# --- queries ----------------------------------------------------------------------------
FIELDS = [name for name in PayoutRow.__dataclass_fields__ if name != "cursor"]
COLUMNS = columns(FIELDS)


def make(row: dict) -> PayoutRow:
    return PayoutRow(**row, cursor=cursors.encode(row["requested_at"], row["id"]))


def by_ids(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, PayoutRow]:
    return by_id(fetch(conn, f"SELECT {COLUMNS} FROM payouts WHERE id = ANY(%s)",
                       (unique_ids(ids),), make))


def history(conn: psycopg.Connection, worker_id: UUID | None, status: str | None,
            first: int, after: str | None) -> list[PayoutRow]:
    """Payouts newest first, of one worker and/or in one status."""
    where: list[str] = []
    params: list = []
    if worker_id is not None:
        where.append("worker_id = %s")
        params.append(worker_id)
    if status:
        where.append("status = %s")
        params.append(status)
    return newest_first_page(conn, f"SELECT {COLUMNS} FROM payouts", where, params, after,
                             ("requested_at", "id"), first, make)
