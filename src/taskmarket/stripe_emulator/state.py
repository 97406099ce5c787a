"""Configuration and the live state object the app keeps on ``app.state.emulator``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .faults import Faults
from .store import Store
from .webhooks import WebhookSender

DEFAULT_API_VERSION = "2024-06-20"


@dataclass
class EmulatorConfig:
    """Initial settings. ``platform_balance=None`` means an unlimited balance;
    ``api_version`` is stamped on webhook events. With ``state_path`` (a SQLite file)
    everything the emulator is told survives a restart. Webhooks an endpoint did not
    acknowledge are sent again after ``webhook_retry_seconds``, doubling each time (at
    most an hour apart), for up to ``webhook_retry_for_seconds`` (Stripe: 3 days)."""

    faults: Faults = field(default_factory=Faults)
    platform_balance: int | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    api_version: str = DEFAULT_API_VERSION
    state_path: str | Path | None = None
    webhook_retry_seconds: float = 5.0
    webhook_retry_for_seconds: float = 3 * 24 * 3600


class EmulatorState:
    """Everything one emulator instance holds: config, store and webhook sender.

    Safe to drive from another thread (e.g. a test) while the server runs.
    """

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.store = Store(platform_balance=self.config.platform_balance,
                           path=self.config.state_path)
        self.webhooks = WebhookSender(store=self.store,
                                      retry_seconds=self.config.webhook_retry_seconds,
                                      retry_for_seconds=self.config.webhook_retry_for_seconds)
        if self.config.webhook_url:
            self.configure_webhooks(self.config.webhook_url, self.config.webhook_secret)

    @property
    def faults(self) -> Faults:
        return self.config.faults

    def set_faults(self, faults: Faults | None = None, **settings: Any) -> Faults:
        """Replace the fault settings: ``set_faults(failure_rate=1.0)`` or ``set_faults(Faults(...))``.
        ``set_faults()`` turns every fault off."""
        if faults is not None and settings:
            raise TypeError("pass either a Faults object or keyword settings, not both")
        self.config.faults = faults if faults is not None else Faults(**settings)
        return self.config.faults

    def configure_webhooks(self, url: str | None, secret: str | None = None) -> str | None:
        """Send signed events to ``url``; returns the signing secret (generated if omitted)."""
        secret = self.webhooks.configure(url, secret)
        self.config.webhook_url, self.config.webhook_secret = url, secret
        return secret

    def set_platform_balance(self, amount: int | None) -> None:
        self.store.set_balance(amount)

    def emit(self, event_type: str, obj: dict[str, Any], *, request_id: str | None = None,
             idempotency_key: str | None = None) -> dict[str, Any]:
        """Record an event and hand it to the webhook sender (non-blocking)."""
        event = self.store.record_event(event_type, obj, api_version=self.config.api_version,
                                        request_id=request_id, idempotency_key=idempotency_key)
        self.webhooks.send(event)
        return event

    def invalidate_account(self, account_id: str) -> dict[str, Any]:
        """Stripe rejects the account: transfers to it fail; ``account.updated`` is sent."""
        account = self.store.invalidate_account(account_id)
        self.emit("account.updated", account)
        return account

    def require_information(self, account_id: str) -> dict[str, Any]:
        """Stripe needs more information: transfers stop (DISABLED); ``account.updated``."""
        account = self.store.require_information(account_id)
        self.emit("account.updated", account)
        return account

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The holder finished onboarding: transfers possible; ``account.updated`` is sent."""
        account = self.store.complete_onboarding(account_id)
        self.emit("account.updated", account)
        return account

    def transfers(self) -> list[dict[str, Any]]:
        return self.store.all_transfers()

    def events(self) -> list[dict[str, Any]]:
        return self.store.all_events()

    def reset(self) -> None:
        """Drop all objects, idempotency keys and faults. Webhook settings are kept."""
        self.store.reset()
        self.config.faults = Faults()

    def close(self) -> None:
        self.webhooks.close()
        self.store.close()
