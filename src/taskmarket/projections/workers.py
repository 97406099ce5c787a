"""Workers: name, skills and the Stripe connected account payouts go to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from . import cursors
from .base import Handlers, Projection
from .rows import WorkerRow
from .sqlq import by_id, columns, fetch, unique_ids
from .store import Batch, Table

WORKERS = Table("workers", ("id", "name", "skills", "stripe_account_id",
                            "payout_account_status", "requirements_due", "created_at",
                            "version"), ("id",))
handlers = Handlers()


def _row(batch: Batch, event: Any) -> dict:
    return batch["workers"].change(event.originator_id, version=event.originator_version)


@handlers.on("WorkerRegistered")
def registered(batch: Batch, event: Any) -> None:
    batch["workers"].put(dict(
        id=event.originator_id, name=event.name, skills=list(event.skills),
        stripe_account_id=None, payout_account_status=None, requirements_due=[],
        created_at=event.timestamp, version=event.originator_version))


@handlers.on("WorkerSkillsChanged")
def skills_changed(batch: Batch, event: Any) -> None:
    _row(batch, event)["skills"] = list(event.skills)


@handlers.on("WorkerPayoutAccountLinked")
def account_linked(batch: Batch, event: Any) -> None:
    _row(batch, event).update(stripe_account_id=event.account_id, payout_account_status=None,
                              requirements_due=[])


@handlers.on("WorkerPayoutAccountStatusChanged")
def account_status_changed(batch: Batch, event: Any) -> None:
    _row(batch, event).update(payout_account_status=event.status,
                              requirements_due=list(event.requirements_due))


def _preload(batch: Batch, events: list[tuple[str, Any]]) -> None:
    batch["workers"].preload(e.originator_id for kind, e in events
                             if kind != "WorkerRegistered")


PROJECTION = Projection("workers", [WORKERS], [handlers], preload=_preload)

# --- queries ----------------------------------------------------------------------------
_COLUMNS = columns(WorkerRow.__dataclass_fields__.keys() - {"cursor"})


def _make(row: dict) -> WorkerRow:
    return WorkerRow(**row, cursor=cursors.encode(row["created_at"], row["id"]))


def by_ids(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, WorkerRow]:
    return by_id(fetch(conn, f"SELECT {_COLUMNS} FROM workers WHERE id = ANY(%s)",
                       (unique_ids(ids),), _make))


def by_stripe_account(conn: psycopg.Connection, account_id: str) -> list[WorkerRow]:
    return fetch(conn, f"SELECT {_COLUMNS} FROM workers WHERE stripe_account_id = %s",
                 (account_id,), _make)


def page(conn: psycopg.Connection, skill: str | None, first: int,
         after: str | None) -> list[WorkerRow]:
    """Workers oldest first (those with ``skill`` when given), from a keyset cursor on."""
    place = cursors.decode(after, datetime, UUID)
    where = ["(created_at, id) > (%s, %s)"] if place else []
    params: list = list(place or ())
    if skill is not None:
        where.append("%s = ANY(skills)")
        params.append(skill)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return fetch(conn, f"SELECT {_COLUMNS} FROM workers {clause} "
                       "ORDER BY created_at, id LIMIT %s", [*params, first], _make)
