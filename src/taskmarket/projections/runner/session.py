"""One sitting of a runner: a connection per projection, and the pipelined catch-up.

While the projections apply batch k (each on its own connection, in a thread pool), the
log reader fetches and decodes batch k+1 (and moves the projections batch k does not
concern past it, in one statement); the database's share of the work then runs on
the other core instead of in turn with ours. Each projection still applies its batches
in order: batch k+1 is handed out only after every projection finished batch k.

A projection whose batch fails is recorded as failed (``failures.record_failure``). A
session that follows the log (``tolerate_failures``) then leaves it out for ``retry_after``
seconds and keeps the others going; a one-off catch-up (a rebuild) raises instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import psycopg

from ...database import Database
from ...metrics import PROJECTION_FAILURES
from ..base import Projection
from ..failures import ProjectionFailed, record_failure
from ..follower import LoggedEvent, LogReader, UnreadableEvent, commit_batch
from ..store import Batch


class ProjectionFollower:
    """A projection as a log follower: its batch writes go through a ``Batch``."""

    topics = None  # every event: a projection picks its types from the batch itself

    def __init__(self, projection: Projection):
        self.projection = projection
        self.name = projection.name

    def apply(self, conn: psycopg.Connection, events: list[LoggedEvent]) -> None:
        self.projection.apply(Batch(conn, self.projection.tables), events)


Progress = Callable[[int, int], None]  # (position reached by all, target) after each batch
log = logging.getLogger("taskmarket.projections")


class Session:
    def __init__(self, database: Database, projections: list[Projection], mapper: Any,
                 batch_size: int, tolerate_failures: bool = False, retry_after: float = 5.0):
        self.all_projections = projections
        self.tolerate_failures = tolerate_failures
        self.retry_after = retry_after
        self.resting: dict[str, float] = {}  # failed projection -> when to try it again
        self.followers = {p.name: ProjectionFollower(p) for p in projections}
        self.reader = database.connect(autocommit=True)
        # The reader also moves the positions of projections a batch does not concern; a
        # lost commit of those only reads events again that change nothing.
        self.reader.execute("SET synchronous_commit = off")
        self.reader.execute("INSERT INTO projection_positions (name) SELECT unnest(%s::text[]) "
                            "ON CONFLICT (name) DO NOTHING", ([p.name for p in projections],))
        self.log = LogReader(self.reader, mapper, batch_size)
        self.database = database
        # Opened on a projection's first batch: one no batch concerns needs none.
        self.connections: dict[str, psycopg.Connection] = {}
        self.pool = ThreadPoolExecutor(max_workers=len(projections),
                                       thread_name_prefix="projection")

    def _connection(self, name: str) -> psycopg.Connection:
        """The projection's own connection (only its apply, one batch at a time, asks)."""
        conn = self.connections.get(name)
        if conn is None:
            conn = self.connections[name] = self.database.connect(autocommit=True)
            # A commit lost in a server crash loses its rows and its position together,
            # so the events are simply applied again: exactly once holds without the wait.
            conn.execute("SET synchronous_commit = off")
        return conn

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for conn in (self.reader, *self.connections.values()):
            conn.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- which projections take part ---------------------------------------------------
    @property
    def projections(self) -> list[Projection]:
        """The projections to run now: all but those resting after a failure."""
        now = time.monotonic()
        return [p for p in self.all_projections if self.resting.get(p.name, 0.0) <= now]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.projections]

    # --- catching up ------------------------------------------------------------------
    def head(self) -> int:
        return self.log.head()

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
            low = min(self.positions().values(), default=target)
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
            try:
                events = self.read(after, target)
            except UnreadableEvent as unreadable:
                self._finish(running)
                self._cannot_read(unreadable)
                events = []
            self._finish(running)
            if progress and running:
                progress(after, target)
            if not events:
                break
            concerned = [p for p in self.projections if p.concerns(events)]
            running = [self.pool.submit(self.apply, p, after, events) for p in concerned]
            self._pass_over([p for p in self.projections if p not in concerned], after,
                            events[-1][0])
            read += len(events)
            after = events[-1][0]
        self._finish(running)
        if progress:
            progress(min(self.positions().values(), default=target), target)
        return read

    def _pass_over(self, projections: list[Projection], after: int, last: int) -> None:
        """Move projections that none of a batch's events concern past it, all in one
        statement instead of a transaction each (live, most batches concern a few). One
        whose position went back meanwhile (a rebuild) or is already past stays put."""
        if projections:
            self.reader.execute(
                "UPDATE projection_positions SET position = %s, updated_at = now(), "
                "error = NULL, failed_at = NULL, failures = 0 "
                "WHERE name = ANY(%s) AND position >= %s AND position < %s",
                (last, [p.name for p in projections], after, last))

    def _finish(self, running: list[Future]) -> None:
        failed = None
        for future in running:
            try:
                future.result()  # re-raises a projection's failure here
            except ProjectionFailed as error:
                failed = failed or error
                self.resting[error.projection] = time.monotonic() + self.retry_after
                log.error("%s; trying again in %s s", error, self.retry_after)
        if failed is not None and not self.tolerate_failures:
            raise failed

    def _cannot_read(self, unreadable: "UnreadableEvent") -> None:
        """An event no projection can decode stops every one that has not passed it."""
        reached = self.positions()
        failed = None
        for name, position in reached.items():
            if position < unreadable.notification_id:
                PROJECTION_FAILURES.labels(name).inc()
                record_failure(self.reader, name, unreadable.error)
                self.resting[name] = time.monotonic() + self.retry_after
                failed = failed or ProjectionFailed(name, position, unreadable.error)
                log.error("%s; trying again in %s s", failed, self.retry_after)
        if failed is not None and not self.tolerate_failures:
            raise failed

    def read(self, after: int, until: int) -> list[LoggedEvent]:
        """(notification id, public type, decoded event) of the next batch of the log."""
        return self.log.read(after, until)

    def apply(self, projection: Projection, after: int, events: list[LoggedEvent]) -> None:
        """Apply a batch read from ``after`` to one projection, exactly once.

        When the batch fails, its events are applied one at a time, so the projection
        stops right before the event it cannot apply and the failure names that spot.
        """
        conn = self._connection(projection.name)
        try:
            try:
                self._apply(conn, projection, after, events)
            except psycopg.OperationalError:
                raise
            except Exception:  # noqa: BLE001 - find the one event that fails
                if len(events) == 1:
                    raise
                for item in events:
                    self._apply(conn, projection, after, [item])
        except psycopg.OperationalError:
            raise  # the database went away: the runner reconnects, nothing to record
        except Exception as error:  # noqa: BLE001 - any handler bug stalls this projection
            PROJECTION_FAILURES.labels(projection.name).inc()
            position = record_failure(conn, projection.name, error)
            raise ProjectionFailed(projection.name, position, error) from error

    def _apply(self, conn: psycopg.Connection, projection: Projection, after: int,
               events: list[LoggedEvent]) -> None:
        commit_batch(conn, self.followers[projection.name], after, events)
