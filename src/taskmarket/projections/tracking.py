"""Projection positions: how far each projection has applied the event store's log.

A projection's position is the notification id of the last event it applied; its rows
and its position are written in one transaction. The position row is locked FOR UPDATE
for the whole batch transaction, so two runners of one projection take turns, and the
second sees (and skips) what the first applied.
"""

from __future__ import annotations

import psycopg

EVENTS_TABLE = "taskmarket_events"
# The event store recorder NOTIFYs this channel (its table's name) on every insert.
EVENTS_CHANNEL = "taskmarket_events"


def lock_position(conn: psycopg.Connection, name: str) -> int:
    """Lock a projection's position row (creating it at 0) and return the position."""
    select = "SELECT position FROM projection_positions WHERE name = %s FOR UPDATE"
    found = conn.execute(select, (name,)).fetchone()
    if found is None:  # its first run: a concurrent first run waits on the unique key
        conn.execute("INSERT INTO projection_positions (name) VALUES (%s) "
                     "ON CONFLICT (name) DO NOTHING", (name,))
        found = conn.execute(select, (name,)).fetchone()
    return found[0]


def save_position(conn: psycopg.Connection, name: str, position: int) -> None:
    # Applying a batch (or a reset) ends a failure recorded by failures.record_failure.
    conn.execute("UPDATE projection_positions SET position = %s, updated_at = now(), "
                 "error = NULL, failed_at = NULL, failures = 0 WHERE name = %s",
                 (position, name))


def positions(conn: psycopg.Connection, names: list[str] | None = None) -> dict[str, int]:
    """Positions of projections (those never run are at 0)."""
    found = dict(conn.execute("SELECT name, position FROM projection_positions").fetchall())
    if names is None:
        from .registry import PROJECTIONS
        names = list(PROJECTIONS)
    return {name: found.get(name, 0) for name in names}


def head(conn: psycopg.Connection) -> int:
    """The notification id of the newest event in the store (0 when empty)."""
    return conn.execute(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
                        ).fetchone()[0]
