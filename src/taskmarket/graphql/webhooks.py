"""Webhook endpoint mutations: create, replay, update, disable, enable, rotate the
secret, redeliver one delivery. Who may do what: webhook_access.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional, TypeVar
from uuid import UUID

import strawberry

from ..domain import DomainError
from ..global_ids import decode_one
from ..projections.cursors import decode_position
from .errors import UserError
from .mutation import Caller, run_mutation, returned
from .visibility import sees_webhook_endpoint
from .webhook_access import endpoint_for, endpoint_node, own_requester
from .webhook_types import WebhookEndpoint

P = TypeVar("P")


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


async def endpoint_mutation(info: strawberry.Info, name: str, payload: Callable[..., P],
                            global_id: str, change: Callable[[Caller, UUID], Any]) -> P:
    """A mutation that changes one endpoint the caller may manage (NOT_FOUND otherwise)
    and answers the endpoint as it is after the change."""

    def command(caller: Caller) -> WebhookEndpoint:
        endpoint = endpoint_for(caller.context, global_id)
        change(caller, endpoint.id)
        return endpoint_node(caller.context, endpoint.id)

    return await run_mutation(info, name, command, payload, endpoint=returned())


@strawberry.type
class WebhookMutations:
    @strawberry.mutation
    async def create_webhook_endpoint(
            self, info: strawberry.Info,
            input: CreateWebhookEndpointInput) -> CreateWebhookEndpointPayload:
        def command(caller: Caller) -> tuple[WebhookEndpoint, str]:
            viewer = caller.viewer
            requester_id = own_requester(viewer, input.requester_id)
            endpoint_id, secret = caller.marketplace.create_webhook_endpoint(
                input.url, list(input.event_types or []), requester_id, viewer.key_id,
                audience=viewer.role)
            return endpoint_node(caller.context, endpoint_id), secret

        return await run_mutation(info, "createWebhookEndpoint", command,
                                  CreateWebhookEndpointPayload, endpoint=returned(0),
                                  secret=returned(1))

    @strawberry.mutation
    async def replay_webhook_endpoint(
            self, info: strawberry.Info,
            input: ReplayWebhookEndpointInput) -> ReplayWebhookEndpointPayload:
        return await endpoint_mutation(
            info, "replayWebhookEndpoint", ReplayWebhookEndpointPayload, input.endpoint_id,
            lambda caller, endpoint_id: caller.marketplace.replay_webhook_endpoint(
                endpoint_id, decode_position(input.after)))

    @strawberry.mutation
    async def update_webhook_endpoint(
            self, info: strawberry.Info,
            input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
        types = None if input.event_types is None else list(input.event_types)
        return await endpoint_mutation(
            info, "updateWebhookEndpoint", WebhookEndpointPayload, input.endpoint_id,
            lambda caller, endpoint_id: caller.marketplace.update_webhook_endpoint(
                endpoint_id, input.url, types, audience=caller.viewer.role))

    @strawberry.mutation
    async def disable_webhook_endpoint(
            self, info: strawberry.Info,
            input: DisableWebhookEndpointInput) -> WebhookEndpointPayload:
        reason = input.reason or "disabled by its owner"
        return await endpoint_mutation(
            info, "disableWebhookEndpoint", WebhookEndpointPayload, input.endpoint_id,
            lambda caller, endpoint_id: caller.marketplace.disable_webhook_endpoint(
                endpoint_id, reason))

    @strawberry.mutation
    async def enable_webhook_endpoint(self, info: strawberry.Info,
                                      input: WebhookEndpointInput) -> WebhookEndpointPayload:
        return await endpoint_mutation(
            info, "enableWebhookEndpoint", WebhookEndpointPayload, input.endpoint_id,
            lambda caller, endpoint_id: caller.marketplace.enable_webhook_endpoint(
                endpoint_id))

    @strawberry.mutation
    async def rotate_webhook_secret(self, info: strawberry.Info,
                                    input: WebhookEndpointInput) -> RotateWebhookSecretPayload:
        def command(caller: Caller) -> tuple[WebhookEndpoint, str]:
            endpoint = endpoint_for(caller.context, input.endpoint_id)
            secret = caller.marketplace.rotate_webhook_secret(endpoint.id)
            return endpoint_node(caller.context, endpoint.id), secret

        return await run_mutation(info, "rotateWebhookSecret", command,
                                  RotateWebhookSecretPayload, endpoint=returned(0),
                                  secret=returned(1))

    @strawberry.mutation
    async def redeliver_webhook(self, info: strawberry.Info,
                                input: RedeliverWebhookInput) -> RedeliverWebhookPayload:
        def command(caller: Caller) -> WebhookEndpoint:
            marketplace = caller.marketplace
            delivery_id = decode_one(input.delivery_id, "WebhookDelivery", "deliveryId")
            row = marketplace.webhook_records.delivery(delivery_id)
            endpoint = row and marketplace.get_webhook_endpoint(row.endpoint_id)
            if endpoint is None or not sees_webhook_endpoint(caller.viewer, endpoint):
                raise DomainError("NOT_FOUND", "no such delivery", ["deliveryId"])
            marketplace.redeliver_webhook(delivery_id)
            return endpoint_node(caller.context, endpoint.id)

        return await run_mutation(info, "redeliverWebhook", command, RedeliverWebhookPayload,
                                  endpoint=returned())
