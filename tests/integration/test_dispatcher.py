"""The outbox sends at least once: a crash before it saves its position means a re-send,
which the idempotent actors absorb."""

from __future__ import annotations

import dramatiq
import pytest
from workers_harness import (  # noqa: F401  (fixtures)
    accepted_payout, connected_account, emulator, funded_requester, post, wait_until,
)

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import PayoutStatus
from taskmarket.jobs.actors import Services, register_actors
from taskmarket.jobs.broker import build_broker
from taskmarket.jobs.dispatcher import Dispatcher
from taskmarket.jobs.schedule import WorkStore, open_pool
from taskmarket.jobs.stripe_gateway import StripeGateway


def queued_messages(database) -> int:
    with database.connect() as conn:
        return conn.execute("SELECT count(*) FROM dramatiq.queue").fetchone()[0]


def test_a_dispatcher_that_dies_before_saving_its_position_sends_again_and_pays_once(
        database, emulator, monkeypatch):
    app = build_marketplace(database)
    services = Services(app, StripeGateway.connect(None, emulator.url),
                        WorkStore(open_pool(database)))
    broker = build_broker(database)
    actors = register_actors(broker, services)
    requester = funded_requester(app)
    worker = app.register_worker("Ada", [], connected_account(emulator))
    payout = accepted_payout(app, requester, post(app, requester, reward=321), worker)

    dispatcher = Dispatcher(app, services.work, actors)
    with monkeypatch.context() as crash:
        crash.setattr(services.work, "record", lambda *a, **k: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            dispatcher.run_once()
    assert services.work.position() == 0 and queued_messages(database) == 1

    assert dispatcher.run_once() > 0  # the restarted dispatcher reads the same events
    assert queued_messages(database) == 2  # ... and sends the payout again
    assert dispatcher.run_once() == 0

    broker.emit_after("process_boot")
    consumer = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    consumer.start()
    try:
        wait_until(lambda: app.get_payout(payout).status == PayoutStatus.PAID, timeout=10)
        wait_until(lambda: queued_messages(database) == 0, timeout=10)
    finally:
        consumer.stop()
        broker.close()
        services.work.pool.close()
        app.close()
    assert [t["amount"] for t in emulator.state.transfers()] == [321]
