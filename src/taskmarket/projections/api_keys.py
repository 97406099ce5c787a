"""API keys as an ADMIN lists them: name, role, subject, issued and revoked times.

Only what the key's events say publicly: the secret's hash stays in the event store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from . import cursors
from .base import Handlers, Projection
from .rows import ApiKeyRow
from .sqlq import by_id, columns, fetch, unique_ids
from .store import Batch, Table

API_KEYS = Table("api_keys", ("id", "name", "role", "subject_id", "created_at",
                              "revoked_at", "version"), ("id",))
handlers = Handlers()


@handlers.on("ApiKeyIssued")
def issued(batch: Batch, event: Any) -> None:
    batch["api_keys"].put(dict(
        id=event.originator_id, name=event.name, role=str(event.role),
        subject_id=event.subject_id, created_at=event.timestamp, revoked_at=None,
        version=event.originator_version))


@handlers.on("ApiKeyRevoked")
def revoked(batch: Batch, event: Any) -> None:
    row = batch["api_keys"].get(event.originator_id)
    row["revoked_at"] = event.timestamp
    row["version"] = event.originator_version
    batch["api_keys"].changed(row)


def _preload(batch: Batch, events: list[tuple[str, Any]]) -> None:
    batch["api_keys"].preload(e.originator_id for kind, e in events
                              if kind != "ApiKeyIssued")


PROJECTION = Projection("api_keys", [API_KEYS], [handlers], preload=_preload)

# --- queries ----------------------------------------------------------------------------
_COLUMNS = columns(ApiKeyRow.__dataclass_fields__.keys() - {"cursor"})


def _make(row: dict) -> ApiKeyRow:
    return ApiKeyRow(**row, cursor=cursors.encode(row["created_at"], row["id"]))


def page(conn: psycopg.Connection, first: int, after: str | None) -> list[ApiKeyRow]:
    """Keys oldest first, from a keyset cursor on."""
    place = cursors.decode(after, datetime, UUID)
    where = "WHERE (created_at, id) > (%s, %s)" if place else ""
    return fetch(conn, f"SELECT {_COLUMNS} FROM api_keys {where} "
                       "ORDER BY created_at, id LIMIT %s", [*(place or ()), first], _make)


def by_ids(conn: psycopg.Connection, ids: list[UUID]) -> dict[UUID, ApiKeyRow]:
    return by_id(fetch(conn, f"SELECT {_COLUMNS} FROM api_keys WHERE id = ANY(%s)",
                       (unique_ids(ids),), _make))
