"""Webhook queries: the endpoints a key manages, an endpoint's deliveries, and node(id:)
for both. Who may see what: webhook_access.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional
from uuid import UUID

import strawberry

from ..domain import DomainError
from ..global_ids import to_global_id
from ..projections.cursors import decode, encode
from .context import ctx
from .errors import ClientError
from .pagination import Connection, connection, page_size
from .visibility import manages_webhooks, sees_webhook_endpoint
from .webhook_access import endpoint_for
from .webhook_types import WebhookDelivery, WebhookEndpoint


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="Webhook endpoints: an ADMIN sees all, a REQUESTER or "
                      "PARTNER key those of its requester. In id order.")
    async def webhook_endpoints(self, info: strawberry.Info, first: Optional[int] = None,
                                after: Optional[str] = None) -> Connection[WebhookEndpoint]:
        size = page_size(first)
        context = ctx(info)
        viewer = context.need_viewer()
        if not manages_webhooks(viewer):
            raise ClientError("webhooks need an ADMIN, REQUESTER or PARTNER key", "FORBIDDEN")
        # The endpoints' read model (projections/webhook_endpoints.py): one query a page.
        rows = await context.call(context.reads.webhook_endpoint_page,
                                  viewer.requester_id, size + 1, after)
        return connection(rows, size, _endpoint_from_row)

    @strawberry.field(description="An endpoint's deliveries, newest first: attempts, status "
                      "codes, latency and the next retry.")
    async def webhook_deliveries(self, info: strawberry.Info, endpoint_id: strawberry.ID,
                                 first: Optional[int] = None,
                                 after: Optional[str] = None) -> Connection[WebhookDelivery]:
        size = page_size(first)
        context = ctx(info)
        cursor = await context.call(decode, after, int)

        def rows():
            try:
                endpoint = endpoint_for(context, endpoint_id)
            except DomainError as error:
                raise ClientError(error.message, error.code) from None
            found = context.marketplace.webhook_records.deliveries(
                endpoint.id, size + 1, cursor[0] if cursor else None)
            return [replace(row, cursor=encode(row.seq)) for row in found]

        return connection(await context.call(rows), size, WebhookDelivery.from_row)


def _endpoint_from_row(row: Any) -> WebhookEndpoint:
    """An endpoint as its read model shows it."""
    return WebhookEndpoint(
        id=strawberry.ID(to_global_id("WebhookEndpoint", row.id)), url=row.url,
        event_types=list(row.event_types), enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        requester_id=strawberry.ID(to_global_id("Requester", row.requester_id)))


async def resolve_webhook_node(info: strawberry.Info, type_name: str,
                               parts: list[str]) -> Any:
    """node(id:) for endpoints and deliveries the viewer may see; None otherwise."""
    context = ctx(info)

    def find():
        viewer = context.need_viewer()
        marketplace = context.marketplace
        if type_name == "WebhookEndpoint":
            endpoint_id = UUID(parts[0])
            if not marketplace.exists(endpoint_id):
                return None
            endpoint = marketplace.get_webhook_endpoint(endpoint_id)
            return WebhookEndpoint.from_aggregate(endpoint) if sees_webhook_endpoint(viewer, endpoint) \
                else None
        if type_name == "WebhookDelivery":
            row = marketplace.webhook_records.delivery(UUID(parts[0]))
            if row is None:
                return None
            endpoint = marketplace.get_webhook_endpoint(row.endpoint_id)
            return WebhookDelivery.from_row(row) if sees_webhook_endpoint(viewer, endpoint) else None
        return None

    try:
        return await context.call(find)
    except ClientError:
        return None
