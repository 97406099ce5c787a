"""Payouts per second through the whole pipeline, against the emulator's raw transfer rate.

Subject: N accepted payouts waiting in the log; then the dispatcher (outbox), the broker
(PostgreSQL queue, or Redis with REDIS_URL), the pay_payout actor (8 threads: load payout
and worker, Stripe SDK call, record PAID) and the Stripe emulator over HTTP, timed from
start until every payout is PAID.
Baseline: the same number of transfers created straight through the Stripe SDK against
the same emulator, from 8 threads (no database, no broker): the ceiling the pipeline adds
its cost on top of. Rounds are interleaved (raw, pipeline, raw, ...) in one run; printed:
medians, ranges and the ratio pipeline / raw.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from infra import embedded_postgres  # noqa: E402

from taskmarket.bootstrap import build_marketplace  # noqa: E402
from eventsourcing.utils import get_topic  # noqa: E402

from taskmarket.domain import Money, Payout, PayoutStatus  # noqa: E402
from taskmarket.domain.task import TaskSpec  # noqa: E402
from taskmarket.stripe_emulator import start_emulator  # noqa: E402
from taskmarket.workers.broker import build_broker  # noqa: E402
from taskmarket.workers.runtime import start_background  # noqa: E402
from taskmarket.workers.stripe_gateway import StripeGateway  # noqa: E402

THREADS = 8
ROUNDS = 3


def raw_rate(emulator, account: str, count: int, tag: str) -> float:
    client = StripeGateway.connect(None, emulator.url).client

    def one(n: int) -> None:
        client.v1.transfers.create(
            {"amount": 100, "currency": "usd", "destination": account,
             "transfer_group": f"raw-{tag}", "metadata": {"payout_id": f"{tag}-{n}"}},
            options={"idempotency_key": f"raw-{tag}-{n}"})

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started)


def accepted_payouts(app, account: str, count: int) -> list:
    requester = app.create_requester("Bench")
    app.deposit_funds(requester, 100 * count, "USD", "wire")
    workers = [app.register_worker(f"w{n}", [], account) for n in range(min(count, 50))]
    payouts = []
    while len(payouts) < count:
        batch = workers[:count - len(payouts)]
        task = app.post_task(requester, TaskSpec("t", "i", Money(100, "USD"),
                                                 assignments=len(batch)))
        for worker in batch:
            claim = app.claim_task(task, worker)
            submission = app.submit_work(task, claim, worker, {"ok": True})
            payouts.append(app.review_submission(task, submission, requester, "ACCEPT"))
    return payouts


def pipeline_rate(pg, emulator, account: str, count: int) -> float:
    with pg.database("payouts") as database:
        app = build_marketplace(database)
        payouts = accepted_payouts(app, account, count)
        broker = build_broker(database, os.environ.get("REDIS_URL"))
        if os.environ.get("REDIS_URL"):
            broker.flush_all()
        gateway = StripeGateway.connect(None, emulator.url)
        started = time.perf_counter()
        background = start_background(database, app, broker, gateway,
                                      worker_threads=THREADS)
        try:
            while paid_count(database) < count:
                time.sleep(0.01)
            elapsed = time.perf_counter() - started
            assert all(app.get_payout(p).status == PayoutStatus.PAID for p in payouts)
        finally:
            background.stop()
            app.close()
    return count / elapsed


def paid_count(database) -> int:
    """One cheap query (not a load per payout), so watching steals little CPU."""
    with database.connect() as conn:
        return conn.execute("SELECT count(*) FROM taskmarket_events WHERE topic = %s",
                            (get_topic(Payout.Paid),)).fetchone()[0]


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 1),
            "min": round(min(values), 1), "max": round(max(values), 1)}


def run(quick: bool = False, postgres=None) -> list[dict]:
    """The figure; ``postgres`` is the harness's server when ``python -m bench`` runs it."""
    count = 100 if quick else 400
    raw, piped = [], []
    with nullcontext(postgres) if postgres else embedded_postgres() as pg:
        emulator = start_emulator()
        try:
            account = emulator.stripe_client().v1.accounts.create({"type": "express"}).id
            emulator.state.store.complete_onboarding(account)
            for n in range(ROUNDS):
                raw.append(raw_rate(emulator, account, count, f"r{n}"))
                piped.append(pipeline_rate(pg, emulator, account, count))
        finally:
            emulator.stop()
    broker = "redis" if os.environ.get("REDIS_URL") else "postgres"
    ratio = statistics.median(piped) / statistics.median(raw)
    return [
        {"name": "raw emulator transfers/s (SDK, 8 threads)", "payouts": count, **spread(raw)},
        {"name": f"pipeline payouts/s ({broker} broker, 8 worker threads)", "payouts": count,
         **spread(piped)},
        {"name": "pipeline / raw", "ratio": round(ratio, 3)},
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
