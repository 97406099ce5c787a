"""The webhook types: an endpoint and one delivery of its log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import strawberry

from ..global_ids import to_global_id
from .types import Node


@strawberry.type
class WebhookEndpoint(Node):
    url: str
    event_types: list[str]
    enabled: bool
    disabled_reason: Optional[str] = strawberry.field(
        default=None, description="Why the endpoint was disabled, when it was.")
    requester_id: strawberry.ID = strawberry.field(
        default=strawberry.ID(""), description="Whose task events the endpoint receives.")

    @classmethod
    def from_aggregate(cls, endpoint: Any) -> "WebhookEndpoint":
        return cls(id=strawberry.ID(to_global_id("WebhookEndpoint", endpoint.id)),
                   url=endpoint.url, event_types=list(endpoint.event_types),
                   enabled=endpoint.enabled, disabled_reason=endpoint.disabled_reason,
                   requester_id=strawberry.ID(to_global_id("Requester",
                                                           endpoint.requester_id)))


@strawberry.type
class WebhookDelivery(Node):
    event_id: strawberry.ID
    position: str
    attempts: int
    last_status_code: Optional[int]
    delivered: bool
    next_attempt_at: Optional[datetime]
    event_type: str = ""
    latency_ms: Optional[int] = strawberry.field(
        default=None, description="How long the last attempt took, in milliseconds.")
    last_error: Optional[str] = strawberry.field(
        default=None, description="Why the last attempt failed without a status code.")
    redelivery: bool = strawberry.field(
        default=False, description="A manual redeliverWebhook, outside the ordered stream.")
    delivered_at: Optional[datetime] = None
    created_at: Optional[datetime] = None

    @classmethod
    def from_row(cls, row: Any) -> "WebhookDelivery":
        return cls(id=strawberry.ID(to_global_id("WebhookDelivery", row.id)),
                   event_id=strawberry.ID(row.event_id), position=str(row.position),
                   attempts=row.attempts, last_status_code=row.last_status_code,
                   delivered=row.delivered, next_attempt_at=row.next_attempt_at,
                   event_type=row.event_type, latency_ms=row.latency_ms,
                   last_error=row.last_error, redelivery=row.kind == "redelivery",
                   delivered_at=row.delivered_at, created_at=row.created_at)
