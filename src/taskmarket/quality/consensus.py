"""The aggregation job's work: a batch's answers in, each item's consensus out.

Reads the answers of a batch's ordinary items (pending or accepted submissions; gold items
are controls and left out) from the read models, combines the answers at the batch's
pointer with its method over the whole batch, and rewrites the batch's rows of
``batch_consensus`` in one transaction: an item has a consensus once it has ``overlap``
answers. Run by the ``aggregate_batch`` Dramatiq actor, never inside a request.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from ..domain.answers import answer_at, canonical
from ..projections import tracking
from .aggregation import METHODS

NEEDED_PROJECTIONS = ["tasks", "batches"]


def projections_reached(conn: psycopg.Connection, position: int) -> bool:
    return min(tracking.positions(conn, NEEDED_PROJECTIONS).values()) >= position


def batch_answers(conn: psycopg.Connection, batch_id: UUID, pointer: str
                  ) -> list[tuple[UUID, UUID, str]]:
    """(item, worker, canonical answer text) of every counted answer of the batch."""
    rows = conn.execute("""
        SELECT s.task_id, s.worker_id, s.result FROM tasks t
        JOIN submissions s ON s.task_id = t.id
        WHERE t.batch_id = %s AND s.status IN ('PENDING_REVIEW', 'ACCEPTED')
          AND NOT EXISTS (SELECT 1 FROM batch_gold g WHERE g.task_id = t.id)
        ORDER BY s.submitted_at, s.id""", (batch_id,)).fetchall()
    return [(task_id, worker_id, canonical(answer_at(pointer, result)))
            for task_id, worker_id, result in rows]


def aggregate_batch(conn: psycopg.Connection, batch_id: UUID) -> int:
    """Re-estimate a batch's consensus; how many items have one. ``conn`` not in autocommit
    is committed here."""
    found = conn.execute("SELECT overlap, answer_pointer, aggregation FROM batches "
                         "WHERE id = %s", (batch_id,)).fetchone()
    if found is None:
        return 0
    overlap, pointer, method = found
    answers = batch_answers(conn, batch_id, pointer)
    estimates = METHODS[method](answers)
    rows = [(task_id, batch_id, Jsonb(json.loads(estimate.label)), estimate.confidence,
             method, estimate.answers)
            for task_id, estimate in estimates.items() if estimate.answers >= overlap]
    with conn.transaction():
        conn.execute("DELETE FROM batch_consensus WHERE batch_id = %s", (batch_id,))
        with conn.cursor() as cur, cur.copy(
                "COPY batch_consensus (task_id, batch_id, answer, confidence, method, answers) "
                "FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)


def run(conn: psycopg.Connection, batch_id: UUID, position: int = 0) -> int | None:
    """The job: None when the read models have not reached ``position`` yet (retry)."""
    if position and not projections_reached(conn, position):
        return None
    return aggregate_batch(conn, batch_id)


def pending_batches(conn: psycopg.Connection) -> list[Any]:
    return [row[0] for row in conn.execute("SELECT id FROM batches WHERE NOT cancelled")]
