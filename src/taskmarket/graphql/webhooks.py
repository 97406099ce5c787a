"""Webhook endpoints and their delivery log.

Who may do what: an ADMIN manages every endpoint and must say whose events an endpoint
gets; a REQUESTER (or its PARTNER key) creates and manages endpoints for its own
requester only. An endpoint of someone else is NOT_FOUND, so ids reveal nothing. An
endpoint receives what the key that last configured it may read (event_visibility.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Optional
from uuid import UUID

import strawberry

from ..domain import DomainError, Role
from ..projections.cursors import decode, decode_position, encode
from .auth import Viewer, forbidden_command
from .commands import execute
from .context import Context, ctx
from .errors import ClientError, UserError
from ..global_ids import decode_one, to_global_id
from .pagination import Connection, connection, page_size
from .types import Node

MANAGERS = (Role.ADMIN, Role.REQUESTER, Role.PARTNER)


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


# --- access -------------------------------------------------------------------------------
def own_requester(viewer: Viewer, requested: Optional[strawberry.ID]) -> UUID:
    """Whose events a new endpoint gets: ADMIN names one; others get their own."""
    if viewer.role == Role.ADMIN:
        if not requested:
            raise DomainError("INVALID_INPUT", "an ADMIN must name the requester",
                              ["requesterId"])
        return decode_one(requested, "Requester", "requesterId")
    if viewer.role not in MANAGERS or viewer.requester_id is None:
        raise forbidden_command("webhooks need an ADMIN, REQUESTER or PARTNER key")
    if requested and decode_one(requested, "Requester", "requesterId") != viewer.requester_id:
        raise forbidden_command("a key may only create endpoints for its own requester",
                        ["requesterId"])
    return viewer.requester_id


def visible(viewer: Viewer, endpoint: Any) -> bool:
    return viewer.role == Role.ADMIN or (viewer.role in MANAGERS
                                         and endpoint.requester_id == viewer.requester_id)


def endpoint_for(context: Context, global_id: str, field: str = "endpointId") -> Any:
    """The endpoint the viewer may manage (blocking); NOT_FOUND otherwise."""
    viewer = context.need_viewer()
    endpoint_id = decode_one(global_id, "WebhookEndpoint", field)
    endpoint = context.marketplace.get_webhook_endpoint(endpoint_id)
    if not visible(viewer, endpoint):
        raise DomainError("NOT_FOUND", "no such webhookendpoint", [field])
    return endpoint


def endpoint_node(context: Context, endpoint_id: UUID) -> Optional[WebhookEndpoint]:
    return WebhookEndpoint.from_aggregate(context.marketplace.get_webhook_endpoint(endpoint_id))


# --- inputs and payloads ---------------------------------------------------------------------
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


@strawberry.input
class UpdateWebhookEndpointInput:
    endpoint_id: strawberry.ID
    url: Optional[str] = None
    event_types: Optional[list[str]] = strawberry.field(
        default=None, description="Replaces the types; [] means every type.")


@strawberry.input
class WebhookEndpointInput:
    endpoint_id: strawberry.ID


@strawberry.input
class DisableWebhookEndpointInput:
    endpoint_id: strawberry.ID
    reason: Optional[str] = None


@strawberry.type
class WebhookEndpointPayload:
    endpoint: Optional[WebhookEndpoint] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RotateWebhookSecretPayload:
    endpoint: Optional[WebhookEndpoint] = None
    secret: Optional[str] = strawberry.field(
        default=None, description="The new signing secret, shown only here; deliveries "
        "are signed with it from now on.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RedeliverWebhookInput:
    delivery_id: strawberry.ID


@strawberry.type
class RedeliverWebhookPayload:
    "The endpoint the delivery belongs to; the new attempt shows in webhookDeliveries."
    endpoint: Optional[WebhookEndpoint] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


# --- mutations -----------------------------------------------------------------------------------
async def _endpoint_command(info: strawberry.Info, name: str, endpoint_id: str,
                            act: Any) -> tuple[Any, list[UserError]]:
    """Load a visible endpoint, act on it; (endpoint node and act's value, errors)."""
    context = ctx(info)

    def command():
        endpoint = endpoint_for(context, endpoint_id)
        value = act(context.marketplace, endpoint.id)
        return endpoint_node(context, endpoint.id), value

    outcome = await execute(context, name, command)
    return outcome.value, outcome.errors


@strawberry.type
class WebhookMutations:
    @strawberry.mutation
    async def create_webhook_endpoint(
            self, info: strawberry.Info,
            input: CreateWebhookEndpointInput) -> CreateWebhookEndpointPayload:
        context = ctx(info)

        def command():
            viewer = context.need_viewer()
            requester_id = own_requester(viewer, input.requester_id)
            endpoint_id, secret = context.marketplace.create_webhook_endpoint(
                input.url, list(input.event_types or []), requester_id, viewer.key_id,
                audience=viewer.role)
            return endpoint_node(context, endpoint_id), secret

        outcome = await execute(context, "createWebhookEndpoint", command)
        if not outcome.ok:
            return CreateWebhookEndpointPayload(user_errors=outcome.errors)
        endpoint, secret = outcome.value
        return CreateWebhookEndpointPayload(endpoint=endpoint, secret=secret)

    @strawberry.mutation
    async def replay_webhook_endpoint(
            self, info: strawberry.Info,
            input: ReplayWebhookEndpointInput) -> ReplayWebhookEndpointPayload:
        def act(marketplace, endpoint_id):
            marketplace.replay_webhook_endpoint(endpoint_id, decode_position(input.after))

        value, errors = await _endpoint_command(info, "replayWebhookEndpoint",
                                                input.endpoint_id, act)
        return ReplayWebhookEndpointPayload(endpoint=value and value[0], user_errors=errors)

    @strawberry.mutation
    async def update_webhook_endpoint(
            self, info: strawberry.Info,
            input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
        viewer = ctx(info).need_viewer()

        def act(marketplace, endpoint_id):
            types = None if input.event_types is None else list(input.event_types)
            marketplace.update_webhook_endpoint(endpoint_id, input.url, types,
                                                audience=viewer.role)

        value, errors = await _endpoint_command(info, "updateWebhookEndpoint",
                                                input.endpoint_id, act)
        return WebhookEndpointPayload(endpoint=value and value[0], user_errors=errors)

    @strawberry.mutation
    async def disable_webhook_endpoint(
            self, info: strawberry.Info,
            input: DisableWebhookEndpointInput) -> WebhookEndpointPayload:
        def act(marketplace, endpoint_id):
            marketplace.disable_webhook_endpoint(endpoint_id,
                                                 input.reason or "disabled by its owner")

        value, errors = await _endpoint_command(info, "disableWebhookEndpoint",
                                                input.endpoint_id, act)
        return WebhookEndpointPayload(endpoint=value and value[0], user_errors=errors)

    @strawberry.mutation
    async def enable_webhook_endpoint(self, info: strawberry.Info,
                                      input: WebhookEndpointInput) -> WebhookEndpointPayload:
        def act(marketplace, endpoint_id):
            marketplace.enable_webhook_endpoint(endpoint_id)

        value, errors = await _endpoint_command(info, "enableWebhookEndpoint",
                                                input.endpoint_id, act)
        return WebhookEndpointPayload(endpoint=value and value[0], user_errors=errors)

    @strawberry.mutation
    async def rotate_webhook_secret(self, info: strawberry.Info,
                                    input: WebhookEndpointInput) -> RotateWebhookSecretPayload:
        def act(marketplace, endpoint_id):
            return marketplace.rotate_webhook_secret(endpoint_id)

        value, errors = await _endpoint_command(info, "rotateWebhookSecret",
                                                input.endpoint_id, act)
        if errors:
            return RotateWebhookSecretPayload(user_errors=errors)
        return RotateWebhookSecretPayload(endpoint=value[0], secret=value[1])

    @strawberry.mutation
    async def redeliver_webhook(self, info: strawberry.Info,
                                input: RedeliverWebhookInput) -> RedeliverWebhookPayload:
        context = ctx(info)

        def command():
            viewer = context.need_viewer()
            delivery_id = decode_one(input.delivery_id, "WebhookDelivery", "deliveryId")
            row = context.marketplace.webhook_records.delivery(delivery_id)
            endpoint = row and context.marketplace.get_webhook_endpoint(row.endpoint_id)
            if endpoint is None or not visible(viewer, endpoint):
                raise DomainError("NOT_FOUND", "no such delivery", ["deliveryId"])
            context.marketplace.redeliver_webhook(delivery_id)
            return endpoint_node(context, endpoint.id)

        outcome = await execute(context, "redeliverWebhook", command)
        return RedeliverWebhookPayload(endpoint=outcome.value, user_errors=outcome.errors)


# --- queries -------------------------------------------------------------------------------------
@strawberry.type
class WebhookQueries:
    @strawberry.field(description="Webhook endpoints: an ADMIN sees all, a REQUESTER or "
                      "PARTNER key those of its requester. In id order.")
    async def webhook_endpoints(self, info: strawberry.Info, first: Optional[int] = None,
                                after: Optional[str] = None) -> Connection[WebhookEndpoint]:
        size = page_size(first)
        context = ctx(info)
        viewer = context.need_viewer()
        if viewer.role != Role.ADMIN and (viewer.role not in MANAGERS
                                          or viewer.requester_id is None):
            raise ClientError("webhooks need an ADMIN, REQUESTER or PARTNER key",
                              "FORBIDDEN")
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
    """An endpoint as its read model (projections/webhook_endpoints.py) shows it."""
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
            return WebhookEndpoint.from_aggregate(endpoint) if visible(viewer, endpoint) \
                else None
        if type_name == "WebhookDelivery":
            row = marketplace.webhook_records.delivery(UUID(parts[0]))
            if row is None:
                return None
            endpoint = marketplace.get_webhook_endpoint(row.endpoint_id)
            return WebhookDelivery.from_row(row) if visible(viewer, endpoint) else None
        return None

    try:
        return await context.call(find)
    except ClientError:
        return None
