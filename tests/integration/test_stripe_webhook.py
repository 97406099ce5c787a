"""Stripe's webhooks reach us signed; forged ones are refused and change nothing."""

from __future__ import annotations

import json

import httpx
from workers_harness import (  # noqa: F401  (fixtures)
    accepted_payout, connected_account, emulator, funded_requester, pipeline, post,
    wait_until,
)

from taskmarket.domain import PayoutStatus
from taskmarket.stripe_emulator import serve_app, sign_payload
from taskmarket.web import create_app

SECRET = "whsec_test_taskmarket"


def reversal_event(payout_id: str, transfer_id: str) -> str:
    return json.dumps({
        "id": "evt_forged", "object": "event", "type": "transfer.reversed",
        "data": {"object": {"id": transfer_id, "object": "transfer", "amount_reversed": 250,
                            "metadata": {"payout_id": payout_id}}},
    })


def test_a_reversed_transfer_is_recorded_and_a_forged_webhook_is_refused(database, emulator):
    with pipeline(database, emulator) as app:
        web = create_app(database, app)
        web.state.stripe_webhook_secret = SECRET
        server = serve_app(web)
        try:
            emulator.state.configure_webhooks(f"{server.url}/webhooks/stripe", SECRET)
            requester = funded_requester(app)
            worker = app.register_worker("Ada", [], connected_account(emulator))
            payout = accepted_payout(app, requester, post(app, requester), worker)
            wait_until(lambda: app.get_payout(payout).status == PayoutStatus.PAID, timeout=10)
            transfer_id = app.get_payout(payout).transfer_id

            # A forged reversal: signed with the wrong secret, or not signed at all.
            before = app.recorder.max_notification_id()
            body = reversal_event(str(payout), transfer_id)
            forged = httpx.post(f"{server.url}/webhooks/stripe", content=body, headers={
                "Stripe-Signature": sign_payload(body, "whsec_wrong")})
            unsigned = httpx.post(f"{server.url}/webhooks/stripe", content=body)
            assert (forged.status_code, unsigned.status_code) == (400, 400)
            assert app.recorder.max_notification_id() == before
            assert app.get_payout(payout).reversed is False

            # The real one, sent by Stripe (the emulator) when the transfer is reversed.
            emulator.stripe_client().v1.transfers.reversals.create(transfer_id)
            wait_until(lambda: app.get_payout(payout).reversed, timeout=10,
                       message="the reversal was recorded")
            # The emulator notes the delivery once our answer reached it, just after.
            wait_until(lambda: any(d.event_type == "transfer.reversed" and d.status_code == 200
                                   for d in list(emulator.state.webhooks.deliveries)),
                       timeout=10, message="the emulator saw our 200")
        finally:
            server.stop()


def test_account_updated_moves_the_worker_s_account_and_a_forged_one_is_refused(
        database, emulator):
    from taskmarket.bootstrap import start_projections

    with pipeline(database, emulator) as app:
        projections = start_projections(database, app)
        web = create_app(database, app)
        web.state.stripe_webhook_secret = SECRET
        server = serve_app(web)
        try:
            emulator.state.configure_webhooks(f"{server.url}/webhooks/stripe", SECRET)
            account = emulator.stripe_client().v1.accounts.create({"type": "express"}).id
            worker = app.register_worker("Ada", [])
            app.link_payout_account(worker, account, "ONBOARDING", ["external_account"])
            wait_until(lambda: web.state.reads.workers_with_account(account), timeout=10)

            forged = json.dumps({"id": "evt_forged", "object": "event",
                                 "type": "account.updated", "data": {"object": {
                                     "id": account, "object": "account",
                                     "capabilities": {"transfers": "active"},
                                     "requirements": {"currently_due": []}}}})
            refused = httpx.post(f"{server.url}/webhooks/stripe", content=forged, headers={
                "Stripe-Signature": sign_payload(forged, "whsec_wrong")})
            assert refused.status_code == 400
            assert app.get_worker(worker).payout_account_status == "ONBOARDING"

            emulator.state.complete_onboarding(account)  # Stripe sends account.updated
            wait_until(lambda: app.get_worker(worker).payout_account_status == "ENABLED",
                       timeout=10, message="account.updated recorded")
            assert app.get_worker(worker).requirements_due == []
        finally:
            server.stop()
            projections.stop()
