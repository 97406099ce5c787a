"""Workers' Stripe connected accounts: onboarding, linking one made elsewhere, and keeping
what we know of each account's status in step with Stripe.

The Stripe calls happen here, at the edge, and what Stripe answered is recorded on the
Worker aggregate as events (``PayoutAccountLinked``, ``PayoutAccountStatusChanged``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import stripe

from .application import Marketplace
from .domain import DomainError
from .domain.payout_account import PayoutAccountStatus, status_of
from .domain.worker import check_account
from .jobs.stripe_gateway import StripeGateway

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048


def check_url(value: str, field: str) -> str:
    """An absolute http(s) URL a browser can be sent to."""
    text = (value or "").strip()
    parts = urlsplit(text) if len(text) <= MAX_URL_LENGTH else None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or any(ch.isspace() or ord(ch) < 32 for ch in text)):
        raise DomainError("INVALID_INPUT", f"{field} must be an absolute http(s) URL of at "
                          f"most {MAX_URL_LENGTH} characters", [field])
    return text


def stripe_unavailable(error: stripe.StripeError) -> DomainError:
    log.warning("Stripe refused or failed a connected-account call: %s", error)
    return DomainError("STRIPE_UNAVAILABLE", "Stripe did not complete the request; try again")


class PayoutAccounts:
    def __init__(self, marketplace: Marketplace, gateway: StripeGateway):
        self.app = marketplace
        self.gateway = gateway

    def start_onboarding(self, worker_id: UUID, return_url: str, refresh_url: str) -> str:
        """A fresh onboarding link for the worker's account, made the first time."""
        return_url = check_url(return_url, "returnUrl")
        refresh_url = check_url(refresh_url, "refreshUrl")
        worker = self.app.get_worker(worker_id)
        account_id = worker.stripe_account_id
        try:
            if account_id is not None and self.gateway.retrieve_account(account_id) is None:
                # Linked by id to an account Stripe does not have: onboard a real one.
                account_id = self._open_account(worker_id, replacing=account_id)
            if account_id is None:
                account_id = self._open_account(worker_id)
            return self.gateway.onboarding_link(account_id, return_url, refresh_url)
        except stripe.StripeError as error:
            raise stripe_unavailable(error) from error

    def _open_account(self, worker_id: UUID, replacing: str | None = None) -> str:
        account = self.gateway.create_account(worker_id, replacing=replacing)
        status, due = status_of(account)
        self.app.link_payout_account(worker_id, account["id"], status.value, due)
        return account["id"]

    def link(self, worker_id: UUID, account_id: str) -> None:
        """Pay the worker into an account made elsewhere; it must exist at Stripe."""
        check_account(account_id)
        self.app.get_worker(worker_id)
        try:
            account = self.gateway.retrieve_account(account_id)
        except stripe.StripeError as error:
            raise stripe_unavailable(error) from error
        if account is None:
            raise DomainError("PAYOUT_ACCOUNT_NOT_FOUND",
                              f"Stripe has no connected account {account_id}",
                              ["stripeAccountId"])
        status, due = status_of(account)
        self.app.link_payout_account(worker_id, account_id, status.value, due)

    def refresh(self, worker_id: UUID) -> dict[str, Any] | None:
        """Read the worker's account from Stripe and record its status; the account, or
        None when the worker has none or Stripe does not know it. Raises StripeError."""
        worker = self.app.get_worker(worker_id)
        if worker.stripe_account_id is None:
            return None
        account = self.gateway.retrieve_account(worker.stripe_account_id)
        if account is not None:
            record_account(self.app, worker_id, account)
        return account


def record_account(app: Marketplace, worker_id: UUID,
                   account: Mapping[str, Any]) -> PayoutAccountStatus:
    status, due = status_of(account)
    app.record_payout_account_status(worker_id, str(account.get("id")), status.value, due)
    return status
