"""Batches: each batch, which of its items are controls, and each worker's gold record.

Gold answers are never copied here: only which items are gold (so the aggregation leaves
them out) and how each worker did on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from . import cursors
from .base import Handlers, Projection
from .sqlq import columns, fetch, newest_first_page, unique_ids
from .store import Batch, Table
from .task_rows import COLUMNS, make as make_task

BATCHES = Table("batches", (
    "id", "requester_id", "title", "instructions", "answer_schema", "answer_pointer",
    "reward_amount", "currency", "overlap", "aggregation", "cancelled", "item_count",
    "gold_count", "created_at", "version",
), ("id",), json_columns=frozenset({"answer_schema"}))
GOLD = Table("batch_gold", ("task_id", "batch_id"), ("task_id",))
WORKERS = Table("batch_workers", ("batch_id", "worker_id", "gold_answered", "gold_correct",
                                  "blocked"), ("batch_id", "worker_id"), kind="counters")
handlers = Handlers()


@handlers.on("BatchCreated")
def created(batch: Batch, event: Any) -> None:
    batch["batches"].put(dict(
        id=event.originator_id, requester_id=event.requester_id, title=event.title,
        instructions=event.instructions, answer_schema=event.answer_schema,
        answer_pointer=event.answer_pointer, reward_amount=event.reward_amount,
        currency=event.currency, overlap=event.overlap, aggregation=event.aggregation,
        cancelled=False, item_count=0, gold_count=0, created_at=event.created_at,
        version=event.originator_version))


def _change(batch: Batch, event: Any) -> dict:
    return batch["batches"].change(event.originator_id, version=event.originator_version)


@handlers.on("BatchItemsAdded")
def items_added(batch: Batch, event: Any) -> None:
    row = _change(batch, event)
    row["item_count"] += event.count
    row["gold_count"] += len(event.gold_items)
    for task_id, _answer in event.gold_items:  # the answer stays in the event store
        batch["batch_gold"].put(dict(task_id=UUID(str(task_id)), batch_id=event.originator_id))


@handlers.on("BatchWorkerGoldAnswered")
def gold_answered(batch: Batch, event: Any) -> None:
    batch["batch_workers"].add((event.batch_id, event.worker_id), gold_answered=1,
                               gold_correct=1 if event.correct else 0)


@handlers.on("BatchWorkerBlocked")
def worker_blocked(batch: Batch, event: Any) -> None:
    batch["batch_workers"].add((event.batch_id, event.worker_id), blocked=1)


@handlers.on("BatchCancelled")
def cancelled(batch: Batch, event: Any) -> None:
    _change(batch, event)["cancelled"] = True


def _preload(batch: Batch, events: list[tuple[str, Any]]) -> None:
    batch["batches"].preload(e.originator_id for kind, e in events
                             if kind in ("BatchItemsAdded", "BatchCancelled"))


PROJECTION = Projection("batches", [BATCHES, GOLD, WORKERS], [handlers], preload=_preload)


# --- queries ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchRow:
    id: UUID
    requester_id: UUID
    title: str
    instructions: str
    answer_schema: Any
    answer_pointer: str
    reward_amount: int
    currency: str
    overlap: int
    aggregation: str
    cancelled: bool
    item_count: int
    gold_count: int
    created_at: datetime
    completed_count: int = 0
    cursor: str = ""

    @property
    def status(self) -> str:
        if self.cancelled:
            return "CANCELLED"
        plain = self.item_count - self.gold_count
        if self.item_count and self.completed_count >= plain:
            return "COMPLETED"
        return "OPEN"


@dataclass(frozen=True)
class WorkerQualityRow:
    batch_id: UUID
    worker_id: UUID
    gold_answered: int
    gold_correct: int
    blocked: bool
    cursor: str = ""

    @property
    def accuracy(self) -> float | None:
        return self.gold_correct / self.gold_answered if self.gold_answered else None


@dataclass(frozen=True)
class ConsensusRow:
    task_id: UUID
    batch_id: UUID
    answer: Any
    confidence: float
    method: str
    answers: int


FIELDS = [name for name in BatchRow.__dataclass_fields__
          if name not in ("cursor", "completed_count")]
SELECT = (f"SELECT {columns(FIELDS, 'b.')}, (SELECT count(*) FROM batch_consensus c "
          "WHERE c.batch_id = b.id) AS completed_count FROM batches b")


def make(row: dict) -> BatchRow:
    return BatchRow(**row, cursor=cursors.encode(row["created_at"], row["id"]))


def by_ids(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, BatchRow]:
    rows = fetch(conn, f"{SELECT} WHERE b.id = ANY(%s)", (unique_ids(ids),), make)
    return {row.id: row for row in rows}


def newest_first(conn: psycopg.Connection, requester_id: UUID | None, first: int,
                 after: str | None) -> list[BatchRow]:
    where, params = [], []
    if requester_id is not None:
        where.append("b.requester_id = %s")
        params.append(requester_id)
    return newest_first_page(conn, SELECT, where, params, after, ("b.created_at", "b.id"),
                             first, make)


def worker_quality(conn: psycopg.Connection, batch_id: UUID, first: int,
                   after: str | None) -> list[WorkerQualityRow]:
    place = cursors.decode(after, UUID)
    return fetch(conn, """
        SELECT batch_id, worker_id, gold_answered, gold_correct, blocked > 0 AS blocked
        FROM batch_workers WHERE batch_id = %s AND worker_id > %s
        ORDER BY worker_id LIMIT %s""",
                 (batch_id, place[0] if place else UUID(int=0), first),
                 lambda row: WorkerQualityRow(**row, cursor=cursors.encode(row["worker_id"])))


def gold_totals(conn: psycopg.Connection, worker_ids: Iterable[UUID]) -> dict[UUID, tuple[int, int]]:
    """(gold answered, gold correct) of each worker across every batch."""
    rows = conn.execute("""
        SELECT worker_id, sum(gold_answered)::int, sum(gold_correct)::int FROM batch_workers
        WHERE worker_id = ANY(%s) GROUP BY worker_id""", (unique_ids(worker_ids),)).fetchall()
    return {worker_id: (answered, correct) for worker_id, answered, correct in rows}


def consensus(conn: psycopg.Connection, task_ids: Iterable[UUID]) -> dict[UUID, ConsensusRow]:
    rows = fetch(conn, "SELECT task_id, batch_id, answer, confidence, method, answers "
                       "FROM batch_consensus WHERE task_id = ANY(%s)",
                 (unique_ids(task_ids),), lambda row: ConsensusRow(**row))
    return {row.task_id: row for row in rows}


def tasks_of_batch(conn: psycopg.Connection, batch_id: UUID, first: int,
                   after: str | None, without_gold: bool = False) -> list[Any]:
    """A batch's items in the order they were added (oldest first); ``without_gold``
    leaves the control items out (the results)."""
    params: list[Any] = [batch_id]
    condition = "batch_id = %s"
    if without_gold:
        condition += " AND NOT EXISTS (SELECT 1 FROM batch_gold g WHERE g.task_id = tasks.id)"
    place = cursors.decode(after, datetime, UUID)
    if place:
        condition += " AND (created_at, id) > (%s, %s)"
        params.extend(place)
    return fetch(conn, f"SELECT {COLUMNS} FROM tasks WHERE {condition} "
                       "ORDER BY created_at, id LIMIT %s", [*params, first], make_task)


def flagged_submissions(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, bool]:
    """Of these submissions, those whose worker is blocked from their task's batch (its
    answers are to be reviewed with care)."""
    rows = conn.execute("""
        SELECT s.id FROM submissions s JOIN tasks t ON t.id = s.task_id
        JOIN batch_workers w ON w.batch_id = t.batch_id AND w.worker_id = s.worker_id
        WHERE s.id = ANY(%s) AND w.blocked > 0""", (unique_ids(ids),)).fetchall()
    return {submission_id: True for (submission_id,) in rows}
