"""The log's hash chain: tamper evidence for finance and auditors.

Each event's link is ``sha256(previous link + canonical JSON of the event)`` in hex, where
the canonical JSON (keys sorted, no whitespace, UTF-8) holds the event's gap-free
``position``, ``aggregateId``, ``aggregateVersion``, ``type``, ``occurredAt`` (ISO 8601)
and ``data`` (its public body). The first event's previous link is 64 zeros. The links are
computed as the event_log projection writes the log, so a rebuild recomputes the same
values; `taskmarket audit verify` recomputes them from the event store and names the first
event whose stored link it cannot reproduce.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

import orjson
import psycopg

from ..events import to_json_value
from .store import Table

GENESIS = "0" * 64
HASHES = Table("event_hashes", ("position", "notification_id", "hash"), ("position",),
               kind="append")


def canonical_json(position: int, aggregate_id: UUID, aggregate_version: int, kind: str,
                   occurred_at: Any, data: dict[str, Any]) -> bytes:
    # orjson writes UUIDs, datetimes (ISO 8601) and enums natively exactly as
    # `to_json_value` spells them (which handles the rest), without a pass in Python.
    record = {"position": position, "aggregateId": aggregate_id,
              "aggregateVersion": aggregate_version, "type": kind,
              "occurredAt": occurred_at, "data": data}
    return orjson.dumps(record, default=to_json_value,
                        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def chained_hash(previous: str, record: bytes) -> str:
    return hashlib.sha256(previous.encode("ascii") + record).hexdigest()


def previous_link(conn: psycopg.Connection, position: int) -> str:
    """The stored link of ``position`` (the genesis value for position 0)."""
    if position <= 0:
        return GENESIS
    row = conn.execute("SELECT hash FROM event_hashes WHERE position = %s",
                       (position,)).fetchone()
    if row is None:
        raise LookupError(f"no hash is stored for position {position}")
    return row[0]


def head(conn: psycopg.Connection) -> tuple[int, str]:
    """The latest position of the chain and its link ((0, genesis) for an empty log)."""
    row = conn.execute("SELECT position, hash FROM event_hashes "
                       "ORDER BY position DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)
