"""One way to follow the event store's log: batched reads, position kept with the writes.

Everything derived from the log follows it the same way: the projections (the runner), the
outbox (``jobs/dispatcher.py``) and the webhook delivery state (``webhooks/sync.py``).

- A **follower** has a name (its row in ``projection_positions``), the topics it wants
  (None: every event) and ``apply(conn, events)``, which writes what the events call for
  on ``conn``.
- ``commit_batch`` runs ``apply`` in one transaction with the position row locked and
  moved: a crash loses the batch's writes and its position together, so the next run
  starts after the last committed batch (exactly once for rows; a follower with effects
  outside the database, like sending messages, repeats them: at least once).
- ``LogReader`` reads the log in batches, in notification id order, and decodes them. The
  event store writes under an exclusive table lock, so ids are committed in order: a reader
  never sees a later id before an earlier one. A follower of a few topics moves its
  position to the head it read up to, so it does not scan the same other events again.
- ``LogFollower`` runs one follower: ``step`` reads and commits one batch, ``run`` keeps
  going, woken by the recorder's NOTIFY on every append (``wait_for_append``).

The projection runner applies one read to many projections in parallel (decoding
dominates the cost of a read): it uses ``LogReader``, ``commit_batch`` and
``wait_for_append`` directly rather than one ``LogFollower`` per projection.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from ..database import Database
from ..events import event_type
from .tracking import EVENTS_CHANNEL, EVENTS_TABLE, head, lock_position, save_position

log = logging.getLogger(__name__)

# (notification id, public event type, decoded event)
LoggedEvent = tuple[int, str, Any]


class Follower(Protocol):
    name: str
    topics: Sequence[str] | None

    def apply(self, conn: psycopg.Connection, events: list[LoggedEvent]) -> None:
        """Write what ``events`` call for, on ``conn`` (inside the batch's transaction)."""


class UnreadableEvent(Exception):
    """A stored event the mapper cannot decode (unknown topic, corrupt state)."""

    def __init__(self, notification_id: int, error: BaseException):
        super().__init__(f"event {notification_id} cannot be decoded: {error!r}")
        self.notification_id = notification_id
        self.error = error


class LogReader:
    """Reads batches of the log after a position, decoded, on one connection."""

    def __init__(self, conn: psycopg.Connection, mapper: Any, batch_size: int,
                 topics: Sequence[str] | None = None):
        self.conn = conn
        self.mapper = mapper
        self.batch_size = batch_size
        self.topics = list(topics) if topics is not None else None
        where = "notification_id > %s AND notification_id <= %s"
        if self.topics is not None:
            where += " AND topic = ANY(%s)"
        self._query = (f"SELECT notification_id, originator_id, originator_version, topic, "
                       f"state FROM {EVENTS_TABLE} WHERE {where} "
                       "ORDER BY notification_id LIMIT %s")

    def head(self) -> int:
        return head(self.conn)

    def read(self, after: int, until: int) -> list[LoggedEvent]:
        """The next batch after ``after`` up to ``until``. An event that cannot be decoded
        ends the batch before it; first in a batch, it raises ``UnreadableEvent``."""
        params: list[Any] = [after, until]
        if self.topics is not None:
            params.append(self.topics)
        rows = self.conn.execute(self._query, [*params, self.batch_size]).fetchall()
        decode = self.mapper.to_domain_event
        decoded = []
        for nid, originator_id, version, topic, state in rows:
            try:
                event = decode(StoredEvent(originator_id, version, topic, state))
            except Exception as error:  # noqa: BLE001 - a stored event we cannot decode
                if decoded:
                    break  # apply those before it; the next read starts at this one
                raise UnreadableEvent(nid, error) from error
            decoded.append((nid, event_type(event), event))
        return decoded

    def reached(self, events: list[LoggedEvent], until: int) -> int | None:
        """How far a filtered read has seen the log: ``until`` when the batch was not full
        (no event of the topics lies between); None to keep the last event's id."""
        if self.topics is not None and len(events) < self.batch_size:
            return until
        return None


def commit_batch(conn: psycopg.Connection, follower: Follower, after: int,
                 events: list[LoggedEvent], reached: int | None = None) -> bool:
    """Apply a batch read after ``after`` and move the follower's position, in one
    transaction; events it already applied are left out. False when its position went
    back meanwhile (a rebuild reset it): the next read starts from there."""
    with conn.transaction():
        position = lock_position(conn, follower.name)
        if position < after:
            return False
        _apply(conn, follower, position, events, reached)
        return True


def _apply(conn: psycopg.Connection, follower: Follower, position: int,
           events: list[LoggedEvent], reached: int | None) -> None:
    """(Inside the transaction holding the position row.) The position becomes the last
    event's id, or ``reached`` when that is further."""
    todo = [item for item in events if item[0] > position]
    if todo:
        follower.apply(conn, todo)
    last = max(todo[-1][0] if todo else position, reached or 0)
    if last > position:
        save_position(conn, follower.name, last)


def wait_for_append(listener: psycopg.Connection, timeout: float) -> None:
    """Return at the event store's next NOTIFY (an append), or after ``timeout``."""
    for _ in listener.notifies(timeout=timeout, stop_after=1):
        pass


def listen(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(EVENTS_CHANNEL)))


