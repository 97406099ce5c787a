"""Payouts per second through the whole pipeline, against the emulator's raw transfer rate.

Subject: N accepted payouts waiting in the log, the dispatcher already past the setup's
claims and submissions (as a live one would be; the reviews that request the payouts are
dispatched inside the timed part); then the dispatcher (outbox), the broker
(PostgreSQL queue, or Redis with REDIS_URL), the pay_payout actor (8 threads: load payout
and worker, Stripe SDK call, record PAID) and the Stripe emulator over HTTP, timed from
start until every payout is PAID.
Baseline: the same number of transfers created straight through the Stripe SDK (as it
comes: its default HTTP client) against the same emulator, from 8 threads (no database,
no broker): the ceiling the pipeline adds its cost on top of. Rounds are interleaved (raw, pipeline, raw, ...) in one run; printed:
medians, ranges and the ratio pipeline / raw.

The emulator runs in its own process (``python -m taskmarket.stripe_emulator``), as
Stripe is another machine: in this process it shared the GIL with the workers and the
raw clients. When redis-server is installed, the pipeline is measured again with the
Redis broker (the raw baseline is the same), and once more with the emulator in a thread
of this process, for reference.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import httpx
import stripe

sys.path.insert(0, str(Path(__file__).parent))
from infra import RedisMissing, embedded_postgres, free_port, redis_server  # noqa: E402

from taskmarket.bootstrap import build_marketplace  # noqa: E402
from eventsourcing.utils import get_topic  # noqa: E402

from taskmarket.domain import Money, Payout, PayoutStatus  # noqa: E402
from taskmarket.domain.task import TaskSpec  # noqa: E402
from taskmarket.stripe_emulator import start_emulator  # noqa: E402
from taskmarket.jobs.broker import build_broker  # noqa: E402
from taskmarket.jobs.actors import register_actors  # noqa: E402
from taskmarket.jobs.dispatcher import Dispatcher  # noqa: E402
from taskmarket.jobs.runtime import build_services, start_background  # noqa: E402
from taskmarket.projections.follower import listen, wait_for_append  # noqa: E402
from taskmarket.jobs.stripe_gateway import EMULATOR_API_KEY, StripeGateway  # noqa: E402

THREADS = 8
ROUNDS = 3


def raw_rate(emulator, account: str, count: int, tag: str) -> float:
    # The SDK as it comes (its own HTTP client, per-thread sessions), not our gateway's
    # tuned one: the baseline stays what it was when our side changes.
    client = stripe.StripeClient(EMULATOR_API_KEY, base_addresses={"api": emulator.url},
                                 max_network_retries=0)

    def one(n: int) -> None:
        client.v1.transfers.create(
            {"amount": 100, "currency": "usd", "destination": account,
             "transfer_group": f"raw-{tag}", "metadata": {"payout_id": f"{tag}-{n}"}},
            options={"idempotency_key": f"raw-{tag}-{n}"})

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started)


def submissions_to_review(app, account: str, count: int) -> tuple:
    """``count`` submissions waiting for review, by workers whose payout accounts are
    ENABLED: (requester, [(task, submission), ...])."""
    requester = app.create_requester("Bench")
    app.deposit_funds(requester, 100 * count, "USD", "wire")
    workers = [app.register_worker(f"w{n}", []) for n in range(min(count, 50))]
    for worker in workers:
        # As onboarding leaves it: linked, with Stripe's word that transfers are enabled
        # (without it each worker's first payout asks Stripe, and the status it records
        # re-sends every payout of that worker still waiting).
        app.link_payout_account(worker, account, "ENABLED", [])
    submissions = []
    while len(submissions) < count:
        batch = workers[:count - len(submissions)]
        task = app.post_task(requester, TaskSpec("t", "i", Money(100, "USD"),
                                                 assignments=len(batch)))
        for worker in batch:
            claim = app.claim_task(task, worker)
            submissions.append((task, app.submit_work(task, claim, worker, {"ok": True})))
    return requester, submissions


def accepted_payouts(app, account: str, count: int) -> list:
    """``count`` accepted submissions' payouts, waiting in the log."""
    requester, submissions = submissions_to_review(app, account, count)
    return [app.review_submission(task, submission, requester, "ACCEPT")
            for task, submission in submissions]


def dispatch_until_now(database, app, gateway, redis_url: str | None) -> None:
    """Run the dispatcher to the log's end (sending to the same queue through a broker
    of its own), as a live deployment's would have while the setup happened."""
    broker = build_broker(database, redis_url)
    services = build_services(database, app, gateway)
    try:
        dispatcher = Dispatcher(app, services.work, register_actors(broker, services))
        while dispatcher.run_once():
            pass
        dispatcher.senders.shutdown(wait=True)
    finally:
        services.work.pool.close()
        broker.close()


