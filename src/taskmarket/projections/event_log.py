"""The global event log as partners and the API read it.

Each event gets a gap-free ``position`` (1, 2, 3...): the event store's notification ids
skip the numbers of rolled-back inserts, and the contract promises a gap-free log. Events
are tagged with the requester they belong to, for partner scoping: a task's events (its
claims and submissions too) and a payout's belong to their requester, a requester's own
events to itself; workers' and API keys' events to no requester.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from ..events import aggregate_kind, event_fields, event_type
from . import audit_chain, cursors
from .base import Handlers, Projection
from .rows import EventRow
from .sqlq import fetch
from .store import Batch, Table

EVENT_LOG = Table("event_log", ("position", "notification_id", "type", "aggregate_id",
                                "aggregate_kind", "aggregate_version", "occurred_at",
                                "requester_id", "data"),
                  ("position",), kind="append", json_columns=frozenset({"data"}))
OWNERS = Table("event_log_owners", ("aggregate_id", "requester_id"), ("aggregate_id",))
handlers = Handlers()
_CREATED_BY_REQUESTER = {"TaskPosted", "PayoutRequested", "BatchCreated"}
_OWNED_BY_REQUESTER = ("Task", "Payout", "Batch")


def _owner(batch: Batch, event: Any, kind: str) -> UUID | None:
    aggregate = aggregate_kind(event)
    if aggregate == "Requester":
        return event.originator_id
    if kind in _CREATED_BY_REQUESTER:
        batch["event_log_owners"].put(dict(aggregate_id=event.originator_id,
                                           requester_id=event.requester_id))
        return event.requester_id
    if aggregate in _OWNED_BY_REQUESTER:
        owner = batch["event_log_owners"].get(event.originator_id)
        return owner["requester_id"] if owner else None
    return None


def _next_position(batch: Batch) -> int:
    state = batch.extra
    if "event_log_head" not in state:
        state["event_log_head"] = batch.conn.execute(
            "SELECT coalesce(max(position), 0) FROM event_log").fetchone()[0]
    state["event_log_head"] += 1
    return state["event_log_head"]


def _chain(batch: Batch, position: int, kind: str, event: Any, data: dict) -> None:
    """Append the event's link of the hash chain (see audit_chain)."""
    state = batch.extra
    if "chain_head" not in state:
        state["chain_head"] = audit_chain.previous_link(batch.conn, position - 1)
    record = audit_chain.canonical_json(position, event.originator_id,
                                        event.originator_version, kind, event.timestamp, data)
    state["chain_head"] = audit_chain.chained_hash(state["chain_head"], record)
    batch["event_hashes"].append(dict(position=position, notification_id=batch.position,
                                      hash=state["chain_head"]))


@handlers.on("*")
def record(batch: Batch, event: Any) -> None:
    kind = event_type(event)
    position = _next_position(batch)
    data = event_fields(event)
    batch["event_log"].append(dict(
        position=position, notification_id=batch.position, type=kind,
        aggregate_id=event.originator_id, aggregate_kind=aggregate_kind(event),
        aggregate_version=event.originator_version, occurred_at=event.timestamp,
        requester_id=_owner(batch, event, kind), data=data))
    _chain(batch, position, kind, event, data)


def _preload(batch: Batch, events: list[tuple[str, Any]]) -> None:
    batch["event_log_owners"].preload(
        e.originator_id for kind, e in events
        if kind not in _CREATED_BY_REQUESTER and aggregate_kind(e) in _OWNED_BY_REQUESTER)


PROJECTION = Projection("event_log", [EVENT_LOG, OWNERS, audit_chain.HASHES], [handlers],
                        preload=_preload)

# --- queries ----------------------------------------------------------------------------
FIELDS = [name for name in EventRow.__dataclass_fields__ if name != "cursor"]
COLUMNS = ", ".join(FIELDS)


def make(row: dict) -> EventRow:
    return EventRow(**row, cursor=cursors.position_cursor(row["position"]))


def events(conn: psycopg.Connection, after: int, first: int, types: list[str] | None = None,
           requester_id: UUID | None = None) -> list[EventRow]:
    """Events past position ``after`` in log order, of some types and/or one requester.

    Each filter rides its own index; several types are merged from one index range each.
    """
    scope = "requester_id = %(requester)s AND " if requester_id is not None else ""
    params = {"after": after, "first": first, "requester": requester_id, "types": types}
    if not types:
        query = (f"SELECT {COLUMNS} FROM event_log WHERE {scope} position > %(after)s "
                 "ORDER BY position LIMIT %(first)s")
    else:
        query = f"""
            SELECT {COLUMNS} FROM event_log WHERE position IN (
                SELECT picked.position FROM unnest(%(types)s::text[]) AS t(type)
                CROSS JOIN LATERAL (
                    SELECT position FROM event_log
                    WHERE {scope} type = t.type AND position > %(after)s
                    ORDER BY position LIMIT %(first)s) AS picked
                ORDER BY picked.position LIMIT %(first)s)
            ORDER BY position"""
    return fetch(conn, query, params, make)


def of_aggregate(conn: psycopg.Connection, aggregate_id: UUID) -> list[EventRow]:
    """Every event of one aggregate (a task's: its claims and submissions too), oldest first."""
    return fetch(conn, f"SELECT {COLUMNS} FROM event_log WHERE aggregate_id = %s "
                       "ORDER BY position", (aggregate_id,), make)


def head(conn: psycopg.Connection) -> int:
    """The position of the last event in the log (0 when empty)."""
    return conn.execute("SELECT coalesce(max(position), 0) FROM event_log").fetchone()[0]
