"""The dispatcher sends aggregate_batch for a batch whose answers changed; the actor
re-estimates the consensus from the read models once they reach the answers."""

from __future__ import annotations

import dramatiq
import psycopg
import pytest
from projection_harness import catch_up
from workers_harness import emulator, funded_requester  # noqa: F401  (fixtures)

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Money
from taskmarket.domain.batch import AggregationMethod, BatchItem, BatchSpec
from taskmarket.jobs.actors import Services, register_actors
from taskmarket.jobs.broker import build_stub_broker
from taskmarket.jobs.dispatcher import Dispatcher
from taskmarket.jobs.schedule import WorkStore, open_pool
from taskmarket.jobs.stripe_gateway import StripeGateway


@pytest.fixture
def stub(database, emulator):  # noqa: F811
    app = build_marketplace(database)
    services = Services(app, StripeGateway.connect(None, emulator.url),
                        WorkStore(open_pool(database)))
    broker = build_stub_broker()
    actors = register_actors(broker, services)
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    yield app, broker, actors, services
    worker.stop()
    broker.close()
    services.work.pool.close()
    app.close()


def consensus(database):
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        return conn.execute("SELECT answer, method, answers FROM batch_consensus").fetchall()


def test_answers_reaching_the_overlap_get_a_consensus_from_the_job(stub, database):
    app, broker, actors, services = stub
    lab = funded_requester(app)
    batch_id = app.create_batch(lab, BatchSpec(
        "Cats", "Which?", {"type": "object"}, Money(5, "USD"), 2, answer_pointer="/label",
        aggregation=AggregationMethod.DAWID_SKENE))
    app.add_batch_items(batch_id, lab, "k", [BatchItem({"n": 0}), BatchItem({"n": 1})])
    first, second = app.get_batch(batch_id).items
    for name in ("a", "b"):
        worker = app.register_worker(name)
        claim = app.claim_task(first, worker)
        app.submit_work(first, claim, worker, {"label": "cat"})
    dispatcher = Dispatcher(app, services.work, actors)
    while dispatcher.run_once():
        pass
    catch_up(database)
    broker.join(actors.aggregate_batch.queue_name, fail_fast=True)
    assert consensus(database) == [("cat", "DAWID_SKENE", 2)]

    # One answer for the second item: below the overlap, no consensus for it yet.
    worker = app.register_worker("c")
    app.submit_work(second, app.claim_task(second, worker), worker, {"label": "dog"})
    while dispatcher.run_once():
        pass
    catch_up(database)
    broker.join(actors.aggregate_batch.queue_name, fail_fast=True)
    assert consensus(database) == [("cat", "DAWID_SKENE", 2)]
