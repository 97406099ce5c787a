"""Tasks: every task with its spec, status and slot counts.

The "tasks" projection also keeps the task board's skill index, claims, submissions and
workers' review counts: they all follow the Task aggregate's events and read its rows
(a claim's requester is its task's) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from . import claims, cursors, submissions, task_board, worker_stats
from .base import Handlers, Projection
from .rows import TaskRow
from .sqlq import by_id, fetch, unique_ids
from .store import Batch, Table
from .task_rows import COLUMNS, make

TASKS = Table("tasks", (
    "id", "requester_id", "title", "instructions", "payload", "reward_amount", "currency",
    "assignments", "required_skills", "claim_timeout_seconds", "auto_approve_after_seconds",
    "status", "open_slots", "active_claims", "pending_review", "accepted", "refunded_slots",
    "cancelled", "board_skill", "created_at", "updated_at", "version", "batch_id",
), ("id",), json_columns=frozenset({"payload"}))
handlers = Handlers()


def refresh(row: dict) -> None:
    """Derive open slots and status from the counts, as the Task aggregate does."""
    held = row["active_claims"] + row["pending_review"] + row["accepted"]
    row["open_slots"] = 0 if row["cancelled"] else row["assignments"] - held - row["refunded_slots"]
    if row["accepted"] >= row["assignments"]:
        row["status"] = "COMPLETED"
    elif row["cancelled"]:
        row["status"] = "CANCELLED"
    elif row["open_slots"] == 0:
        row["status"] = "FILLED"
    else:
        row["status"] = "OPEN"


@handlers.on("TaskPosted")
def posted(batch: Batch, event: Any) -> None:
    skills = list(event.required_skills)
    row = dict(
        id=event.originator_id, requester_id=event.requester_id, title=event.title,
        instructions=event.instructions, payload=event.payload,
        reward_amount=event.reward_amount, currency=event.currency,
        assignments=event.assignments, required_skills=skills,
        claim_timeout_seconds=event.claim_timeout_seconds,
        auto_approve_after_seconds=event.auto_approve_after_seconds, status="OPEN",
        open_slots=0, active_claims=0, pending_review=0, accepted=0, refunded_slots=0,
        cancelled=False, board_skill=min(skills, default=""), created_at=event.posted_at,
        updated_at=event.timestamp, version=event.originator_version,
        batch_id=getattr(event, "batch_id", None))
    refresh(row)
    batch["tasks"].put(row)


def _change(batch: Batch, event: Any, active: int = 0, pending: int = 0, accepted: int = 0,
            refunded: int = 0, cancelled: bool = False) -> None:
    row = batch["tasks"].get(event.originator_id)
    row["active_claims"] += active
    row["pending_review"] += pending
    row["accepted"] += accepted
    row["refunded_slots"] += refunded
    row["cancelled"] = row["cancelled"] or cancelled
    row["version"] = event.originator_version
    row["updated_at"] = event.timestamp
    refresh(row)
    batch["tasks"].changed(row)


@handlers.on("TaskClaimed")
def claimed(batch: Batch, event: Any) -> None:
    _change(batch, event, active=1)


@handlers.on("TaskClaimReleased", "TaskClaimExpired")
def claim_ended(batch: Batch, event: Any) -> None:
    _change(batch, event, active=-1, refunded=event.refunded_slots)


@handlers.on("TaskWorkSubmitted")
def work_submitted(batch: Batch, event: Any) -> None:
    _change(batch, event, active=-1, pending=1)


@handlers.on("TaskSubmissionAccepted")
def submission_accepted(batch: Batch, event: Any) -> None:
    _change(batch, event, pending=-1, accepted=1)


@handlers.on("TaskSubmissionRejected")
def submission_rejected(batch: Batch, event: Any) -> None:
    _change(batch, event, pending=-1, refunded=event.refunded_slots)


@handlers.on("TaskRevisionRequested")
def revision_requested(batch: Batch, event: Any) -> None:
    _change(batch, event, pending=-1, active=1)


@handlers.on("TaskCancelled")
def cancelled(batch: Batch, event: Any) -> None:
    _change(batch, event, refunded=event.refunded_slots, cancelled=True)


@handlers.on("TaskSlotAdded")
def slot_added(batch: Batch, event: Any) -> None:
    batch["tasks"].get(event.originator_id)["assignments"] += 1
    _change(batch, event)


@handlers.on("TaskCompleted")
def completed(batch: Batch, event: Any) -> None:
    _change(batch, event)


def _preload(batch: Batch, events: list[tuple[str, Any]]) -> None:
    batch["tasks"].preload(e.originator_id for kind, e in events if kind != "TaskPosted")
    batch["claims"].preload(e.claim_id for kind, e in events
                            if kind != "TaskClaimed" and hasattr(e, "claim_id"))
    batch["submissions"].preload(e.submission_id for kind, e in events
                                 if kind != "TaskWorkSubmitted" and hasattr(e, "submission_id"))


PROJECTION = Projection(
    "tasks",
    [TASKS, task_board.TASK_BOARD_SKILLS, claims.CLAIMS, submissions.SUBMISSIONS,
     worker_stats.WORKER_STATS],
    [handlers, claims.handlers, submissions.handlers, worker_stats.review_handlers],
    preload=_preload, finish=task_board.sync,
)

# --- queries ----------------------------------------------------------------------------
def by_ids(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, TaskRow]:
    return by_id(fetch(conn, f"SELECT {COLUMNS} FROM tasks WHERE id = ANY(%s)",
                       (unique_ids(ids),), make))


def _newest_first(where: list[str], params: list, first: int, after: str | None):
    place = cursors.decode(after, datetime, UUID)
    if place:
        where.append("(created_at, id) < (%s, %s)")
        params.extend(place)
    condition = " AND ".join(where) or "true"
    return (f"SELECT {COLUMNS} FROM tasks WHERE {condition} "
            "ORDER BY created_at DESC, id DESC LIMIT %s", [*params, first])


def of_requester(conn: psycopg.Connection, requester_id: UUID, status: str | None,
                 first: int, after: str | None) -> list[TaskRow]:
    where, params = ["requester_id = %s"], [requester_id]
    if status:
        where.append("status = %s")
        params.append(status)
    return fetch(conn, *_newest_first(where, params, first, after), make)


def everything(conn: psycopg.Connection, status: str | None, skill: str | None,
               first: int, after: str | None) -> list[TaskRow]:
    where: list[str] = []
    params: list = []
    if status:
        where.append("status = %s")
        params.append(status)
    if skill:
        where.append("%s = ANY(required_skills)")
        params.append(skill.strip().lower())
    return fetch(conn, *_newest_first(where, params, first, after), make)
