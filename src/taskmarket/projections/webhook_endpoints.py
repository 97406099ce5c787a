"""Webhook endpoints as the API lists them: URL, event types, on or off (and why), owner.

Only what the endpoints' events say publicly (the secret's hash stays in the event
store). Delivery progress (cursor, retries, leases) is not here: it changes on every POST
and lives in the webhook delivery tables, which are not rebuildable from the log.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from . import cursors
from .base import Handlers, Projection
from .rows import WebhookEndpointRow
from .sqlq import columns, fetch
from .store import Batch, Table

WEBHOOK_ENDPOINTS = Table("webhook_endpoints", (
    "id", "requester_id", "url", "event_types", "enabled", "disabled_reason", "audience",
    "created_at", "version"), ("id",))
handlers = Handlers()


@handlers.on("WebhookEndpointCreated")
def created(batch: Batch, event: Any) -> None:
    batch["webhook_endpoints"].put(dict(
        id=event.originator_id, requester_id=event.requester_id, url=event.url,
        event_types=list(event.event_types), enabled=True, disabled_reason=None,
        # endpoints created before audiences existed were their requester's
        audience=getattr(event, "audience", None) or "REQUESTER",
        created_at=event.created_at, version=event.originator_version))


def _change(batch: Batch, event: Any, **values: Any) -> None:
    table = batch["webhook_endpoints"]
    row = table.get(event.originator_id)
    row.update(values, version=event.originator_version)
    table.changed(row)


@handlers.on("WebhookEndpointUpdated")
def updated(batch: Batch, event: Any) -> None:
    row = batch["webhook_endpoints"].get(event.originator_id)
    _change(batch, event, url=event.url, event_types=list(event.event_types),
            audience=getattr(event, "audience", None) or row["audience"])


@handlers.on("WebhookEndpointDisabled")
def disabled(batch: Batch, event: Any) -> None:
    _change(batch, event, enabled=False, disabled_reason=event.reason)


@handlers.on("WebhookEndpointEnabled")
def enabled(batch: Batch, event: Any) -> None:
    _change(batch, event, enabled=True, disabled_reason=None)


def _preload(batch: Batch, events: list[tuple[str, Any]]) -> None:
    batch["webhook_endpoints"].preload(e.originator_id for kind, e in events
                                       if kind != "WebhookEndpointCreated")


PROJECTION = Projection("webhook_endpoints", [WEBHOOK_ENDPOINTS], [handlers],
                        preload=_preload)

# --- queries ----------------------------------------------------------------------------
_COLUMNS = columns(WebhookEndpointRow.__dataclass_fields__.keys() - {"cursor"})


def _make(row: dict) -> WebhookEndpointRow:
    return WebhookEndpointRow(**row, cursor=cursors.encode(row["id"]))


def page(conn: psycopg.Connection, requester_id: UUID | None, first: int,
         after: str | None) -> list[WebhookEndpointRow]:
    """Endpoints (of one requester, or all when None) in id order, from a keyset cursor
    on: one query per page."""
    place = cursors.decode(after, UUID)
    return fetch(conn, f"""
        SELECT {_COLUMNS} FROM webhook_endpoints
         WHERE (%(requester)s::uuid IS NULL OR requester_id = %(requester)s)
           AND (%(after)s::uuid IS NULL OR id > %(after)s)
         ORDER BY id LIMIT %(first)s""",
                 dict(requester=requester_id, after=place[0] if place else None,
                      first=first), _make)
