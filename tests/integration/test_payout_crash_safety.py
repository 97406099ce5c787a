"""Money leaves exactly once even when a worker dies at the worst moment."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from workers_harness import (  # noqa: F401  (fixtures)
    accepted_payout, connected_account, emulator, funded_requester, pipeline, post,
    wait_until,
)

from taskmarket.bootstrap import build_marketplace
from taskmarket.clock import utc_now
from taskmarket.domain import PayoutStatus
from taskmarket.jobs.actors import PayoutWorker, Services
from taskmarket.jobs.schedule import WorkStore, open_pool
from taskmarket.jobs.stripe_gateway import StripeGateway

WORKER_SCRIPT = Path(__file__).with_name("payout_worker_process.py")


def start_worker_process(database, emulator, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER_SCRIPT), json.dumps(dataclasses.asdict(database)),
         emulator.url, *flags], stdout=subprocess.PIPE, text=True)


def test_a_worker_killed_between_stripe_and_recording_pays_exactly_once(database, emulator):
    # The dispatcher and sweeper run here; the Dramatiq workers are separate processes.
    with pipeline(database, emulator, run_worker=False, resend_after=1.0) as app:
        requester = funded_requester(app)
        worker = app.register_worker("Ada", [], connected_account(emulator))
        payout = accepted_payout(app, requester, post(app, requester, reward=900), worker)

        doomed = start_worker_process(database, emulator, "--die-after-transfer")
        assert doomed.wait(timeout=30) == -9  # SIGKILL, right after the transfer
        assert len(emulator.state.transfers()) == 1
        assert app.get_payout(payout).status == PayoutStatus.REQUESTED

        restarted = start_worker_process(database, emulator)
        try:
            wait_until(lambda: app.get_payout(payout).status == PayoutStatus.PAID, timeout=20,
                       message="paid after the restart")
        finally:
            restarted.terminate()
            restarted.wait(timeout=10)
        transfers = emulator.state.transfers()
        assert len(transfers) == 1
        assert app.get_payout(payout).transfer_id == transfers[0]["id"]
        assert transfers[0]["amount"] == 900


def test_after_a_long_gap_the_transfer_is_found_instead_of_paid_again(database, emulator):
    app = build_marketplace(database)
    requester = funded_requester(app)
    worker = app.register_worker("Ada", [], connected_account(emulator))
    payout_id = accepted_payout(app, requester, post(app, requester), worker)
    gateway = StripeGateway.connect(None, emulator.url)
    # Paid at Stripe, then the worker vanished before recording it...
    transfer_id = gateway.create_transfer(app.get_payout(payout_id),
                                          app.get_worker(worker).stripe_account_id)
    # ...and a day later Stripe no longer remembers the idempotency key.
    emulator.state.store._idempotent.clear()
    later = build_marketplace(database, clock=lambda: utc_now() + timedelta(hours=25))
    work = WorkStore(open_pool(database))
    try:
        outcome = PayoutWorker(Services(later, gateway, work)).pay(payout_id)
    finally:
        work.pool.close()
        later.close()

    assert outcome == "PAID"
    assert app.get_payout(payout_id).transfer_id == transfer_id
    assert len(emulator.state.transfers()) == 1
    app.close()
