"""Which Dramatiq broker carries the workers' messages.

REDIS_URL selects Dramatiq's RedisBroker. Without it, messages live in the same PostgreSQL
database as the events (``dramatiq-postgres``), so the embedded default needs no second
server. Its LISTEN/NOTIFY wake-ups were seen to be missed, so consumers also poll, often.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Executor

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq_postgres import PostgresBroker
from dramatiq_postgres.broker import QUERIES, PostgresConsumer
from dramatiq_postgres.utils import getconn, raise_connection_error
from psycopg_pool import ConnectionPool

from ..database import Database

log = logging.getLogger(__name__)

POLL_INTERVAL_SECONDS = 0.05
# A worker killed with SIGKILL holds its messages until its heartbeat is this stale.
HEARTBEAT_TTL_SECONDS = 20.0


def init_postgres_queue(database: Database) -> None:
    """Create dramatiq-postgres' schema on ``database`` when missing (idempotent)."""
    import dramatiq_postgres

    with database.connect() as conn, conn.cursor() as cursor:
        # Concurrent CREATE ... IF NOT EXISTS can still collide: one process at a time.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('taskmarket-queue-ddl'))")
        dramatiq_postgres.init(cursor)


def build_broker(database: Database | None, redis_url: str | None = None, *,
                 poll_interval: float = POLL_INTERVAL_SECONDS) -> dramatiq.Broker:
    """Redis when ``redis_url`` is given, else the PostgreSQL queue on ``database``."""
    if redis_url:
        from dramatiq.brokers.redis import RedisBroker

        log.info("dramatiq broker: Redis at %s", redis_url)
        return RedisBroker(url=redis_url)
    if database is None:
        raise ValueError("the PostgreSQL broker needs a database")
    init_postgres_queue(database)
    log.info("dramatiq broker: PostgreSQL queue in database %s", database.dbname)
    return PostgresQueueBroker(pool=queue_pool(database), results=False,
                               poll_interval=poll_interval,
                               heartbeat_ttl=HEARTBEAT_TTL_SECONDS, maintenance_interval=5.0)


class PostgresQueueBroker(PostgresBroker):
    """dramatiq-postgres' broker on a pool of ours, which it closes with itself, and whose
    consumers acknowledge a message in one round trip."""

    def close(self) -> None:
        super().close()
        self.pool.close()

    def consume(self, queue_name: str, prefetch: int = 1,
                timeout: int = 30000) -> PostgresConsumer:
        return PipelinedAckConsumer(broker=self, queue_name=queue_name, prefetch=prefetch,
                                    timeout=timeout)


class PipelinedAckConsumer(PostgresConsumer):
    """The library's consumer, but an ack (its BEGIN, delete + notify, COMMIT) goes out
    pipelined: one round trip instead of three, in the worker thread between messages."""

    @raise_connection_error
    def ack(self, message) -> None:
        channel = f"dramatiq.{message.queue_name}.ack"
        params = (message.message_id, message.queue_name, channel, message.message_id)
        conn = getconn(self.pool)
        try:
            with conn.pipeline(), conn.transaction():
                conn.execute(QUERIES.ACK, params)
        finally:
            self.pool.putconn(conn)
        self.in_processing.discard(message.message_id)
        self.wakeup.set()


def queue_pool(database: Database) -> ConnectionPool:
    """The queue's connections: as dramatiq-postgres opens them, without the pool's check
    on every checkout (a round trip per enqueue and per ack). The broker looks at each
    connection's socket when it takes one, without a round trip, and retries its calls on
    a connection error, so a dead connection is still replaced.
    """
    # The queue need not survive a crash by itself: every message can be derived again
    # from scheduled_work, which the sweeper re-sends, so commits skip the WAL flush.
    kwargs = {"application_name": "dramatiq-postgres", "keepalives": "1",
              "keepalives_count": "2", "keepalives_idle": "5", "keepalives_interval": "2",
              "options": "-c synchronous_commit=off"}
    return ConnectionPool(database.conninfo, kwargs=kwargs, min_size=0, max_size=16,
                          open=True, name="taskmarket-queue")


