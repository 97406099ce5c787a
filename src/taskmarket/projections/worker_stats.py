"""Worker stats: how much work a worker handed in, how it was judged, what it earned.

Review counts follow the Task events (kept by the "tasks" projection); earnings follow
the Payout events (kept by the "payouts" projection): earned is what payouts owe the
worker, paid what Stripe transfers delivered (less reversals), per currency.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import psycopg

from . import cursors
from .base import Handlers
from .rows import WorkerStatsRow
from .sqlq import fetch, unique_ids
from .store import Batch, Table

WORKER_STATS = Table("worker_stats", ("worker_id", "submitted", "accepted", "rejected",
                                      "revisions_requested"), ("worker_id",), kind="counters")
WORKER_EARNINGS = Table("worker_earnings", ("worker_id", "currency", "earned", "paid"),
                        ("worker_id", "currency"), kind="counters")
review_handlers = Handlers()
earning_handlers = Handlers()


@review_handlers.on("TaskWorkSubmitted")
def submitted(batch: Batch, event: Any) -> None:
    batch["worker_stats"].add((event.worker_id,), submitted=1)


def _count(batch: Batch, event: Any, **counts: int) -> None:
    worker_id = batch["submissions"].get(event.submission_id)["worker_id"]
    batch["worker_stats"].add((worker_id,), **counts)


@review_handlers.on("TaskSubmissionAccepted")
def accepted(batch: Batch, event: Any) -> None:
    _count(batch, event, accepted=1)


@review_handlers.on("TaskSubmissionRejected")
def rejected(batch: Batch, event: Any) -> None:
    _count(batch, event, rejected=1)


@review_handlers.on("TaskRevisionRequested")
def revision_requested(batch: Batch, event: Any) -> None:
    _count(batch, event, revisions_requested=1)


@earning_handlers.on("PayoutRequested")
def payout_requested(batch: Batch, event: Any) -> None:
    batch["worker_earnings"].add((event.worker_id, event.currency), earned=event.amount)


@earning_handlers.on("PayoutPaid")
def payout_paid(batch: Batch, event: Any) -> None:
    payout = batch["payouts"].get(event.originator_id)
    batch["worker_earnings"].add((payout["worker_id"], payout["currency"]),
                                 paid=payout["amount"])


@earning_handlers.on("PayoutTransferReversed")
def transfer_reversed(batch: Batch, event: Any) -> None:
    payout = batch["payouts"].get(event.originator_id)
    batch["worker_earnings"].add((payout["worker_id"], payout["currency"]), paid=-event.amount)


# --- queries ----------------------------------------------------------------------------
def by_ids(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, WorkerStatsRow]:
    """Stats of workers (all zero for a worker with no work yet, known or not)."""
    wanted = unique_ids(ids)
    rows = fetch(conn, """
        SELECT w.id AS worker_id, coalesce(s.submitted, 0) AS submitted,
               coalesce(s.accepted, 0) AS accepted, coalesce(s.rejected, 0) AS rejected,
               coalesce(s.revisions_requested, 0) AS revisions_requested,
               (SELECT coalesce(jsonb_object_agg(e.currency, e.earned), '{}')
                  FROM worker_earnings e WHERE e.worker_id = w.id) AS earned,
               (SELECT coalesce(jsonb_object_agg(e.currency, e.paid), '{}')
                  FROM worker_earnings e WHERE e.worker_id = w.id) AS paid
        FROM unnest(%s::uuid[]) AS w(id) LEFT JOIN worker_stats s ON s.worker_id = w.id""",
                 (wanted,), lambda row: WorkerStatsRow(**row, cursor=cursors.encode(
                     row["worker_id"])))
    return {row.worker_id: row for row in rows}
