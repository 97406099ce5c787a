"""The event store's recorder: eventsourcing's PostgreSQL recorder with group commit.

Why: the library's recorder takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` for every save and
holds it through the commit's WAL flush, so saves run one at a time however many callers
there are (~800/s here). The lock is what keeps the log gap-free for followers: a
notification id is drawn from a sequence at insert time but becomes visible at commit, so
without it a later id can commit before an earlier one and a follower reading
``notification_id > last`` would pass over the earlier one for good. (The library's
``POSTGRES_ENABLE_DB_FUNCTIONS`` mode drops the lock and so has exactly that hole.)

What: keep the lock, but take it once for many saves. Concurrent ``insert_events`` calls
are gathered by :class:`GroupCommit` and written by one call of a PL/pgSQL function in one
transaction: lock the table, find which saves clash with stored events, insert the others'
events in arrival order, commit. Ids are still handed out and made visible one batch at a
time, in order, so the log stays gap-free and totally ordered.

Each save keeps its own outcome. A save whose (aggregate id, version) already exists, or
clashes with an earlier save in the same batch, is left out of the insert and its caller
gets eventsourcing's ``IntegrityError`` (the application's retry-on-conflict path); the
other saves of the batch commit. Should the batch fail on the primary key anyway (a writer
that does not take the lock), each save is retried in a transaction of its own.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresDatastore, PostgresFactory,
)
from eventsourcing.utils import retry
from psycopg.errors import DuplicateObject
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from .group_commit import GroupCommit

Save = list[StoredEvent]

APPEND_FUNCTION = SQL("""
CREATE OR REPLACE FUNCTION {schema}.{function}(
    saves int[], ids uuid[], versions bigint[], topics text[], states bytea[])
RETURNS TABLE (event_position bigint, event_notification_id bigint)
LANGUAGE plpgsql AS $body$
BEGIN
    SET LOCAL lock_timeout = '{lock_timeout}s';
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    NOTIFY {channel};
    RETURN QUERY
    WITH batch AS (
        SELECT * FROM unnest(saves, ids, versions, topics, states) WITH ORDINALITY
            AS b(save, originator_id, originator_version, topic, state, position)
    ), clashing AS (
        SELECT DISTINCT b.save FROM batch b
        JOIN {schema}.{table} e USING (originator_id, originator_version)
    ), inserted AS (
        INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)
        SELECT b.originator_id, b.originator_version, b.topic, b.state FROM batch b
        WHERE b.save NOT IN (SELECT c.save FROM clashing c)
        ORDER BY b.position
        RETURNING originator_id, originator_version, notification_id
    )
    SELECT b.position, i.notification_id
    FROM batch b LEFT JOIN inserted i USING (originator_id, originator_version)
    ORDER BY b.position;
END
$body$
""")


DDL_LOCK = "SELECT pg_advisory_xact_lock(hashtext('taskmarket-event-store-ddl'))"
MAX_IDENTIFIER = PostgresApplicationRecorder.MAX_IDENTIFIER_LEN
FEW_IDS = 4  # select_events_of: up to this many ids, one placeholder each (else an array)


def append_function_name(events_table_name: str) -> str:
    """``<table>_append_batch``; for a table name too long to carry the suffix, the name is
    cut and a hash of the whole name keeps it unique (PostgreSQL would silently truncate)."""
    table = events_table_name.replace(".", "_")
    name = f"{table}_append_batch"
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(table.encode()).hexdigest()[:8]
    suffix = f"_{digest}_append"
    return table[: MAX_IDENTIFIER - len(suffix)] + suffix


def _conflict() -> IntegrityError:
    return IntegrityError("version conflict: the aggregate was changed by another command")


def create_table_locked(recorder: Any) -> None:
    """Create a recorder's tables without racing other processes starting together.

    Processes starting together (serve and its workers) would otherwise race on CREATE TYPE /
    CREATE OR REPLACE FUNCTION and fail ("tuple concurrently updated", duplicate pg_type).
    So all the DDL runs in one transaction on one connection, behind a transaction-scoped
    advisory lock: start-ups are serialised, and a pool of a single connection is enough (a
    lock held on a second connection would wait forever for the pool). A type that exists
    already is skipped in a savepoint.
    """
    with recorder.datastore.get_connection() as conn, conn.transaction(), \
            conn.cursor() as curs:
        curs.execute(DDL_LOCK)
        for statement in recorder.sql_create_statements:
            if "CREATE TYPE" in statement.as_string():
                with contextlib.suppress(DuplicateObject), conn.transaction():
                    curs.execute(statement, prepare=False)
        recorder._create_table(curs)  # the library's: tables, indexes, functions
    recorder.datastore.register_type_adapters()


class LockedAggregateRecorder(PostgresAggregateRecorder):
    """The library's aggregate recorder (snapshots), its DDL under the same lock."""

    def create_table(self) -> None:
        create_table_locked(self)


