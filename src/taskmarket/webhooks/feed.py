"""What an endpoint may receive, read from the `event_log` read model in log order.

An endpoint receives what the key that configured it may read of its requester's events
(``event_visibility``, the rule the events query and subscription use), narrowed to the
types the catalog calls deliverable and the endpoint asked for.
"""

from __future__ import annotations

import psycopg

from ..domain import Role
from ..event_visibility import EventVisibility, endpoint_visibility
from ..projections import event_log
from ..projections.rows import EventRow
from ..projections.sqlq import fetch
from .catalog import visible_types
from .store import EndpointState

head = event_log.head


def visibility(state: EndpointState) -> EventVisibility:
    return endpoint_visibility(Role(state.audience), state.requester_id)


def events_for(conn: psycopg.Connection, state: EndpointState, after: int,
               limit: int) -> list[EventRow]:
    """The endpoint's events after ``after``: visible, deliverable, of its types if any.

    The types are always spelled out, so an event the catalog does not call deliverable,
    or the endpoint's key may not read, can never be sent, whoever it belongs to.
    """
    allowed = visible_types(visibility(state))
    types = sorted(set(state.event_types) & allowed if state.event_types else allowed)
    if not types:
        return []
    return event_log.events(conn, after, limit, types, state.requester_id)


def shows(state: EndpointState, event: EventRow) -> bool:
    """Whether the endpoint may receive ``event`` now (a redelivery checks again)."""
    return (visibility(state).shows(event.aggregate_kind, event.requester_id)
            and event.type in visible_types(visibility(state)))


def event_at(conn: psycopg.Connection, position: int) -> EventRow | None:
    rows = fetch(conn, f"SELECT {event_log.COLUMNS} FROM event_log WHERE position = %s",
                 (position,), event_log.make)
    return rows[0] if rows else None
