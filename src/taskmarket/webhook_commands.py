"""The Marketplace's webhook endpoint commands (a mixin of application.Marketplace).

Signing secrets are kept outside the event log (``webhook_records``; domain/webhook.py)."""

from __future__ import annotations

from uuid import UUID

from .command_retry import retry_on_conflict
from .domain import DomainError, Role
from .domain.apikey import hash_secret
from .domain.catalog import deliverable_types, deliverable_types_except
from .domain.webhook import WebhookEndpoint, new_secret
from .event_visibility import endpoint_visibility


class WebhookCommands:
    """Commands on webhook endpoints; ``self`` is the Marketplace."""

    def get_webhook_endpoint(self, endpoint_id: UUID) -> WebhookEndpoint:
        return self._load(WebhookEndpoint, endpoint_id, "endpointId")

    def create_webhook_endpoint(self, url: str, event_types: list[str] | None,
                                requester_id: UUID, owner_key_id: UUID | None = None,
                                audience: Role = Role.REQUESTER) -> tuple[UUID, str]:
        """Register an endpoint for a requester's events; returns its id and its secret.

        It receives what a key of role ``audience`` (the caller's) may read of them."""
        self.get_requester(requester_id)
        url = self.check_webhook_target(url)
        allowed = deliverable_types_except(
            endpoint_visibility(audience, requester_id).hidden_kinds)
        secret = new_secret()
        endpoint = WebhookEndpoint.create(url, event_types, requester_id, owner_key_id,
                                          hash_secret(secret), deliverable_types(), self.clock(),
                                          audience=audience.value, allowed_types=allowed)
        self.webhook_records.save_secret(endpoint.id, endpoint.secret_hash, secret)
        self.save(endpoint)
        return endpoint.id, secret

    @retry_on_conflict
    def update_webhook_endpoint(self, endpoint_id: UUID, url: str | None = None,
                                event_types: list[str] | None = None,
                                audience: Role | None = None) -> None:
        """Change an endpoint; it then receives what a key of role ``audience`` may read."""
        endpoint = self.get_webhook_endpoint(endpoint_id)
        if url is not None:
            url = self.check_webhook_target(url)
        role = audience or Role(endpoint.audience)
        allowed = deliverable_types_except(
            endpoint_visibility(role, endpoint.requester_id).hidden_kinds)
        if endpoint.update(url, event_types, deliverable_types(), role.value, allowed):
            self.save(endpoint)

    @retry_on_conflict
    def disable_webhook_endpoint(self, endpoint_id: UUID, reason: str) -> bool:
        endpoint = self.get_webhook_endpoint(endpoint_id)
        return self._save_if_written(endpoint, endpoint.disable(reason, self.clock()))

    @retry_on_conflict
    def enable_webhook_endpoint(self, endpoint_id: UUID) -> bool:
        endpoint = self.get_webhook_endpoint(endpoint_id)
        return self._save_if_written(endpoint, endpoint.enable())

    @retry_on_conflict
    def rotate_webhook_secret(self, endpoint_id: UUID) -> str:
        """A new signing secret, used from the next delivery on; returned once."""
        endpoint = self.get_webhook_endpoint(endpoint_id)
        secret = new_secret()
        self.webhook_records.save_secret(endpoint.id, hash_secret(secret), secret)
        endpoint.rotate_secret(hash_secret(secret))
        self.save(endpoint)
        return secret

    @retry_on_conflict
    def replay_webhook_endpoint(self, endpoint_id: UUID, after: int) -> None:
        endpoint = self.get_webhook_endpoint(endpoint_id)
        endpoint.request_replay(after)
        self.save(endpoint)

    @retry_on_conflict
    def redeliver_webhook(self, delivery_id: UUID) -> UUID:
        """Send one logged delivery's event again; returns the endpoint's id."""
        endpoint_id = self.webhook_records.endpoint_of_delivery(delivery_id)
        if endpoint_id is None:
            raise DomainError("NOT_FOUND", "no such delivery", ["deliveryId"])
        endpoint = self.get_webhook_endpoint(endpoint_id)
        endpoint.request_redelivery(delivery_id)
        self.save(endpoint)
        return endpoint_id
