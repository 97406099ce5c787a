"""Claims: who holds which slot of which task, in what status, until when."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from . import cursors
from .base import Handlers
from .rows import ClaimRow
from .sqlq import by_id, columns, fetch, unique_ids
from .store import Batch, Table

CLAIMS = Table("claims", ("id", "task_id", "worker_id", "requester_id", "status",
                          "claimed_at", "expires_at"), ("id",))
handlers = Handlers()


@handlers.on("TaskClaimed")
def claimed(batch: Batch, event: Any) -> None:
    task = batch["tasks"].get(event.originator_id)
    batch["claims"].put(dict(
        id=event.claim_id, task_id=event.originator_id, worker_id=event.worker_id,
        requester_id=task["requester_id"], status="ACTIVE", claimed_at=event.claimed_at,
        expires_at=event.expires_at))


def _set(batch: Batch, claim_id: UUID, status: str, expires_at: datetime | None = None) -> None:
    row = batch["claims"].get(claim_id)
    row["status"] = status
    if expires_at is not None:
        row["expires_at"] = expires_at
    batch["claims"].changed(row)


@handlers.on("TaskClaimReleased")
def released(batch: Batch, event: Any) -> None:
    _set(batch, event.claim_id, "RELEASED")


@handlers.on("TaskClaimExpired")
def expired(batch: Batch, event: Any) -> None:
    _set(batch, event.claim_id, "EXPIRED")


@handlers.on("TaskWorkSubmitted")
def submitted(batch: Batch, event: Any) -> None:
    _set(batch, event.claim_id, "SUBMITTED")


@handlers.on("TaskRevisionRequested")
def revision_requested(batch: Batch, event: Any) -> None:
    _set(batch, event.claim_id, "ACTIVE", event.expires_at)


# --- queries ----------------------------------------------------------------------------
FIELDS = [name for name in ClaimRow.__dataclass_fields__ if name != "cursor"]
COLUMNS = columns(FIELDS)


def make(row: dict) -> ClaimRow:
    return ClaimRow(**row, cursor=cursors.encode(row["claimed_at"], row["id"]))


def by_ids(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, ClaimRow]:
    return by_id(fetch(conn, f"SELECT {COLUMNS} FROM claims WHERE id = ANY(%s)",
                       (unique_ids(ids),), make))


def of_worker(conn: psycopg.Connection, worker_id: UUID, first: int,
              after: str | None) -> list[ClaimRow]:
    """A worker's claims, newest first."""
    place = cursors.decode(after, datetime, UUID)
    page = "AND (claimed_at, id) < (%s, %s)" if place else ""
    return fetch(conn, f"SELECT {COLUMNS} FROM claims WHERE worker_id = %s {page} "
                       "ORDER BY claimed_at DESC, id DESC LIMIT %s",
                 [worker_id, *(place or ()), first], make)


def expired_active(conn: psycopg.Connection, now: datetime, limit: int) -> list[ClaimRow]:
    """Active claims whose lease ran out by ``now``, the longest-expired first."""
    return fetch(conn, f"SELECT {COLUMNS} FROM claims WHERE status = 'ACTIVE' "
                       "AND expires_at <= %s ORDER BY expires_at LIMIT %s", (now, limit), make)
