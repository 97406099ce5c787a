"""The ``scheduled_work`` table: what the workers owe, and the dispatcher's log position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg_pool import ConnectionPool

from ..database import Database

DISPATCHER = "dispatcher"

PAY, EXPIRE, AUTO_APPROVE = "pay", "expire", "auto_approve"


@dataclass(frozen=True)
class Work:
    kind: str
    subject_id: UUID
    aggregate_id: UUID
    due_at: datetime
    worker_id: UUID | None = None


@dataclass(frozen=True)
class Done:
    kind: str
    subject_id: UUID


def open_pool(database: Database, max_size: int = 4) -> ConnectionPool:
    # Rows here are derived from the event log: a crash that loses the last commits only
    # makes the dispatcher read those events again and re-send (at least once, by design).
    return ConnectionPool(database.conninfo, min_size=1, max_size=max_size, open=True,
                          kwargs={"autocommit": False,
                                  "options": "-c synchronous_commit=off"},
                          name="taskmarket-workers")


class WorkStore:
    def __init__(self, pool: ConnectionPool):
        self.pool = pool

    # --- dispatcher ---------------------------------------------------------------
    def position(self, name: str = DISPATCHER) -> int:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT position FROM projection_positions WHERE name = %s",
                               (name,)).fetchone()
            return row[0] if row else 0

    @staticmethod
    def record(conn: Connection, changes: list[Work | Done]) -> None:
        """Apply the batch's changes as if one by one in log order, on the dispatcher's
        transaction (which also moves its position). Rows of different work are
        independent, and for one piece of work the outcome is its last (re)opening, then a
        finish if the batch ends with one; so the batch is two statements over many rows."""
        opened: dict[tuple[str, UUID], Work] = {}
        finished: dict[tuple[str, UUID], Done] = {}
        for change in changes:
            key = (change.kind, change.subject_id)
            if isinstance(change, Work):
                opened[key] = change
                finished.pop(key, None)
            else:
                finished[key] = change
        with conn.cursor() as cursor:
            if opened:
                cursor.executemany(SCHEDULE, [schedule_params(work)
                                              for work in opened.values()])
            if finished:
                cursor.executemany(FINISH, [(done.kind, done.subject_id)
                                            for done in finished.values()])

    def pending_payouts_of_workers(self, worker_ids: list[UUID]) -> dict[UUID, UUID]:
        """The payouts still owed to any of ``worker_ids``: payout id -> worker id."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT subject_id, worker_id FROM scheduled_work WHERE kind = 'pay' "
                "AND worker_id = ANY(%s) AND done_at IS NULL", (worker_ids,)).fetchall()
            return {payout_id: worker_id for payout_id, worker_id in rows}

    # --- actors -------------------------------------------------------------------
    def touch(self, kind: str, subject_id: UUID) -> None:
        """An attempt started now; the sweeper leaves the row alone for a while."""
        with self.pool.connection() as conn:
            conn.execute("UPDATE scheduled_work SET sent_at = now() "
                         "WHERE kind = %s AND subject_id = %s", (kind, subject_id))

    # --- sweeper ------------------------------------------------------------------
    def claim_overdue(self, grace_seconds: float, resend_after_seconds: float,
                      limit: int = 500) -> list[Work]:
        """Rows due (plus grace), not done and quiet for a while; marked as sent now."""
        with self.pool.connection() as conn, conn.transaction():
            rows = conn.execute(
                """
                WITH overdue AS (
                    SELECT kind, subject_id FROM scheduled_work
                    WHERE done_at IS NULL
                      AND due_at <= now() - make_interval(secs => %s)
                      AND (sent_at IS NULL OR sent_at <= now() - make_interval(secs => %s))
                    ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED)
                UPDATE scheduled_work AS w SET sent_at = now() FROM overdue
                WHERE w.kind = overdue.kind AND w.subject_id = overdue.subject_id
                RETURNING w.kind, w.subject_id, w.aggregate_id, w.due_at, w.worker_id
                """, (grace_seconds, resend_after_seconds, limit)).fetchall()
            return [Work(*row) for row in rows]


# (Re)open a piece of work; a newer due time replaces the old one.
SCHEDULE = (
    "INSERT INTO scheduled_work (kind, subject_id, aggregate_id, worker_id, due_at, sent_at) "
    "VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (kind, subject_id) DO UPDATE "
    "SET due_at = EXCLUDED.due_at, sent_at = now(), done_at = NULL")
FINISH = ("UPDATE scheduled_work SET done_at = now() "
          "WHERE kind = %s AND subject_id = %s AND done_at IS NULL")


def schedule_params(work: Work) -> tuple:
    return (work.kind, work.subject_id, work.aggregate_id, work.worker_id, work.due_at)
