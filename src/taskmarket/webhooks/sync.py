"""Keeps each endpoint's delivery cursor row in step with the endpoint's events.

A log follower (``projections/follower.py``) of the endpoints' topics: each batch is
applied in one transaction with the position reached (projection_positions row
'webhook_delivery_state'). Delivery threads step it before each round; one process syncs
at a time, the others skip the locked row. Not a rebuildable projection: the rows also
hold delivery progress (cursor, retries); the endpoints' own read model is
``projections/webhook_endpoints.py``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic

from ..domain.ids import derived_id
from ..domain.webhook import WebhookEndpoint as E
from ..projections.follower import LogFollower, LoggedEvent

NAME = "webhook_delivery_state"
EVENTS = (E.Created, E.Updated, E.SecretRotated, E.Disabled, E.Enabled, E.ReplayRequested,
          E.RedeliveryRequested)
TOPICS = [get_topic(cls) for cls in EVENTS]
NOW = "clock_timestamp()"


class DeliveryStateFollower:
    """The endpoints' events, applied to their delivery state rows."""

    name = NAME
    topics = TOPICS

    def apply(self, conn: psycopg.Connection, events: list[LoggedEvent]) -> None:
        for notification_id, _, event in events:
            apply(conn, event, notification_id)


def endpoint_sync(database: Any, mapper: Any, batch_size: int = 500) -> LogFollower:
    return LogFollower(database, DeliveryStateFollower(), mapper, batch_size)


def sync_endpoints(app: Any, conn: psycopg.Connection, limit: int = 500) -> int:
    """Apply endpoint events not applied yet (one batch), unless another process is at it;
    how many were applied."""
    follower = LogFollower(None, DeliveryStateFollower(), app.mapper, limit)
    return follower.step(conn, skip_locked=True)


def apply(conn: psycopg.Connection, event: Any, notification_id: int) -> None:
    endpoint_id, version = event.originator_id, event.originator_version
    if isinstance(event, E.Created):
        _created(conn, endpoint_id, version, event, notification_id)
        return
    handler = HANDLERS[type(event)]
    handler(conn, endpoint_id, event)
    conn.execute("UPDATE webhook_endpoint_state SET version = %s WHERE endpoint_id = %s",
                 (version, endpoint_id))


def _created(conn, endpoint_id: UUID, version: int, event: Any, notification_id: int) -> None:
    # Start after the events logged before the endpoint existed. If the event log lags
    # behind the store, a few earlier events are delivered too: more, never fewer.
    conn.execute("""
        INSERT INTO webhook_endpoint_state (endpoint_id, requester_id, url, event_types,
                                            secret_hash, enabled, cursor, version, audience)
        VALUES (%s, %s, %s, %s, %s, true,
                (SELECT COALESCE(max(position), 0) FROM event_log
                  WHERE notification_id < %s), %s, %s)
        ON CONFLICT (endpoint_id) DO NOTHING""",
                 (endpoint_id, event.requester_id, event.url, list(event.event_types),
                  event.secret_hash, notification_id, version,
                  getattr(event, "audience", None) or "REQUESTER"))


def _updated(conn, endpoint_id: UUID, event: Any) -> None:
    conn.execute("UPDATE webhook_endpoint_state SET url = %s, event_types = %s, "
                 "audience = COALESCE(%s, audience) WHERE endpoint_id = %s",
                 (event.url, list(event.event_types), getattr(event, "audience", None),
                  endpoint_id))


def _secret_rotated(conn, endpoint_id: UUID, event: Any) -> None:
    conn.execute("UPDATE webhook_endpoint_state SET secret_hash = %s WHERE endpoint_id = %s",
                 (event.secret_hash, endpoint_id))
    # Superseded secrets are useless and only a risk. A secret written after this one
    # (a later rotation, maybe not synced yet) is kept.
    conn.execute("""
        DELETE FROM webhook_secrets WHERE endpoint_id = %s AND created_at < (
            SELECT created_at FROM webhook_secrets
             WHERE endpoint_id = %s AND secret_hash = %s)""",
                 (endpoint_id, endpoint_id, event.secret_hash))


def _disabled(conn, endpoint_id: UUID, event: Any) -> None:
    conn.execute("UPDATE webhook_endpoint_state SET enabled = false, lease_owner = NULL, "
                 "lease_until = NULL WHERE endpoint_id = %s", (endpoint_id,))
    conn.execute("UPDATE webhook_deliveries SET next_attempt_at = NULL "
                 "WHERE endpoint_id = %s AND NOT delivered", (endpoint_id,))


def _enabled(conn, endpoint_id: UUID, event: Any) -> None:
    # The cursor stays where it is: delivery resumes at the first undelivered event.
    conn.execute(f"""
        UPDATE webhook_endpoint_state SET enabled = true, consecutive_failures = 0,
               failing_since = NULL, next_attempt_at = {NOW}
         WHERE endpoint_id = %s""", (endpoint_id,))
    conn.execute(f"""
        UPDATE webhook_deliveries SET next_attempt_at = {NOW}
         WHERE endpoint_id = %s AND NOT delivered AND (kind = 'redelivery' OR generation =
               (SELECT generation FROM webhook_endpoint_state WHERE endpoint_id = %s))""",
                 (endpoint_id, endpoint_id))


def _replay_requested(conn, endpoint_id: UUID, event: Any) -> None:
    # Never skip ahead: events not yet delivered before `after` are still owed.
    conn.execute(f"""
        UPDATE webhook_endpoint_state SET generation = generation + 1,
               cursor = LEAST(cursor, %s), consecutive_failures = 0, failing_since = NULL,
               next_attempt_at = {NOW}, lease_owner = NULL, lease_until = NULL
         WHERE endpoint_id = %s""", (event.after, endpoint_id))
    conn.execute("UPDATE webhook_deliveries SET next_attempt_at = NULL "
                 "WHERE endpoint_id = %s AND kind = 'stream' AND NOT delivered", (endpoint_id,))


def _redelivery_requested(conn, endpoint_id: UUID, event: Any) -> None:
    conn.execute(f"""
        INSERT INTO webhook_deliveries (id, endpoint_id, kind, redelivery, position,
                                        event_id, event_type, next_attempt_at)
        SELECT %s, endpoint_id, 'redelivery', %s, position, event_id, event_type, {NOW}
          FROM webhook_deliveries WHERE id = %s AND endpoint_id = %s
        ON CONFLICT DO NOTHING""",
                 (redelivery_id(endpoint_id, event.redelivery), event.redelivery,
                  event.delivery_id, endpoint_id))


def redelivery_id(endpoint_id: UUID, number: int) -> UUID:
    return derived_id("webhook-redelivery", endpoint_id, number)


HANDLERS = {
    E.Updated: _updated, E.SecretRotated: _secret_rotated, E.Disabled: _disabled,
    E.Enabled: _enabled, E.ReplayRequested: _replay_requested,
    E.RedeliveryRequested: _redelivery_requested,
}
