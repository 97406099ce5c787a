"""The actors alone, on Dramatiq's StubBroker: idempotent, and patient with early messages."""

from __future__ import annotations

import dramatiq
import pytest
from workers_harness import (  # noqa: F401  (fixtures)
    accepted_payout, connected_account, emulator, funded_requester, post,
)

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import PayoutStatus
from taskmarket.domain.task import ClaimStatus
from taskmarket.jobs.actors import Services, register_actors
from taskmarket.jobs.broker import build_stub_broker
from taskmarket.jobs.schedule import WorkStore, open_pool
from taskmarket.jobs.stripe_gateway import StripeGateway


@pytest.fixture
def stub(database, emulator):
    app = build_marketplace(database)
    services = Services(app, StripeGateway.connect(None, emulator.url),
                        WorkStore(open_pool(database)))
    broker = build_stub_broker()
    actors = register_actors(broker, services)
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    yield app, broker, actors
    worker.stop()
    broker.close()
    services.work.pool.close()
    app.close()


def test_paying_the_same_payout_three_times_makes_one_transfer(stub, emulator):
    app, broker, actors = stub
    requester = funded_requester(app)
    worker = app.register_worker("Ada", [], connected_account(emulator))
    payout = accepted_payout(app, requester, post(app, requester, reward=500), worker)

    for _ in range(3):
        actors.pay_payout.send(str(payout))
    broker.join(actors.pay_payout.queue_name, fail_fast=True)

    assert app.get_payout(payout).status == PayoutStatus.PAID
    assert [t["amount"] for t in emulator.state.transfers()] == [500]


def test_an_expiry_message_that_arrives_early_comes_back_when_the_lease_is_due(stub):
    app, broker, actors = stub
    requester = funded_requester(app)
    task = post(app, requester, claim_timeout_seconds=1)
    claim = app.claim_task(task, app.register_worker("Ada"))

    # Sent a second too early: the domain refuses to expire a live lease, so only the
    # message the actor sends itself for the due time can end it.
    actors.expire_claim.send(str(task), str(claim))
    broker.join(actors.expire_claim.queue_name, fail_fast=True)  # includes delayed ones

    assert app.get_task(task).claim_status(claim) == ClaimStatus.EXPIRED
    assert app.get_task(task).open_slots == 1
