"""One sitting of a runner: a connection per projection, and the pipelined catch-up.

While the projections apply batch k (each on its own connection, in a thread pool), the
log reader fetches and decodes batch k+1; the database's share of the work then runs on
the other core instead of in turn with ours. Each projection still applies its batches
in order: batch k+1 is handed out only after every projection finished batch k.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from eventsourcing.persistence import StoredEvent

from ...database import Database
from ...events import event_type
from ..base import Projection
from ..store import Batch
from ..tracking import EVENTS_TABLE, head, lock_position, save_position

Progress = Callable[[int, int], None]  # (position reached by all, target) after each batch


class Session:
    def __init__(self, database: Database, projections: list[Projection], mapper: Any,
                 batch_size: int):
        self.projections = projections
        self.names = [p.name for p in projections]
        self.mapper = mapper
        self.batch_size = batch_size
        self.reader = database.connect(autocommit=True)
        self.connections = {p.name: database.connect(autocommit=True) for p in projections}
        for conn in self.connections.values():
            # A commit lost in a server crash loses its rows and its position together,
            # so the events are simply applied again: exactly once holds without the wait.
            conn.execute("SET synchronous_commit = off")
        self.pool = ThreadPoolExecutor(max_workers=len(projections),
                                       thread_name_prefix="projection")

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for conn in (self.reader, *self.connections.values()):
            conn.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- catching up ------------------------------------------------------------------
    def head(self) -> int:
        return head(self.reader)

    def positions(self) -> dict[str, int]:
        found = dict(self.reader.execute(
            "SELECT name, position FROM projection_positions WHERE name = ANY(%s)",
            (self.names,)).fetchall())
        return {name: found.get(name, 0) for name in self.names}

    def catch_up(self, until: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event up to ``until`` (default: the head now); returns how many
        events were read from the log."""
        target = self.head() if until is None else until
        read = 0
        while True:
            low = min(self.positions().values())
            if low >= target:
                return read
            count = self._pipeline(low, target, progress)
            if count == 0:
                return read
            read += count

    def _pipeline(self, after: int, target: int, progress: Progress | None) -> int:
        read = 0
        running: list[Future] = []
        while after < target:
            events = self.read(after, target)
            self._finish(running)
            if progress and running:
                progress(after, target)
            if not events:
                break
            running = [self.pool.submit(self.apply, p, after, events)
                       for p in self.projections]
            read += len(events)
            after = events[-1][0]
        self._finish(running)
        if progress:
            progress(min(self.positions().values()), target)
        return read

    @staticmethod
    def _finish(running: list[Future]) -> None:
        for future in running:
            future.result()  # re-raises a projection's failure here

    def read(self, after: int, until: int) -> list[tuple[int, str, Any]]:
        """(notification id, public type, decoded event) of the next batch of the log."""
        rows = self.reader.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {EVENTS_TABLE} WHERE notification_id > %s AND notification_id <= %s "
            "ORDER BY notification_id LIMIT %s", (after, until, self.batch_size)).fetchall()
        decode = self.mapper.to_domain_event
        decoded = []
        for nid, originator_id, version, topic, state in rows:
            event = decode(StoredEvent(originator_id, version, topic, state))
            decoded.append((nid, event_type(event), event))
        return decoded

    def apply(self, projection: Projection, after: int,
              events: list[tuple[int, str, Any]]) -> None:
        """Apply a batch read from ``after`` to one projection, exactly once."""
        conn = self.connections[projection.name]
        with conn.transaction():
            position = lock_position(conn, projection.name)
            if position < after:
                return  # reset meanwhile (a rebuild): the next round reads from there
            todo = [item for item in events if item[0] > position]
            if not todo:
                return
            projection.apply(Batch(conn, projection.tables), todo)
            save_position(conn, projection.name, todo[-1][0])
