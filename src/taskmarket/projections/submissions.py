"""Submissions: the work handed in for a claim, its review status and feedback."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from . import cursors
from .base import Handlers
from .rows import SubmissionRow
from .sqlq import by_id, columns, fetch, unique_ids
from .store import Batch, Table

SUBMISSIONS = Table("submissions", (
    "id", "task_id", "claim_id", "worker_id", "requester_id", "result", "status", "feedback",
    "automatic", "submitted_at", "reviewed_at",
), ("id",), json_columns=frozenset({"result"}))
handlers = Handlers()


@handlers.on("TaskWorkSubmitted")
def submitted(batch: Batch, event: Any) -> None:
    task = batch["tasks"].get(event.originator_id)
    batch["submissions"].put(dict(
        id=event.submission_id, task_id=event.originator_id, claim_id=event.claim_id,
        worker_id=event.worker_id, requester_id=task["requester_id"], result=event.result,
        status="PENDING_REVIEW", feedback=None, automatic=False,
        submitted_at=event.submitted_at, reviewed_at=None))


def _review(batch: Batch, event: Any, status: str) -> None:
    row = batch["submissions"].get(event.submission_id)
    row["status"] = status
    row["feedback"] = event.feedback
    row["automatic"] = bool(getattr(event, "automatic", False))
    row["reviewed_at"] = event.timestamp
    batch["submissions"].changed(row)


@handlers.on("TaskSubmissionAccepted")
def accepted(batch: Batch, event: Any) -> None:
    _review(batch, event, "ACCEPTED")


@handlers.on("TaskSubmissionRejected")
def rejected(batch: Batch, event: Any) -> None:
    _review(batch, event, "REJECTED")


@handlers.on("TaskRevisionRequested")
def revision_requested(batch: Batch, event: Any) -> None:
    _review(batch, event, "REVISION_REQUESTED")


# --- queries ----------------------------------------------------------------------------
FIELDS = [name for name in SubmissionRow.__dataclass_fields__ if name != "cursor"]
COLUMNS = columns(FIELDS)


def make(row: dict) -> SubmissionRow:
    return SubmissionRow(**row, cursor=cursors.encode(row["submitted_at"], row["id"]))


def by_ids(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, SubmissionRow]:
    return by_id(fetch(conn, f"SELECT {COLUMNS} FROM submissions WHERE id = ANY(%s)",
                       (unique_ids(ids),), make))


def _oldest_first(conn: psycopg.Connection, where: str, params: list, first: int,
                  after: str | None) -> list[SubmissionRow]:
    place = cursors.decode(after, datetime, UUID)
    page = "AND (submitted_at, id) > (%s, %s)" if place else ""
    return fetch(conn, f"SELECT {COLUMNS} FROM submissions WHERE {where} {page} "
                       "ORDER BY submitted_at, id LIMIT %s",
                 [*params, *(place or ()), first], make)


def of_task(conn: psycopg.Connection, task_id: UUID, first: int,
            after: str | None) -> list[SubmissionRow]:
    """A task's submissions, oldest first."""
    return _oldest_first(conn, "task_id = %s", [task_id], first, after)


def review_queue(conn: psycopg.Connection, requester_id: UUID, first: int,
                 after: str | None) -> list[SubmissionRow]:
    """The review queue: a requester's submissions waiting for review, oldest first."""
    return _oldest_first(conn, "requester_id = %s AND status = 'PENDING_REVIEW'",
                         [requester_id], first, after)


def due_for_auto_approval(conn: psycopg.Connection, now: datetime,
                          limit: int) -> list[SubmissionRow]:
    """Pending submissions of tasks with auto-approval whose delay has passed."""
    return fetch(conn, f"""
        SELECT {columns(FIELDS, 's.')} FROM submissions s JOIN tasks t ON t.id = s.task_id
        WHERE s.status = 'PENDING_REVIEW' AND t.auto_approve_after_seconds IS NOT NULL
          AND s.submitted_at + make_interval(secs => t.auto_approve_after_seconds) <= %s
        ORDER BY s.submitted_at LIMIT %s""", (now, limit), make)
