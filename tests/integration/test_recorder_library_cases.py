"""eventsourcing's own recorder test cases, run against our group-commit recorder.

The generic cases come from the installed library (``eventsourcing.tests.persistence``);
the PostgreSQL-specific ones follow what the library checks of its own PostgreSQL recorder:
a pool of one connection with no overflow and no waiting (so anything that needs two
connections at once fails), a table name of the maximum 63 characters, a named schema,
connections killed under the recorder, and the table lock's timeout.

Deliberate exceptions (skipped with the reason):
- text originator ids: our append function takes ``uuid[]``; every id in taskmarket is a UUID.
- ``POSTGRES_ENABLE_DB_FUNCTIONS``: the library's db-function mode drops the table lock and
  so can leave gaps for followers; our recorder always writes through its own function.
"""

from __future__ import annotations

import os
import threading
from uuid import uuid4

import pytest
from eventsourcing.persistence import OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.tests.persistence import ApplicationRecorderTestCase
from psycopg import sql

from taskmarket.database import Database
from taskmarket.persistence.recorder import GroupCommitRecorder, append_function_name

LONGEST_TABLE_NAME = "s" * 50 + "stored_events"
assert len(LONGEST_TABLE_NAME) == GroupCommitRecorder.MAX_IDENTIFIER_LEN


def close_all_connections(database: Database) -> None:
    """Kill every session on the test's database (as a restart or a proxy would)."""
    with database.with_dbname("postgres").connect(autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", (database.dbname,))


def event(originator_id=None, version: int = 1) -> StoredEvent:
    return StoredEvent(originator_id=originator_id or uuid4(), originator_version=version,
                       topic="topic1", state=b"state1")


@pytest.fixture(scope="module")
def recorder_database(pg_server: Database):
    """One empty database for these cases; each case starts from empty schemas."""
    database = pg_server.with_dbname(f"recorder_cases_{os.getpid()}")
    admin = pg_server.with_dbname("postgres")
    with admin.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(database.dbname)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database.dbname)))
    yield database
    with admin.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
            sql.Identifier(database.dbname)))


class OnEmbeddedPostgres:
    """Empty schemas per case and the pool the library's PostgreSQL tests use."""

    schema = "public"
    pool_size = 1
    max_overflow = 0
    max_waiting = 0

    @pytest.fixture(autouse=True)
    def _datastore(self, recorder_database: Database):
        self.database = database = recorder_database
        with database.connect(autocommit=True) as conn:
            for schema in ("public", "myschema"):  # tables, functions, types, sequences
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
        self.datastore = PostgresDatastore(
            database.dbname, database.host, database.port, database.user, database.password,
            pool_size=self.pool_size, max_overflow=self.max_overflow,
            max_waiting=self.max_waiting, schema=self.schema)
        yield
        self.datastore.close()

    def create_recorder(self, table_name: str = LONGEST_TABLE_NAME) -> GroupCommitRecorder:
        recorder = GroupCommitRecorder(self.datastore, events_table_name=table_name)
        recorder.create_table()
        return recorder


