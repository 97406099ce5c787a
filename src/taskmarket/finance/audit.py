"""Recomputing the log's hash chain from the event store (`taskmarket audit verify`).

Each stored link is checked against the link recomputed from the stored event and the
previous *stored* link, so an edited event is named on its own, not every event after it.
A chain rewritten consistently from some event on passes this check but changes the head:
that is what the head finance wrote down elsewhere (``auditHead``) is compared with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import StoredEvent

from ..database import Database
from ..events import event_fields, event_type
from ..projections import audit_chain
from ..projections.tracking import EVENTS_TABLE

BATCH = 2000


@dataclass(frozen=True)
class Mismatch:
    position: int
    notification_id: int | None
    description: str


@dataclass(frozen=True)
class Verdict:
    checked: int
    head_position: int
    head_hash: str
    mismatch: Mismatch | None

    @property
    def ok(self) -> bool:
        return self.mismatch is None


def _stored_links(conn: Any, start: int) -> Iterator[list[tuple[int, int, str]]]:
    position = start
    while True:
        rows = conn.execute("SELECT position, notification_id, hash FROM event_hashes "
                            "WHERE position >= %s ORDER BY position LIMIT %s",
                            (position, BATCH)).fetchall()
        if not rows:
            return
        yield rows
        position = rows[-1][0] + 1


def _events(conn: Any, after_nid: int, until_nid: int) -> list[tuple]:
    return conn.execute(
        f"SELECT notification_id, originator_id, originator_version, topic, state "
        f"FROM {EVENTS_TABLE} WHERE notification_id > %s AND notification_id <= %s "
        "ORDER BY notification_id", (after_nid, until_nid)).fetchall()


def _describe(position: int, row: tuple, decoded: Any) -> str:
    nid, originator_id, version, topic, _ = row
    kind = event_type(decoded) if decoded is not None else topic.rpartition(":")[2]
    return f"event at position {position} ({kind}, version {version} of {originator_id})"


def _recompute(mapper: Any, position: int, row: tuple, previous: str) -> tuple[str | None, Any]:
    nid, originator_id, version, topic, state = row
    try:
        event = mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))
    except Exception:  # noqa: BLE001 - an edit can make the stored bytes undecodable
        return None, None
    record = audit_chain.canonical_json(position, event.originator_id,
                                        event.originator_version, event_type(event),
                                        event.timestamp, event_fields(event))
    return audit_chain.chained_hash(previous, record), event


def verify(database: Database, mapper: Any, start: int = 1,
           progress: Callable[[int], None] | None = None) -> Verdict:
    """Check the chain from position ``start`` to its head; the first mismatch, if any."""
    start = max(1, start)
    checked = 0
    with database.connect(autocommit=True) as conn:
        head_position, head_hash = audit_chain.head(conn)
        previous = audit_chain.previous_link(conn, start - 1)
        row = conn.execute("SELECT notification_id FROM event_hashes WHERE position = %s",
                           (start - 1,)).fetchone()
        after_nid = row[0] if row else 0
        for links in _stored_links(conn, start):
            events = iter(_events(conn, after_nid, links[-1][1]))
            for position, nid, stored in links:
                event_row = next(events, None)
                if event_row is None or event_row[0] != nid:
                    what = ("is missing from the event store" if event_row is None or
                            event_row[0] > nid else "has an extra event before it")
                    return Verdict(checked, head_position, head_hash, Mismatch(
                        position, nid, f"event at position {position} (notification {nid}) "
                                       f"{what}"))
                recomputed, decoded = _recompute(mapper, position, event_row, previous)
                if recomputed != stored:
                    return Verdict(checked, head_position, head_hash, Mismatch(
                        position, nid, _describe(position, event_row, decoded)
                        + " does not match its hash"))
                previous = stored
                checked += 1
            after_nid = links[-1][1]
            if progress:
                progress(checked)
    return Verdict(checked, head_position, head_hash, None)


__all__ = ["Mismatch", "Verdict", "verify"]
