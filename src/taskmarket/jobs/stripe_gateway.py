"""The Stripe edge: transfers for payouts through the official SDK, errors classified.

Retries are ours (Dramatiq with backoff), so the SDK's own network retries are off: every
attempt shows up in the payout's history. Every create carries the payout's idempotency
key, so a retry after a lost response gets the transfer Stripe already made.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import stripe

from ..domain import Payout
from .stripe_http import PooledHTTPClient

log = logging.getLogger(__name__)

EMULATOR_API_KEY = "sk_test_taskmarket_emulator"
TIMEOUT_SECONDS = 20.0
# Stripe error codes that no retry can fix; finance has to act (retryPayout after a fix).
PERMANENT_CODES = {
    "account_invalid", "balance_insufficient", "resource_missing", "amount_too_small",
    "amount_too_large", "transfers_not_allowed", "parameter_invalid_integer",
    "invalid_currency",
}


PAYOUT_ACCOUNT_NOT_READY = "PAYOUT_ACCOUNT_NOT_READY"


@dataclass
class TransferFailed(Exception):
    """A transfer attempt that did not produce a transfer."""

    reason: str
    retryable: bool

    def __str__(self) -> str:
        kind = "retryable" if self.retryable else "permanent"
        return f"{kind}: {self.reason}"


def transfer_group(payout: Payout) -> str:
    """Stripe's grouping key: the task for submission payouts, the payout itself for bonuses."""
    return str(payout.task_id or payout.id)


def error_code(error: stripe.StripeError) -> str:
    """Stripe's error code (the SDK leaves ``code`` unset on some statuses, e.g. 409)."""
    body = getattr(error, "json_body", None) or {}
    detail = body.get("error") if isinstance(body, dict) else None
    return (getattr(error, "code", None)
            or (detail.get("code") if isinstance(detail, dict) else None) or "")


def classify(error: stripe.StripeError) -> TransferFailed:
    """Map an SDK error to a failure reason and whether trying again can help."""
    code = error_code(error)
    message = getattr(error, "user_message", None) or str(error)
    if isinstance(error, stripe.APIConnectionError):
        return TransferFailed(f"NETWORK_ERROR: {message}"[:500], True)
    if isinstance(error, stripe.RateLimitError):
        return TransferFailed("RATE_LIMITED", True)
    if code == "idempotency_key_in_use" or isinstance(error, stripe.IdempotencyError):
        # 409: a request with this key is still running at Stripe; 400: the key was used
        # with other parameters, which only a new key (a finance retry) resolves.
        return TransferFailed("IDEMPOTENCY_CONFLICT", error.http_status == 409)
    if code == "insufficient_capabilities_for_transfer":
        # The account cannot receive transfers yet: the payout waits for it.
        return TransferFailed(PAYOUT_ACCOUNT_NOT_READY, True)
    status = error.http_status or 0
    if status >= 500 or isinstance(error, stripe.APIError):
        return TransferFailed(f"STRIPE_UNAVAILABLE: HTTP {status}", True)
    if isinstance(error, (stripe.AuthenticationError, stripe.PermissionError)):
        # Our configuration, not the worker's account: pay once the key is fixed.
        return TransferFailed(f"STRIPE_AUTH: {message}"[:500], True)
    if code in PERMANENT_CODES or status in (400, 402, 404):
        return TransferFailed((code or "INVALID_REQUEST").upper() + f": {message}"[:400], False)
    return TransferFailed(f"STRIPE_ERROR: HTTP {status} {message}"[:500], True)


class StripeGateway:
    """Creates and finds the transfer of a payout."""

    def __init__(self, client: stripe.StripeClient):
        self.client = client

    @classmethod
    def connect(cls, api_key: str | None, api_base: str | None = None,
                timeout: float = TIMEOUT_SECONDS) -> "StripeGateway":
        """The real Stripe with ``api_key``, or the emulator at ``api_base`` without one."""
        if not api_key and not api_base:
            raise ValueError("either STRIPE_API_KEY or an emulator address is required")
        options = {"base_addresses": {"api": api_base}} if api_base else {}
        client = stripe.StripeClient(
            api_key or EMULATOR_API_KEY, max_network_retries=0,
            http_client=PooledHTTPClient(timeout, api_base),
            **options)
        return cls(client)

    def create_transfer(self, payout: Payout, destination: str) -> str:
        """Pay ``payout`` into ``destination``; the transfer id. Raises TransferFailed."""
        metadata = {"payout_id": str(payout.id), "kind": payout.kind}
        if payout.submission_id:
            metadata["submission_id"] = str(payout.submission_id)
        params = {
            "amount": payout.amount, "currency": payout.currency.lower(),
            "destination": destination, "transfer_group": transfer_group(payout),
            "metadata": metadata,
        }
        try:
            # What ``client.v1.transfers.create`` sends (same encoding, headers and
            # Idempotency-Key; errors raised the same), without building a Transfer object
            # from the answer: its id is all we keep.
            answer = self.client.raw_request(
                "post", "/v1/transfers", **params, idempotency_key=payout.idempotency_key,
                usage=["stripe_client"])
        except stripe.StripeError as error:
            raise classify(error) from error
        return answer.data["id"]

    # --- connected accounts ----------------------------------------------------------
    def create_account(self, worker_id: UUID, attempts: int = 5,
                       replacing: str | None = None) -> dict[str, Any]:
        """The worker's Express account. One per worker: the idempotency key is the
        worker's, so a retry or a concurrent call gets the account the first one made
        (a 409 while that first call is still running is waited out). ``replacing``: the
        account id Stripe did not know, which this one takes the place of."""
        params = {"type": "express", "metadata": {"worker_id": str(worker_id)},
                  "capabilities": {"transfers": {"requested": True}}}
        for attempt in range(attempts):
            try:
                account = self.client.v1.accounts.create(
                    params, options={"idempotency_key": f"worker-account-{worker_id}"
                                     + (f"-replacing-{replacing}" if replacing else "")})
                return account.to_dict()
            except stripe.StripeError as error:
                if error_code(error) != "idempotency_key_in_use" or attempt == attempts - 1:
                    raise
                time.sleep(0.05 * 2 ** attempt)
        raise AssertionError("unreachable")

    def retrieve_account(self, account_id: str) -> dict[str, Any] | None:
        """The account as Stripe has it; None when Stripe has no such account."""
        try:
            return self.client.v1.accounts.retrieve(account_id).to_dict()
        except stripe.InvalidRequestError as error:
            if error.http_status == 404 or error_code(error) == "resource_missing":
                return None
            raise

    def onboarding_link(self, account_id: str, return_url: str, refresh_url: str) -> str:
        """A fresh one-time Account Link for the holder to finish onboarding."""
        link = self.client.v1.account_links.create({
            "account": account_id, "type": "account_onboarding",
            "return_url": return_url, "refresh_url": refresh_url})
        return link.url

    def find_transfer(self, payout: Payout) -> str | None:
        """The transfer already made for ``payout`` (searched in its transfer group)."""
        try:
            page = self.client.v1.transfers.list(
                {"transfer_group": transfer_group(payout), "limit": 100})
            for transfer in page.auto_paging_iter():
                metadata = transfer.metadata.to_dict() if transfer.metadata else {}
                if metadata.get("payout_id") == str(payout.id):
                    return transfer.id
        except stripe.StripeError as error:
            raise classify(error) from error
        return None
