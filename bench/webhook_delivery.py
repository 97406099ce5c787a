"""Webhook deliveries per second to a local receiver, against raw httpx POSTs to it.

Subject: the real engine (lease an endpoint, read the event log, sign, POST, record the
attempt and move the cursor, all in PostgreSQL) re-delivering an endpoint's events after
a replay. Baseline: the same signed bodies POSTed with a bare httpx client, nothing
recorded. Same receiver, same run, three interleaved rounds; the ratio is what the
bookkeeping that makes delivery durable and ordered costs.

Two shapes: one endpoint (deliveries to it are sequential by design: order) and four
endpoints served by four threads next to four raw-POST threads.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).parent))
from infra import embedded_postgres, serve_in_thread  # noqa: E402

from taskmarket.bootstrap import build_marketplace  # noqa: E402
from taskmarket.domain import Money  # noqa: E402
from taskmarket.domain.task import TaskSpec  # noqa: E402
from taskmarket.projections.runner import ProjectionRunner  # noqa: E402
from taskmarket.webhooks import feed, store  # noqa: E402
from taskmarket.webhooks.deliverer import body_of  # noqa: E402
from taskmarket.webhooks.engine import WebhookEngine  # noqa: E402
from taskmarket.webhooks.policy import DeliveryPolicy  # noqa: E402
from taskmarket.webhooks.signing import sign  # noqa: E402
from taskmarket.webhooks.sync import sync_endpoints  # noqa: E402

ROUNDS = 3


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def hook(self, request) -> Response:
        await request.body()
        with self.lock:
            self.count += 1
        return Response(status_code=204)


def _setup(database, url: str, endpoints: int, tasks: int):
    marketplace = build_marketplace(database)
    requesters, endpoint_ids = [], []
    for number in range(endpoints):
        requester = marketplace.create_requester(f"bench {number}")
        marketplace.deposit_funds(requester, 10_000_000, "USD", f"bench-{number}")
        endpoint_id, secret = marketplace.create_webhook_endpoint(url, [], requester)
        requesters.append(requester)
        endpoint_ids.append((endpoint_id, secret))
    for number in range(tasks):
        for requester in requesters:
            marketplace.post_task(requester, TaskSpec(f"t{number}", "x", Money(100, "USD")))
    ProjectionRunner(database, ["event_log"], mapper=marketplace.mapper).catch_up()
    return marketplace, requesters, endpoint_ids


def _engine_round(engine: WebhookEngine, marketplace, endpoint_ids, counter: Counter,
                  expected: int) -> float:
    for endpoint_id, _ in endpoint_ids:
        marketplace.replay_webhook_endpoint(endpoint_id, 0)
    start_count = counter.count
    started = time.perf_counter()
    threads = [threading.Thread(target=engine.run_until_idle) for _ in endpoint_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert counter.count - start_count == expected, (counter.count - start_count, expected)
    return expected / elapsed


def _raw_round(url: str, bodies: list[list[tuple[bytes, str]]], counter: Counter) -> float:
    def post_all(items):
        with httpx.Client(trust_env=False, timeout=10) as client:
            for body, secret in items:
                headers = {"Content-Type": "application/json",
                           "Taskmarket-Signature": sign(secret, body, int(time.time()))}
                response = client.post(url, content=body, headers=headers)
                assert response.status_code == 204

    expected = sum(len(items) for items in bodies)
    start_count = counter.count
    started = time.perf_counter()
    threads = [threading.Thread(target=post_all, args=(items,)) for items in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert counter.count - start_count == expected
    return expected / elapsed


def _shape(postgres, url: str, counter: Counter, endpoints: int, tasks: int) -> dict:
    with postgres.database("webhooks") as database:
        marketplace, requesters, endpoint_ids = _setup(database, url, endpoints, tasks)
        with database.connect(autocommit=True) as conn:
            sync_endpoints(marketplace, conn)  # the endpoints' state rows, as the engine's
            bodies = [[(body_of(event), secret) for event in feed.events_for(
                conn, store.endpoint_state(conn, endpoint_id), 0, 100_000)]
                for endpoint_id, secret in endpoint_ids]
        expected = sum(len(items) for items in bodies)
        policy = DeliveryPolicy(allow_private=True, batch=100, workers=endpoints)
        engine = WebhookEngine(database, marketplace, policy)
        engine.run_until_idle()  # warm up: the first delivery of every event
        engine_rates, raw_rates = [], []
        for _ in range(ROUNDS):
            engine_rates.append(_engine_round(engine, marketplace, endpoint_ids, counter,
                                              expected))
            raw_rates.append(_raw_round(url, bodies, counter))
        engine.stop()
        marketplace.close()
    deliveries, raw = statistics.median(engine_rates), statistics.median(raw_rates)
    return {"benchmark": "webhook_delivery", "endpoints": endpoints, "events": expected,
            "rounds": ROUNDS, "deliveries_per_s": round(deliveries, 1),
            "raw_httpx_posts_per_s": round(raw, 1), "ratio": round(deliveries / raw, 3),
            "deliveries_per_s_rounds": [round(r, 1) for r in engine_rates],
            "raw_posts_per_s_rounds": [round(r, 1) for r in raw_rates]}


def run(quick: bool = False) -> list[dict]:
    os.environ.setdefault("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    counter = Counter()
    receiver = Starlette(routes=[Route("/hook", counter.hook, methods=["POST"])])
    tasks = 50 if quick else 250  # two events per task
    with embedded_postgres() as postgres, serve_in_thread(receiver) as base:
        url = f"{base}/hook"
        return [_shape(postgres, url, counter, 1, tasks * 2),
                _shape(postgres, url, counter, 4, tasks // 2)]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row))
