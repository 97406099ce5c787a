"""The webhook tables: secrets, one delivery cursor per endpoint, and the delivery log.

Scheduling uses the database clock (``clock_timestamp()``), so processes on different
machines agree on what is due. Every write the deliverer makes to an endpoint is fenced by
the lease it claimed and by the endpoint's version: a change to the endpoint (disable,
replay, new URL) makes an in-flight batch stop at its next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import psycopg
from psycopg.rows import class_row

from ..domain.ids import derived_id
from ..global_ids import to_global_id
from ..projections.rows import EventRow


@dataclass(frozen=True)
class EndpointState:
    endpoint_id: UUID
    requester_id: UUID
    url: str
    event_types: list[str]
    secret_hash: str
    enabled: bool
    cursor: int
    generation: int
    consecutive_failures: int
    failing_since: datetime | None
    next_attempt_at: datetime
    lease_owner: UUID | None
    lease_until: datetime | None
    version: int
    audience: str = "REQUESTER"  # whose reading rights deliveries follow


@dataclass(frozen=True)
class Delivery:
    id: UUID
    seq: int
    endpoint_id: UUID
    kind: str
    generation: int
    redelivery: int | None
    position: int
    event_id: str
    event_type: str
    attempts: int
    last_status_code: int | None
    latency_ms: int | None
    last_error: str | None
    delivered: bool
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    cursor: str = ""  # set by list queries' callers: an opaque keyset cursor


NOW = "clock_timestamp()"
SECONDS = "make_interval(secs => %s)"


# --- secrets ------------------------------------------------------------------------
def save_secret(conn: psycopg.Connection, endpoint_id: UUID, secret_hash: str,
                secret: str) -> None:
    conn.execute("INSERT INTO webhook_secrets (endpoint_id, secret_hash, secret) "
                 "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                 (endpoint_id, secret_hash, secret))


def secret_for(conn: psycopg.Connection, endpoint_id: UUID, secret_hash: str) -> str | None:
    row = conn.execute("SELECT secret FROM webhook_secrets WHERE endpoint_id = %s "
                       "AND secret_hash = %s", (endpoint_id, secret_hash)).fetchone()
    return row[0] if row else None


# --- endpoint cursors -----------------------------------------------------------------
def claim_due_endpoint(conn: psycopg.Connection, owner: UUID, lease: float,
                       head: int) -> EndpointState | None:
    """Lease one enabled endpoint that is due and has log to read; None when none is."""
    with conn.cursor(row_factory=class_row(EndpointState)) as cur:
        return cur.execute(f"""
            UPDATE webhook_endpoint_state SET lease_owner = %s,
                   lease_until = {NOW} + {SECONDS}
             WHERE endpoint_id = (
                SELECT endpoint_id FROM webhook_endpoint_state s
                 WHERE enabled AND next_attempt_at <= {NOW} AND cursor < %s
                   AND (lease_until IS NULL OR lease_until < {NOW})
                   -- idle endpoints cost an index probe, not a tick, per look
                   AND EXISTS (SELECT 1 FROM event_log e WHERE e.requester_id = s.requester_id
                                  AND e.position > s.cursor)
                 ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING *""", (owner, lease, head)).fetchone()


def _fenced(state: EndpointState) -> tuple:
    return (state.endpoint_id, state.lease_owner, state.version)


FENCE = "endpoint_id = %s AND lease_owner = %s AND version = %s"


def record_failure(conn: psycopg.Connection, state: EndpointState,
                   delay: float) -> tuple[int, float] | None:
    """Count a failure and schedule the retry; (failures, seconds failing) or None if lost."""
    return conn.execute(f"""
        UPDATE webhook_endpoint_state
           SET consecutive_failures = consecutive_failures + 1,
               failing_since = COALESCE(failing_since, {NOW}),
               next_attempt_at = {NOW} + {SECONDS}
         WHERE {FENCE}
        RETURNING consecutive_failures,
                  EXTRACT(EPOCH FROM {NOW} - failing_since)::float8""",
                        (delay, *_fenced(state))).fetchone()


def stop_for_good(conn: psycopg.Connection, state: EndpointState) -> None:
    """Stop delivering at once; the Disabled event that follows makes it permanent."""
    conn.execute(f"UPDATE webhook_endpoint_state SET enabled = false WHERE {FENCE}",
                 _fenced(state))


def finish(conn: psycopg.Connection, state: EndpointState, caught_up_to: int | None,
           due_now: bool) -> None:
    """End a tick; ``caught_up_to`` moves the cursor when nothing else up to it matched."""
    conn.execute(f"""
        UPDATE webhook_endpoint_state
           SET cursor = GREATEST(cursor, COALESCE(%s, cursor)),
               next_attempt_at = CASE WHEN %s THEN {NOW} ELSE next_attempt_at END
         WHERE {FENCE}""", (caught_up_to, due_now, *_fenced(state)))


def drop_lease(conn: psycopg.Connection, state: EndpointState) -> None:
    """Give the endpoint back, even when it changed while we held it."""
    conn.execute("UPDATE webhook_endpoint_state SET lease_owner = NULL, lease_until = NULL "
                 "WHERE endpoint_id = %s AND lease_owner = %s",
                 (state.endpoint_id, state.lease_owner))


def endpoint_state(conn: psycopg.Connection, endpoint_id: UUID) -> EndpointState | None:
    with conn.cursor(row_factory=class_row(EndpointState)) as cur:
        return cur.execute("SELECT * FROM webhook_endpoint_state WHERE endpoint_id = %s",
                           (endpoint_id,)).fetchone()


# --- the delivery log -----------------------------------------------------------------
def stream_delivery_id(endpoint_id: UUID, generation: int, position: int) -> UUID:
    return derived_id("webhook-delivery", endpoint_id, generation, position)


UPSERT_ATTEMPT = f"""
    INSERT INTO webhook_deliveries AS d (id, endpoint_id, kind, generation, position,
           event_id, event_type, attempts, last_status_code, latency_ms, last_error,
           delivered, delivered_at, next_attempt_at)
    VALUES (%(id)s, %(endpoint)s, 'stream', %(generation)s, %(position)s, %(event_id)s,
            %(type)s, 1, %(status)s, %(latency)s, %(error)s, %(delivered)s,
            CASE WHEN %(delivered)s THEN {NOW} END,
            {NOW} + make_interval(secs => %(retry)s::float8))
    ON CONFLICT (endpoint_id, generation, position) WHERE kind = 'stream' DO UPDATE
       SET attempts = d.attempts + 1, last_status_code = EXCLUDED.last_status_code,
           latency_ms = EXCLUDED.latency_ms, last_error = EXCLUDED.last_error,
           delivered = d.delivered OR EXCLUDED.delivered,
           delivered_at = COALESCE(d.delivered_at, EXCLUDED.delivered_at),
           next_attempt_at = EXCLUDED.next_attempt_at, updated_at = {NOW}"""


def _attempt(state: EndpointState, event: EventRow, delivery_id: UUID,
             status_code: int | None, latency_ms: int, error: str | None, delivered: bool,
             retry_in: float | None) -> dict:
    return dict(id=delivery_id, endpoint=state.endpoint_id, generation=state.generation,
                position=event.position, event_id=event_id(event.position), type=event.type,
                status=status_code, latency=latency_ms, error=error, delivered=delivered,
                retry=retry_in, owner=state.lease_owner, version=state.version)


def record_stream_attempt(conn: psycopg.Connection, state: EndpointState, event: EventRow,
                          delivery_id: UUID, status_code: int | None, latency_ms: int,
                          error: str | None, delivered: bool, retry_in: float | None) -> None:
    """Log one POST of an event of the endpoint's current stream (the row made once)."""
    conn.execute(UPSERT_ATTEMPT, _attempt(state, event, delivery_id, status_code, latency_ms,
                                          error, delivered, retry_in))


def record_delivered(conn: psycopg.Connection, state: EndpointState, event: EventRow,
                     delivery_id: UUID, status_code: int, latency_ms: int) -> bool:
    """Log a delivered event and move the cursor past it, in one statement (one round
    trip, atomic); False when the lease was lost or the endpoint changed meanwhile."""
    row = conn.execute(f"""
        WITH moved AS (
            UPDATE webhook_endpoint_state SET cursor = GREATEST(cursor, %(position)s),
                   consecutive_failures = 0, failing_since = NULL
             WHERE endpoint_id = %(endpoint)s AND lease_owner = %(owner)s
               AND version = %(version)s AND enabled
            RETURNING 1),
        logged AS ({UPSERT_ATTEMPT} RETURNING 1)
        SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM logged)""",
                       _attempt(state, event, delivery_id, status_code, latency_ms, None,
                                True, None)).fetchone()
    return row[0] == 1


def record_attempt(conn: psycopg.Connection, delivery_id: UUID, status_code: int | None,
                   latency_ms: int, error: str | None, delivered: bool,
                   retry_in: float | None) -> None:
    conn.execute(f"""
        UPDATE webhook_deliveries
           SET attempts = attempts + 1, last_status_code = %s, latency_ms = %s,
               last_error = %s, delivered = delivered OR %s,
               delivered_at = CASE WHEN %s THEN {NOW} ELSE delivered_at END,
               next_attempt_at = CASE WHEN %s::float8 IS NULL THEN NULL
                                      ELSE {NOW} + make_interval(secs => %s::float8) END,
               updated_at = {NOW}
         WHERE id = %s""",
                 (status_code, latency_ms, error, delivered, delivered, retry_in, retry_in,
                  delivery_id))


def claim_due_redelivery(conn: psycopg.Connection, lease: float) -> Delivery | None:
    """Lease one manual redelivery of an enabled endpoint that is due."""
    with conn.cursor(row_factory=class_row(Delivery)) as cur:
        return cur.execute(f"""
            UPDATE webhook_deliveries SET next_attempt_at = {NOW} + {SECONDS}
             WHERE id = (
                SELECT d.id FROM webhook_deliveries d
                  JOIN webhook_endpoint_state s USING (endpoint_id)
                 WHERE d.kind = 'redelivery' AND NOT d.delivered AND s.enabled
                   AND d.next_attempt_at <= {NOW}
                 ORDER BY d.next_attempt_at LIMIT 1 FOR UPDATE OF d SKIP LOCKED)
            RETURNING *""", (lease,)).fetchone()


def delivery(conn: psycopg.Connection, delivery_id: UUID) -> Delivery | None:
    with conn.cursor(row_factory=class_row(Delivery)) as cur:
        return cur.execute("SELECT * FROM webhook_deliveries WHERE id = %s",
                           (delivery_id,)).fetchone()


def deliveries(conn: psycopg.Connection, endpoint_id: UUID, first: int,
               before_seq: int | None) -> list[Delivery]:
    """An endpoint's deliveries, newest first, ``first`` of them after a keyset cursor."""
    with conn.cursor(row_factory=class_row(Delivery)) as cur:
        return cur.execute("""
            SELECT * FROM webhook_deliveries
             WHERE endpoint_id = %s AND (%s::bigint IS NULL OR seq < %s)
             ORDER BY seq DESC LIMIT %s""",
                           (endpoint_id, before_seq, before_seq, first)).fetchall()


def event_id(position: int) -> str:
    """The public id of the event at ``position``: the same as Event.id in GraphQL."""
    return to_global_id("Event", position)