class TestGroupCommitRecorder(OnEmbeddedPostgres, ApplicationRecorderTestCase):
    """The library's application recorder cases (insert/select, notifications, concurrency)."""

    def test_insert_subscribe(self) -> None:
        self.datastore.pool.open()
        self.datastore.pool.resize(2, 2)  # the subscription holds one for LISTEN
        self.optional_test_insert_subscribe()

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        self.datastore.pool.open()
        self.datastore.pool.resize(12, 12)
        super().test_concurrent_no_conflicts()

    def test_concurrent_throughput(self) -> None:
        self.datastore.pool.open()
        self.datastore.pool.resize(10, 10)
        super().test_concurrent_throughput()

    # --- PostgreSQL-specific, as the library checks its own recorder ---

    def test_create_table_works_with_a_pool_of_one_connection(self) -> None:
        assert (self.datastore.pool.min_size, self.datastore.pool.max_size) == (1, 1)
        recorder = self.create_recorder()
        recorder.create_table()  # a second time, as every process start does
        assert recorder.insert_events([event()]) == [1]

    def test_insert_of_nothing_returns_none_and_writes_nothing(self) -> None:
        recorder = self.create_recorder()
        assert recorder.insert_events([]) is None
        assert recorder.max_notification_id() is None

    def test_longest_table_name_gets_a_distinct_append_function(self) -> None:
        recorder = self.create_recorder()
        other = "t" + LONGEST_TABLE_NAME[1:]
        names = {append_function_name(LONGEST_TABLE_NAME), append_function_name(other)}
        assert len(names) == 2
        assert all(len(name) <= GroupCommitRecorder.MAX_IDENTIFIER_LEN for name in names)
        assert append_function_name("stored_events") == "stored_events_append_batch"
        assert recorder.insert_events([event(), event()]) == [1, 2]

    def test_table_name_over_the_limit_is_refused(self) -> None:
        with pytest.raises(ProgrammingError):
            GroupCommitRecorder(self.datastore, events_table_name="s" + LONGEST_TABLE_NAME)

    def test_insert_retries_after_connections_are_killed(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_events([event()])
        close_all_connections(self.database)
        assert recorder.insert_events([event()]) == [2]

    def test_select_notifications_retries_after_connections_are_killed(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_events([event()])
        close_all_connections(self.database)
        assert [n.id for n in recorder.select_notifications(start=1, limit=1)] == [1]

    def test_max_notification_id_retries_after_connections_are_killed(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_events([event()])
        close_all_connections(self.database)
        assert recorder.max_notification_id() == 1

    def test_append_gives_up_on_the_table_lock_after_the_lock_timeout(self) -> None:
        self.datastore.lock_timeout = 1
        recorder = self.create_recorder()
        table = sql.Identifier(self.schema, LONGEST_TABLE_NAME)
        locked, release = threading.Event(), threading.Event()

        def hold_the_lock() -> None:
            with self.database.connect() as conn:
                conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
                locked.set()
                release.wait(timeout=30)

        holder = threading.Thread(target=hold_the_lock)
        holder.start()
        try:
            assert locked.wait(timeout=30)
            # One attempt: insert_events retries operational errors (10 x), as the library.
            append_once = GroupCommitRecorder._append.__wrapped__
            with pytest.raises(OperationalError, match="lock timeout"):
                append_once(recorder, [[event()]])
        finally:
            release.set()
            holder.join()
        assert recorder.insert_events([event()]) == [1]


    def test_a_subscriber_sees_every_event_in_order_while_they_are_written(self) -> None:
        self.datastore.pool.open()
        self.datastore.pool.resize(2, 2)  # one for the writer, one for the subscription
        recorder = self.create_recorder()
        batches, per_batch = 20, 100
        seen: list[int] = []

        def write() -> None:
            for _ in range(batches):
                recorder.insert_events([event() for _ in range(per_batch)])

        writer = threading.Thread(target=write)
        with recorder.subscribe(gt=recorder.max_notification_id()) as subscription:
            writer.start()
            for notification in subscription:
                seen.append(notification.id)
                if len(seen) == batches * per_batch:
                    break
        writer.join()
        assert seen == list(range(1, batches * per_batch + 1))  # no gap, no repeat

    # --- errors, as the library's recorder reports them ---

    def test_reads_and_writes_before_create_table_are_programming_errors(self) -> None:
        recorder = GroupCommitRecorder(self.datastore, events_table_name=LONGEST_TABLE_NAME)
        with pytest.raises(ProgrammingError):
            recorder.insert_events([event()])
        with pytest.raises(ProgrammingError):
            recorder.select_notifications(start=1, limit=1)
        with pytest.raises(ProgrammingError):
            recorder.max_notification_id()
        with pytest.raises(ProgrammingError):
            recorder.select_events(uuid4())

    def test_broken_create_statements_are_programming_errors(self) -> None:
        for broken in ("BLAH", "CREATE TYPE BLAH ("):
            recorder = GroupCommitRecorder(self.datastore,
                                           events_table_name=LONGEST_TABLE_NAME)
            recorder.sql_create_statements = [sql.SQL(broken).format()]
            with pytest.raises(ProgrammingError, match="syntax error"):
                recorder.create_table()


class TestGroupCommitRecorderInASchema(TestGroupCommitRecorder):
    schema = "myschema"

    def test_tables_live_in_the_schema(self) -> None:
        self.create_recorder()
        with self.database.connect() as conn:
            found = conn.execute("SELECT table_schema FROM information_schema.tables "
                                 "WHERE table_name = %s", (LONGEST_TABLE_NAME,)).fetchall()
        assert found == [("myschema",)]


@pytest.mark.skip(reason="taskmarket ids are UUIDs: the append function takes uuid[]")
class TestGroupCommitRecorderWithTextOriginatorIds(TestGroupCommitRecorder):
    pass


@pytest.mark.skip(reason="db-function mode drops the table lock (gaps for followers); "
                         "our recorder always appends through its own locked function")
class TestGroupCommitRecorderWithDbFunctions(TestGroupCommitRecorder):
    pass
