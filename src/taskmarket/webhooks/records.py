"""What the application needs from the webhook tables: secrets in, delivery owners out."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..database import Database
from . import store
from .sync import prepare, sync_endpoints


class WebhookRecords:
    def __init__(self, database: Database):
        self.database = database

    def save_secret(self, endpoint_id: UUID, secret_hash: str, secret: str) -> None:
        with self.database.connect(autocommit=True) as conn:
            store.save_secret(conn, endpoint_id, secret_hash, secret)

    def endpoint_of_delivery(self, delivery_id: UUID) -> UUID | None:
        with self.database.connect() as conn:
            found = store.delivery(conn, delivery_id)
        return found.endpoint_id if found else None

    def deliveries(self, endpoint_id: UUID, first: int,
                   before_seq: int | None) -> list[store.Delivery]:
        with self.database.connect() as conn:
            return store.deliveries(conn, endpoint_id, first, before_seq)

    def delivery(self, delivery_id: UUID) -> store.Delivery | None:
        with self.database.connect() as conn:
            return store.delivery(conn, delivery_id)

    def endpoint_ids(self, app: Any, requester_id: UUID | None, first: int,
                     after: UUID | None) -> list[UUID]:
        """Endpoints (of one requester, or all), in id order after a keyset cursor.

        The endpoints' events are synced first, so an endpoint created a moment ago is
        listed even when no delivery thread has looked yet.
        """
        with self.database.connect(autocommit=True) as conn:
            prepare(conn)
            sync_endpoints(app, conn)
            rows = conn.execute("""
                SELECT endpoint_id FROM webhook_endpoint_state
                 WHERE (%(requester)s::uuid IS NULL OR requester_id = %(requester)s)
                   AND (%(after)s::uuid IS NULL OR endpoint_id > %(after)s)
                 ORDER BY endpoint_id LIMIT %(first)s""",
                                dict(requester=requester_id, after=after, first=first))
            return [row[0] for row in rows]
