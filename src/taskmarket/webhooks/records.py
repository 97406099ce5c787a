"""What the application needs from the webhook tables: secrets in, delivery owners out."""

from __future__ import annotations

from uuid import UUID

from ..database import Database
from . import store


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
