"""What an endpoint may receive, read from the `event_log` read model in log order."""

from __future__ import annotations

from uuid import UUID

import psycopg

from ..projections import event_log
from ..projections.rows import EventRow
from ..projections.sqlq import fetch
from .catalog import deliverable_types

head = event_log.head


def events_for(conn: psycopg.Connection, requester_id: UUID, event_types: list[str],
               after: int, limit: int) -> list[EventRow]:
    """The requester's deliverable events after ``after`` (of ``event_types`` if any).

    The types are always spelled out, so an event the catalog does not call deliverable
    can never be sent, whoever it belongs to.
    """
    allowed = deliverable_types()
    types = sorted(set(event_types) & allowed if event_types else allowed)
    return event_log.events(conn, after, limit, types, requester_id)


def event_at(conn: psycopg.Connection, position: int) -> EventRow | None:
    rows = fetch(conn, f"SELECT {event_log.COLUMNS} FROM event_log WHERE position = %s",
                 (position,), event_log.make)
    return rows[0] if rows else None
