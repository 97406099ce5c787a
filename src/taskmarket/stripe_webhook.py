"""``POST /webhooks/stripe``: Stripe tells us what happened to our transfers and to the
workers' connected accounts (``account.updated``).

The signature is checked by the SDK before anything is read or written; a bad one gets a
400 and leaves no trace. Events we do not act on are acknowledged (200) so Stripe stops
resending them.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from uuid import UUID

import stripe
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from .application import Marketplace
from .domain import DomainError

log = logging.getLogger(__name__)


def webhook_secret(request: Request) -> str | None:
    return (getattr(request.app.state, "stripe_webhook_secret", None)
            or os.environ.get("STRIPE_WEBHOOK_SECRET"))


async def stripe_webhook(request: Request) -> JSONResponse:
    secret = webhook_secret(request)
    if not secret:
        return JSONResponse({"error": "no Stripe webhook secret is configured"}, status_code=503)
    payload = await request.body()
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("stripe-signature"), secret)
    except (ValueError, stripe.SignatureVerificationError) as error:
        log.warning("refused a Stripe webhook: %s", error)
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    marketplace: Marketplace = request.app.state.marketplace
    reads = getattr(request.app.state, "reads", None)
    outcome = await run_in_threadpool(handle_event, marketplace, event, reads)
    return JSONResponse({"received": True, "outcome": outcome})


def handle_event(marketplace: Marketplace, event: stripe.Event, reads: Any = None) -> str:
    """Record what a verified event means for our payouts and workers' accounts."""
    if event.type == "account.updated":
        return account_updated(marketplace, event.data.object.to_dict(), reads)
    if event.type != "transfer.reversed":
        return "ignored"
    transfer = event.data.object.to_dict()
    payout_id = (transfer.get("metadata") or {}).get("payout_id")
    if not payout_id:
        return "not ours"
    try:
        written = marketplace.record_transfer_reversal(
            UUID(payout_id), transfer["id"], int(transfer.get("amount_reversed") or 0))
    except (ValueError, DomainError) as error:
        log.warning("transfer.reversed for unknown payout %s: %s", payout_id, error)
        return "unknown payout"
    return "recorded" if written else "already recorded"


def account_updated(marketplace: Marketplace, account: dict[str, Any], reads: Any) -> str:
    """A connected account changed at Stripe: record its status on the worker(s) paid
    into it (found through the read model, or the worker id we put in its metadata)."""
    from .payout_accounts import record_account

    account_id = str(account.get("id") or "")
    worker_ids: set[UUID] = set()
    if reads is not None:
        worker_ids.update(row.id for row in reads.workers_with_account(account_id))
    try:
        worker_ids.add(UUID((account.get("metadata") or {}).get("worker_id") or ""))
    except ValueError:
        pass
    recorded = 0
    for worker_id in worker_ids:
        try:
            worker = marketplace.get_worker(worker_id)
        except DomainError:
            continue
        if worker.stripe_account_id == account_id:
            before = worker.payout_account_status
            recorded += record_account(marketplace, worker_id, account).value != before
    return "recorded" if recorded else "no change"