Outgoing = tuple[dramatiq.Message, int | None]  # a message and its delay in ms (or None)


def enqueue_all(broker: dramatiq.Broker, messages: Sequence[Outgoing],
                senders: Executor | None = None) -> None:
    """Enqueue ``messages``: on the PostgreSQL queue in one transaction (one round trip for
    the inserts, one wake-up per queue); on Redis in one pipeline (one round trip); on
    other brokers one call each, spread over ``senders`` when given. Any failure propagates (the caller sends them all again;
    enqueueing a message twice is harmless, as its actor is idempotent)."""
    if isinstance(broker, PostgresBroker) and len(messages) > 1:
        _enqueue_on_postgres(broker, messages)
    elif _is_redis(broker) and len(messages) > 1:
        _enqueue_on_redis(broker, messages)
    elif senders is not None and len(messages) > 1:
        list(senders.map(lambda outgoing: broker.enqueue(outgoing[0], delay=outgoing[1]),
                         messages))
    else:
        for message, delay in messages:
            broker.enqueue(message, delay=delay)


def _enqueue_on_postgres(broker, messages: Sequence[Outgoing]) -> None:
    """What dramatiq-postgres' ``enqueue`` does for one message, for many at once."""
    from dramatiq.common import current_millis, dq_name
    from dramatiq_postgres.utils import tidy4json
    from psycopg.types.json import Json

    queued = []
    for message, delay in messages:
        broker.emit_before("enqueue", message, delay)
        if delay:
            message = message.copy(queue_name=dq_name(message.queue_name))
            message.options["eta"] = current_millis() + delay
        queued.append((message, delay))
    rows = [(message.queue_name, message.message_id, Json(tidy4json(message)), delay or 0)
            for message, delay in queued]
    _insert_messages(broker, rows)
    for message, delay in queued:
        broker.emit_after("enqueue", message, delay)


def _is_redis(broker: dramatiq.Broker) -> bool:
    try:
        from dramatiq.brokers.redis import RedisBroker
    except ImportError:  # redis-py missing: no Redis broker can exist either
        return False
    return isinstance(broker, RedisBroker)


def _enqueue_on_redis(broker, messages: Sequence[Outgoing]) -> None:
    """Dramatiq's own ``enqueue`` for each message (its ids, delays and middleware hooks),
    on a shallow copy of the broker whose dispatch script is queued on a pipeline instead
    of sent: the messages go out in one round trip when the pipeline runs. The after-
    enqueue hooks run before that round trip (our middleware has none that cares)."""
    import copy
    import functools

    pipeline = broker.client.pipeline(transaction=False)
    pipelined = copy.copy(broker)
    pipelined.scripts = {**broker.scripts,
                         "dispatch": functools.partial(broker.scripts["dispatch"],
                                                       client=pipeline)}
    for message, delay in messages:
        pipelined.enqueue(message, delay=delay)
    pipeline.execute()


def _insert_messages(broker, rows: list[tuple]) -> None:
    from dramatiq_postgres.utils import retry_pg, transaction

    @retry_pg  # as the library's enqueue: reconnect and try again on connection errors
    def insert() -> None:
        with transaction(broker.pool) as cursor:
            cursor.executemany(QUERIES.ENQUEUE_QUIET, rows)  # pipelined: one round trip
            if broker.notify:
                cursor.execute("SELECT pg_notify('dramatiq.' || q || '.enqueue', '') "
                               "FROM unnest(%s::text[]) AS q",
                               (sorted({row[0] for row in rows}),))

    insert()


def build_stub_broker() -> StubBroker:
    """In-memory broker for unit tests of actors only."""
    broker = StubBroker()
    broker.emit_after("process_boot")
    return broker
