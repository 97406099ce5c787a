"""Shared pieces of the workers' tests: the Stripe emulator, a Redis server, the pipeline.

Imported by the test modules (fixtures are re-exported there); not collected itself.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from uuid import UUID

import pytest
import redis

from taskmarket.bootstrap import build_marketplace
from taskmarket.clock import utc_now
from taskmarket.domain import Money
from taskmarket.domain.task import TaskSpec
from taskmarket.stripe_emulator import start_emulator
from taskmarket.jobs.broker import build_broker
from taskmarket.jobs.runtime import start_background
from taskmarket.jobs.stripe_gateway import StripeGateway


@pytest.fixture
def emulator():
    running = start_emulator()
    yield running
    running.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    """A throwaway redis-server on a free loopback port (.ci/run installs the binary)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server); "
                    ".ci/run installs it so CI runs these tests")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


class StoppedClock:
    """The application's clock, stopped at the moment it was made: time moves only when
    the test calls :meth:`advance` (each reading is a microsecond later, so times stay
    distinct and increasing). Dramatiq's delays are computed from it, so work that is due
    is sent at once and nothing waits on the wall clock for it."""

    def __init__(self) -> None:
        self._now = utc_now()
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self._now += timedelta(microseconds=1)
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)


# How long a test waits for something the workers do before calling it hung. Not a
# performance budget: on a loaded machine things take what they take.
PATIENCE = 60.0


def wait_until(predicate, timeout: float = PATIENCE, interval: float = 0.05,
               message: str = ""):
    """Wait for what the workers do. ``timeout`` only tells a hang from a slow machine, so
    it is never shorter than PATIENCE (a test that names 10 s must not fail at 10.1 s on a
    loaded box); the wait ends as soon as ``predicate`` holds."""
    timeout = max(timeout, PATIENCE)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message}")
        time.sleep(interval)


@contextmanager
def pipeline(database, emulator, *, redis_url: str | None = None, dispatch: bool = True,
             run_worker: bool = True, threads: int = 8, resend_after: float = 2.0,
             clock=None):
    """The marketplace plus dispatcher, sweeper and a Dramatiq worker, all real."""
    marketplace = build_marketplace(database, **({"clock": clock} if clock else {}))
    broker = build_broker(database, redis_url)
    if redis_url:
        broker.flush_all()
    gateway = StripeGateway.connect(None, emulator.url)
    background = start_background(database, marketplace, broker, gateway,
                                  dispatch=dispatch, run_worker=run_worker,
                                  worker_threads=threads, sweep_interval=0.2,
                                  resend_after=resend_after)
    try:
        yield marketplace
    finally:
        background.stop()
        marketplace.close()


def connected_account(emulator) -> str:
    """A connected account that finished onboarding (transfers to it succeed)."""
    account = emulator.stripe_client().v1.accounts.create({"type": "express"}).id
    emulator.state.store.complete_onboarding(account)
    return account


def funded_requester(app, amount: int = 10_000_000) -> UUID:
    requester = app.create_requester("Acme Labeling")
    app.deposit_funds(requester, amount, "USD", f"wire-{amount}")
    return requester


def post(app, requester: UUID, reward: int = 250, assignments: int = 1,
         **options) -> UUID:
    spec = TaskSpec("Label cats", "Draw a box around each cat", Money(reward, "USD"),
                    assignments=assignments, **options)
    return app.post_task(requester, spec)


def accepted_payout(app, requester: UUID, task: UUID, worker: UUID) -> UUID:
    claim = app.claim_task(task, worker)
    submission = app.submit_work(task, claim, worker, {"boxes": [[1, 2, 3, 4]]})
    return app.review_submission(task, submission, requester, "ACCEPT")