class LogFollower:
    """Runs one follower over the log. ``exclusive`` names an advisory lock: one process
    follows at a time and the others stand by (for followers with outside effects).
    ``database`` is needed only to ``run`` (``step`` is given its connection)."""

    def __init__(self, database: Database | None, follower: Follower, mapper: Any,
                 batch_size: int = 500, exclusive: str | None = None):
        self.database = database
        self.follower = follower
        self.mapper = mapper
        self.batch_size = batch_size
        self.exclusive = exclusive

    def step(self, conn: psycopg.Connection, skip_locked: bool = False) -> int:
        """Read and commit the next batch on ``conn``; how many events it applied. With
        ``skip_locked`` a step finding another process at it does nothing."""
        reader = LogReader(conn, self.mapper, self.batch_size, self.follower.topics)
        with conn.transaction():
            if skip_locked:
                position = _try_lock(conn, self.follower.name)
                if position is None:
                    return 0
            else:
                position = lock_position(conn, self.follower.name)
            until = reader.head()
            events = reader.read(position, until)
            _apply(conn, self.follower, position, events, reader.reached(events, until))
            return len(events)

    def catch_up(self, conn: psycopg.Connection) -> int:
        """Apply every event up to the head; how many were applied."""
        applied = 0
        while (count := self.step(conn)) > 0:
            applied += count
        return applied

    def run(self, stop: threading.Event, idle_wait: float = 0.5) -> None:
        """Follow the log until ``stop`` is set, woken by every append (or after
        ``idle_wait``); survives database restarts and bugs (logged, then again)."""
        while not stop.is_set():
            try:
                self._follow(stop, idle_wait)
            except Exception:  # noqa: BLE001 - a bug or an outage must not stop following
                log.exception("%s: following the log failed; starting again",
                              self.follower.name)
                stop.wait(1.0)

    def _follow(self, stop: threading.Event, idle_wait: float) -> None:
        assert self.database is not None, "a follower that runs needs its database"
        with (self.database.connect(autocommit=True) as listener,
              self.database.connect(autocommit=True) as conn):
            if self.exclusive is not None:
                while not stop.is_set() and not listener.execute(
                        "SELECT pg_try_advisory_lock(hashtext(%s))",
                        (self.exclusive,)).fetchone()[0]:
                    stop.wait(1.0)
            listen(listener)
            while not stop.is_set():
                if self.step(conn) < self.batch_size:
                    wait_for_append(listener, idle_wait)


def _try_lock(conn: psycopg.Connection, name: str) -> int | None:
    """Lock the position row (created when missing) unless another transaction holds it;
    the position, or None when it is taken."""
    select = "SELECT position FROM projection_positions WHERE name = %s FOR UPDATE SKIP LOCKED"
    found = conn.execute(select, (name,)).fetchone()
    if found is None:  # taken, or missing: a held row is not waited for by the insert
        conn.execute("INSERT INTO projection_positions (name) VALUES (%s) "
                     "ON CONFLICT (name) DO NOTHING", (name,))
        found = conn.execute(select, (name,)).fetchone()
    return None if found is None else found[0]
