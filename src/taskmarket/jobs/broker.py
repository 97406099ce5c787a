"""Which Dramatiq broker carries the workers' messages.

REDIS_URL selects Dramatiq's RedisBroker. Without it, messages live in the same PostgreSQL
database as the events (``dramatiq-postgres``), so the embedded default needs no second
server. Its LISTEN/NOTIFY wake-ups were seen to be missed, so consumers also poll, often.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import dramatiq
from dramatiq.brokers.stub import StubBroker

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
    from dramatiq_postgres import PostgresBroker

    init_postgres_queue(database)
    log.info("dramatiq broker: PostgreSQL queue in database %s", database.dbname)
    # The queue need not survive a crash by itself: every message can be derived again
    # from scheduled_work, which the sweeper re-sends, so commits skip the WAL flush.
    url = database.url + "&options=" + quote("-c synchronous_commit=off")
    return PostgresBroker(url=url, results=False, poll_interval=poll_interval,
                          heartbeat_ttl=HEARTBEAT_TTL_SECONDS, maintenance_interval=5.0)


def build_stub_broker() -> StubBroker:
    """In-memory broker for unit tests of actors only."""
    broker = StubBroker()
    broker.emit_after("process_boot")
    return broker
