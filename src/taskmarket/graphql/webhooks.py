"""Webhook endpoints and deliveries: the contract's surface, filled by the webhooks issue.

Until that lands the mutations answer NOT_AVAILABLE and the deliveries query an empty page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import strawberry

from ..domain import DomainError
from .commands import refuse
from .context import ctx
from .errors import UserError
from .pagination import Connection, empty_connection, page_size
from .types import Node


@strawberry.type
class WebhookEndpoint(Node):
    url: str
    event_types: list[str]
    enabled: bool
    disabled_reason: Optional[str] = strawberry.field(
        default=None, description="Why the endpoint was disabled, when it was.")


@strawberry.type
class WebhookDelivery(Node):
    event_id: strawberry.ID
    position: str
    attempts: int
    last_status_code: Optional[int]
    delivered: bool
    next_attempt_at: Optional[datetime]


@strawberry.input
class CreateWebhookEndpointInput:
    url: str
    event_types: Optional[list[str]] = strawberry.field(
        default_factory=list, description="Event types to deliver; all types the owner may "
        "see when empty.")
    requester_id: Optional[strawberry.ID] = strawberry.field(
        default=None, description="Whose task events are delivered (required for ADMIN; a "
        "REQUESTER's own by default).")


@strawberry.type
class CreateWebhookEndpointPayload:
    endpoint: Optional[WebhookEndpoint] = None
    secret: Optional[str] = strawberry.field(default=None,
                                             description="The signing secret, shown only here.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReplayWebhookEndpointInput:
    endpoint_id: strawberry.ID
    after: str = strawberry.field(
        description="Re-deliver every matching event after this position.")


@strawberry.type
class ReplayWebhookEndpointPayload:
    endpoint: Optional[WebhookEndpoint] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def not_available() -> DomainError:
    return DomainError("NOT_AVAILABLE", "webhooks are not available on this server yet")


@strawberry.type
class WebhookMutations:
    @strawberry.mutation
    async def create_webhook_endpoint(
            self, info: strawberry.Info,
            input: CreateWebhookEndpointInput) -> CreateWebhookEndpointPayload:
        ctx(info).need_viewer()
        return CreateWebhookEndpointPayload(user_errors=refuse(not_available()).errors)

    @strawberry.mutation
    async def replay_webhook_endpoint(
            self, info: strawberry.Info,
            input: ReplayWebhookEndpointInput) -> ReplayWebhookEndpointPayload:
        ctx(info).need_viewer()
        return ReplayWebhookEndpointPayload(user_errors=refuse(not_available()).errors)


@strawberry.type
class WebhookQueries:
    @strawberry.field
    async def webhook_deliveries(self, info: strawberry.Info, endpoint_id: strawberry.ID,
                                 first: Optional[int] = None,
                                 after: Optional[str] = None) -> Connection[WebhookDelivery]:
        page_size(first)
        ctx(info).need_viewer()
        return empty_connection()


async def resolve_webhook_node(info: strawberry.Info, type_name: str,
                               parts: list[str]) -> Any:
    """node(id:) for webhook types; nothing until the webhooks issue fills this in."""
    return None