class EmulatorProcess:
    """The Stripe emulator in a child process; ``url`` as the in-process one has."""

    def __init__(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "taskmarket.stripe_emulator", "--port", str(port),
             "--log-level", "warning"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/_emulator/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Stripe emulator did not start")
            time.sleep(0.1)

    def onboarded_account(self) -> str:
        client = StripeGateway.connect(None, self.url).client
        account = client.v1.accounts.create({"type": "express"}).id
        httpx.post(f"{self.url}/_emulator/accounts/{account}/onboard").raise_for_status()
        return account

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def pipeline_rate(pg, emulator, account: str, count: int,
                  redis_url: str | None = None) -> float:
    with pg.database("payouts") as database:
        app = build_marketplace(database)
        broker = build_broker(database, redis_url)
        if redis_url:
            broker.flush_all()
        gateway = StripeGateway.connect(None, emulator.url)
        requester, submissions = submissions_to_review(app, account, count)
        # The setup's own events (claims, submissions: leases and auto-approvals owed) are
        # dispatched before timing, as a live dispatcher would have as they happened; the
        # reviews that request the payouts are dispatched inside the timed part.
        dispatch_until_now(database, app, gateway, redis_url)
        payouts = [app.review_submission(task, submission, requester, "ACCEPT")
                   for task, submission in submissions]
        # One connection, woken by the event store's NOTIFY on each append instead of
        # polling every 10 ms: a look per commit (py-spy put the polling at a quarter of
        # the timed part's interpreter time on a slow, loaded round).
        watcher = database.connect(autocommit=True)
        listen(watcher)
        started = time.perf_counter()
        background = start_background(database, app, broker, gateway,
                                      worker_threads=THREADS)
        try:
            while paid_count(database, watcher) < count:
                wait_for_append(watcher, 0.05)
            elapsed = time.perf_counter() - started
            assert all(app.get_payout(p).status == PayoutStatus.PAID for p in payouts)
        finally:
            background.stop()
            watcher.close()
            app.close()
    return count / elapsed


def paid_count(database, conn=None) -> int:
    """One cheap query (not a load per payout), so watching steals little CPU; on ``conn``
    when given (a new connection per look cost the pipeline's process ~15% of its
    interpreter time)."""
    if conn is None:
        with database.connect() as fresh:
            return paid_count(database, fresh)
    return conn.execute("SELECT count(*) FROM taskmarket_events WHERE topic = %s",
                        (get_topic(Payout.Paid),)).fetchone()[0]


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 1),
            "min": round(min(values), 1), "max": round(max(values), 1)}


def measure(pg, emulator, account: str, count: int, redis_url: str | None,
            label: str) -> list[dict]:
    """Interleaved rounds of raw transfers and the pipeline against ``emulator``."""
    raw, piped, ratios = [], [], []
    for n in range(ROUNDS):
        raw.append(raw_rate(emulator, account, count, f"{label}-r{n}"))
        piped.append(pipeline_rate(pg, emulator, account, count, redis_url))
        ratios.append(piped[-1] / raw[-1])
    broker = "redis" if redis_url else "postgres"
    return [
        {"name": f"raw emulator transfers/s (SDK, 8 threads; {label})", "payouts": count,
         **spread(raw)},
        {"name": f"pipeline payouts/s ({broker} broker, 8 worker threads; {label})",
         "payouts": count, **spread(piped)},
        {"name": f"pipeline / raw ({broker} broker; {label})",
         "ratio": round(statistics.median(ratios), 3),
         "ratio_range": f"{min(ratios):.2f}-{max(ratios):.2f}"},
    ]


def run(quick: bool = False, postgres=None) -> list[dict]:
    """The figure; ``postgres`` is the harness's server when ``python -m bench`` runs it."""
    count = 100 if quick else 400
    rows: list[dict] = []
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(nullcontext(postgres) if postgres else embedded_postgres())
        emulator = EmulatorProcess()
        stack.callback(emulator.stop)
        account = emulator.onboarded_account()
        rows += measure(pg, emulator, account, count, os.environ.get("REDIS_URL"),
                        "emulator in its own process")
        if not os.environ.get("REDIS_URL"):
            try:
                redis_url = stack.enter_context(redis_server())
            except RedisMissing:
                redis_url = None
            if redis_url:
                rows += measure(pg, emulator, account, count, redis_url,
                                "emulator in its own process")
        in_thread = start_emulator()
        stack.callback(in_thread.stop)
        local = in_thread.stripe_client().v1.accounts.create({"type": "express"}).id
        in_thread.state.store.complete_onboarding(local)
        rows += measure(pg, in_thread, local, count, os.environ.get("REDIS_URL"),
                        "emulator in a thread of this process, as before")
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
