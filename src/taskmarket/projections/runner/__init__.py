"""Keeps projections up to date: catch up in batches, then follow the log live.

Exactly once: for each batch, each projection locks its position row, applies the
events past that position and writes its rows and new position in one transaction. A
crash loses only uncommitted work; the next run starts after the committed position.

The log is read once per batch for all projections (decoding dominates the cost), in
notification id order, with the pieces every log follower uses (``projections/follower.py``). The event store writes under an exclusive table lock, so ids are
committed in order: a reader never sees a later id before an earlier one, and a missing id
is one whose insert rolled back — it never appears, and nothing waits for it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from ...database import Database
from ...persistence.mapping import event_mapper
from ..base import Projection
from ..registry import select
from ..follower import listen, wait_for_append
from ..tracking import lock_position, save_position
from .session import Progress, Session

log = logging.getLogger(__name__)
# Events per transaction while catching up; the env override lets tests stop mid-way.
BATCH_SIZE = int(os.environ.get("TASKMARKET_PROJECTION_BATCH", "5000"))
FAILURE_PAUSE = float(os.environ.get("TASKMARKET_PROJECTION_RETRY_SECONDS", "5"))


def _mapper(database: Database) -> Any:
    """The event store's mapper (transcoder), without opening a second connection pool."""
    return event_mapper(database.eventsourcing_env())


class ProjectionRunner:
    """Runs projections (by name or object; all when None) against one database."""

    def __init__(self, database: Database,
                 projections: Sequence[str | Projection] | None = None,
                 batch_size: int = BATCH_SIZE, mapper: Any = None):
        self.database = database
        names = [p for p in projections or () if isinstance(p, str)]
        objects = [p for p in projections or () if isinstance(p, Projection)]
        self.projections = objects + (select(names) if names or not objects else [])
        self.batch_size = batch_size
        self.mapper = mapper or _mapper(database)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.projections]

    # --- catching up ------------------------------------------------------------------
    def session(self, tolerate_failures: bool = False) -> Session:
        """Open connections (one per projection) for a series of catch-ups. With
        ``tolerate_failures`` a failing projection rests while the others go on."""
        return Session(self.database, self.projections, self.mapper, self.batch_size,
                       tolerate_failures=tolerate_failures, retry_after=FAILURE_PAUSE)

    def catch_up(self, until: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event up to ``until`` (default: the head now); returns the count
        of events read from the log."""
        with self.session() as session:
            return session.catch_up(until, progress)

    # --- rebuilding -------------------------------------------------------------------
    def reset(self) -> None:
        """Empty the projections' tables and put them back at position 0, atomically."""
        with self.database.connect(autocommit=True) as conn:
            for projection in self.projections:
                with conn.transaction():
                    lock_position(conn, projection.name)
                    conn.execute(sql.SQL("TRUNCATE {}").format(
                        sql.SQL(", ").join(map(sql.Identifier, projection.table_names))))
                    save_position(conn, projection.name, 0)

    def rebuild(self, progress: Progress | None = None) -> int:
        self.reset()
        return self.catch_up(progress=progress)

    # --- following the log ------------------------------------------------------------
    def run_forever(self, stop: threading.Event, idle_wait: float = 1.0) -> None:
        """Catch up, then apply new events as the event store announces them, until
        ``stop`` is set. Survives database restarts (reconnects) and a failing handler
        (recorded where /readyz and `projections status` show it, retried after a pause;
        the other projections keep going)."""
        while not stop.is_set():
            try:
                self._follow(stop, idle_wait)
            except psycopg.OperationalError as error:
                log.warning("projection runner lost the database (%s); retrying", error)
                stop.wait(1.0)
            except Exception:  # noqa: BLE001 - a bug must not silently stop the read models
                log.exception("a projection failed; retrying in %s s", FAILURE_PAUSE)
                stop.wait(FAILURE_PAUSE)

    def _follow(self, stop: threading.Event, idle_wait: float) -> None:
        with (self.database.connect(autocommit=True) as listener,
              self.session(tolerate_failures=True) as session):
            listen(listener)
            while not stop.is_set():
                session.catch_up()
                # Wake on the recorder's NOTIFY, or after idle_wait to notice `stop`.
                wait_for_append(listener, idle_wait)

    def start_in_thread(self, idle_wait: float = 1.0) -> "RunnerThread":
        return RunnerThread(self, idle_wait)


class RunnerThread:
    """A runner following the log in a daemon thread; ``stop()`` ends it."""

    def __init__(self, runner: ProjectionRunner, idle_wait: float = 1.0):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=runner.run_forever,
                                       args=(self.stop_event, idle_wait),
                                       name="projections", daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()


