"""Who may manage which webhook endpoint.

An ADMIN manages every endpoint and must say whose events an endpoint gets; a REQUESTER
(or its PARTNER key) creates and manages endpoints for its own requester only. An
endpoint of someone else is NOT_FOUND, so ids reveal nothing. An endpoint receives what
the key that last configured it may read (event_visibility.py).
"""

from __future__ import annotations

from typing import Any, Optional
from uuid import UUID

import strawberry

from ..domain import DomainError, Role
from ..global_ids import decode_one
from .auth import Viewer, forbidden_command
from .context import Context
from .visibility import manages_webhooks, sees_webhook_endpoint
from .webhook_types import WebhookEndpoint


def own_requester(viewer: Viewer, requested: Optional[strawberry.ID]) -> UUID:
    """Whose events a new endpoint gets: ADMIN names one; others get their own."""
    if viewer.role == Role.ADMIN:
        if not requested:
            raise DomainError("INVALID_INPUT", "an ADMIN must name the requester",
                              ["requesterId"])
        return decode_one(requested, "Requester", "requesterId")
    if not manages_webhooks(viewer):
        raise forbidden_command("webhooks need an ADMIN, REQUESTER or PARTNER key")
    assert viewer.requester_id is not None
    if requested and decode_one(requested, "Requester", "requesterId") != viewer.requester_id:
        raise forbidden_command("a key may only create endpoints for its own requester",
                                ["requesterId"])
    return viewer.requester_id


def endpoint_for(context: Context, global_id: str, field: str = "endpointId") -> Any:
    """The endpoint the viewer may manage (blocking); NOT_FOUND otherwise."""
    viewer = context.need_viewer()
    endpoint_id = decode_one(global_id, "WebhookEndpoint", field)
    endpoint = context.marketplace.get_webhook_endpoint(endpoint_id)
    if not sees_webhook_endpoint(viewer, endpoint):
        raise DomainError("NOT_FOUND", "no such webhookendpoint", [field])
    return endpoint


def endpoint_node(context: Context, endpoint_id: UUID) -> WebhookEndpoint:
    """The endpoint as its aggregate has it now (blocking)."""
    return WebhookEndpoint.from_aggregate(context.marketplace.get_webhook_endpoint(endpoint_id))

