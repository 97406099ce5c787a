"""``POST /webhooks/stripe``: Stripe tells us what happened to our transfers.

The signature is checked by the SDK before anything is read or written; a bad one gets a
400 and leaves no trace. Events we do not act on are acknowledged (200) so Stripe stops
resending them.
"""

from __future__ import annotations

import logging
import os
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
    outcome = await run_in_threadpool(handle_event, marketplace, event)
    return JSONResponse({"received": True, "outcome": outcome})


def handle_event(marketplace: Marketplace, event: stripe.Event) -> str:
    """Record what a verified event means for our payouts."""
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