class TaskmarketPostgresFactory(PostgresFactory):
    """The library's PostgreSQL factory with the snapshot recorder's DDL locked too."""

    aggregate_recorder_class = LockedAggregateRecorder


class GroupCommitRecorder(PostgresApplicationRecorder):
    """Application recorder whose concurrent saves share one locked transaction."""

    def __init__(self, datastore: PostgresDatastore, *,
                 events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        function = append_function_name(events_table_name)
        self.sql_create_statements.append(APPEND_FUNCTION.format(
            schema=Identifier(datastore.schema), function=Identifier(function),
            table=Identifier(events_table_name), channel=Identifier(self.channel_name),
            lock_timeout=datastore.lock_timeout,
        ))
        # The hot statements are rendered to text once (psycopg renders a composed statement
        # on every execute) and take binary parameters and results: arrays of uuid, bytea and
        # ints dump and load without text escaping (issue 14, a claim's profile).
        self._append_statement = SQL(
            "SELECT * FROM {schema}.{function}("
            "%b::int[], %b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"
        ).format(schema=Identifier(datastore.schema), function=Identifier(function)).as_string()
        self._group_commit: GroupCommit[Save, list[int]] = GroupCommit(self._write_saves)
        select = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id {ids} ORDER BY originator_id, originator_version")
        target = dict(schema=Identifier(datastore.schema), table=Identifier(events_table_name))
        self._select_many_statement = select.format(
            ids=SQL("= ANY(%b::uuid[])"), **target).as_string()
        # A command loads one to a few aggregates: for those, one placeholder per id.
        # PostgreSQL plans ``IN ($1, $2)`` as index probes where the array form takes a
        # bitmap scan and a sort (issue 14: ~35 us less server CPU per claim's load, and no
        # array to adapt in Python).
        self._select_few_statements = {
            count: select.format(ids=SQL("IN ({})").format(
                SQL(", ").join([SQL("%b::uuid")] * count)), **target).as_string()
            for count in range(1, FEW_IDS + 1)}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library
    def select_events_of(self, originator_ids: Sequence[Any]) -> list[StoredEvent]:
        """All events of several aggregates in one round trip (a command that loads two
        aggregates pays one query, one pool checkout), in version order per aggregate."""
        # Plain tuples: the pool's dict rows cost a row maker per query and a dict per row.
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row) as curs:
            ids = list(originator_ids)
            if 0 < len(ids) <= FEW_IDS:
                curs.execute(self._select_few_statements[len(ids)], ids, prepare=True,
                             binary=True)
            else:
                curs.execute(self._select_many_statement, (ids,), prepare=True, binary=True)
            return [StoredEvent(originator_id=originator_id, originator_version=version,
                                topic=topic, state=bytes(state))
                    for originator_id, version, topic, state in curs.fetchall()]

    def create_table(self) -> None:
        create_table_locked(self)

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        if kwargs.get("tracking") is not None:  # process applications keep the library path
            return super().insert_events(stored_events, **kwargs)
        if not stored_events:
            return None  # as the library's recorders: nothing written, no ids
        return self._group_commit.submit(list(stored_events))

    def _write_saves(self, saves: list[Save]) -> list[list[int] | BaseException]:
        outcomes: list[list[int] | BaseException] = [_conflict()] * len(saves)
        claimed: set[tuple[Any, int]] = set()
        admitted: list[int] = []
        for index, save in enumerate(saves):
            keys = {(e.originator_id, e.originator_version) for e in save}
            if len(keys) == len(save) and not keys & claimed:
                claimed |= keys
                admitted.append(index)
        if not admitted:
            return outcomes
        try:
            written = self._append([saves[i] for i in admitted])
        except IntegrityError:
            written = [self._append_alone(saves[i]) for i in admitted]
        for index, ids in zip(admitted, written):
            outcomes[index] = ids
        return outcomes

    def _append_alone(self, save: Save) -> list[int] | BaseException:
        try:
            return self._append([save])[0]
        except IntegrityError as conflict:
            return conflict

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library
    def _append(self, saves: list[Save]) -> list[list[int] | BaseException]:
        """Write ``saves`` in one transaction; per save its notification ids or a conflict."""
        events = [(n, e) for n, save in enumerate(saves) for e in save]
        params = (
            [n for n, _ in events], [e.originator_id for _, e in events],
            [e.originator_version for _, e in events], [e.topic for _, e in events],
            [e.state for _, e in events],
        )
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self._append_statement, params, prepare=True, binary=True)
            rows = curs.fetchall()
        ids_by_save: list[list[int | None]] = [[] for _ in saves]
        for (n, _), (_, notification_id) in zip(events, rows):
            ids_by_save[n].append(notification_id)
        return [_conflict() if None in ids else ids for ids in ids_by_save]  # type: ignore[misc]
