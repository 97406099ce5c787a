"""Figure 8, worker half: payouts/s through 2 ``taskmarket worker`` processes on Redis vs 1.

Subject: N accepted payouts waiting in the log; then the dispatcher (the outbox, as
``serve --no-workers`` runs it, here in the benchmark process) sends them over a Redis
broker to two ``taskmarket worker`` processes (8 Dramatiq threads each), which pay them
through the Stripe emulator over HTTP; timed from the dispatcher's start until every
payout is PAID. Baseline: the same with one of the two worker processes paused.
Both processes start once and stay up; the baseline rounds pause one with SIGSTOP while
the queue is empty (so it holds no message), and SIGCONT resumes it. Rounds interleave
1 and 2 on one database, one Redis and one emulator.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import redis

from taskmarket.bootstrap import build_marketplace
from taskmarket.stripe_emulator import start_emulator
from taskmarket.jobs.broker import build_broker
from taskmarket.jobs.runtime import start_background
from taskmarket.jobs.stripe_gateway import StripeGateway

from .infra import Postgres, RedisMissing, redis_server
from .payout_pipeline import accepted_payouts, paid_count
from .report import row, unavailable
from .stats import Spread, interleave, ratios

THREADS = 8
MEASURE = "payouts/s, 2 worker processes on Redis"


def worker_rows(quick: bool, postgres: Postgres) -> list[dict]:
    rounds, count = (3, 25) if quick else (5, 250)
    with ExitStack() as stack:
        try:
            redis_url = stack.enter_context(redis_server())
        except RedisMissing as missing:
            return [unavailable("8", MEASURE, str(missing), "not available")]
        database = stack.enter_context(postgres.database("scaleout_workers"))
        app = build_marketplace(database)
        stack.callback(app.close)
        emulator = start_emulator()
        stack.callback(emulator.stop)
        account = emulator.stripe_client().v1.accounts.create({"type": "express"}).id
        emulator.state.store.complete_onboarding(account)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tm-bench-w-")))
        env = {k: v for k, v in os.environ.items()
               if k not in ("STRIPE_API_KEY", "TASKMARKET_DATA_DIR")}
        env.update(DATABASE_URL=database.url, REDIS_URL=redis_url,
                   STRIPE_API_BASE=emulator.url)
        workers = [stack.enter_context(worker_process(tmp, n, env)) for n in range(2)]
        wait_until_consuming(redis_url, workers, len(workers))
        gateway = StripeGateway.connect(None, emulator.url)

        def payouts_per_second(processes: int) -> float:
            for n, worker in enumerate(workers):
                worker.send_signal(signal.SIGCONT if n < processes else signal.SIGSTOP)
            accepted_payouts(app, account, count)
            target = paid_count(database) + count
            started = time.perf_counter()
            background = start_background(database, app, build_broker(database, redis_url),
                                          gateway, run_worker=False)
            try:
                deadline = time.monotonic() + 120
                while paid_count(database) < target:
                    check_alive(workers, tmp, deadline)
                    time.sleep(0.01)
                return count / (time.perf_counter() - started)
            finally:
                background.stop()

        rates = interleave(rounds, {"one": lambda: payouts_per_second(1),
                                    "two": lambda: payouts_per_second(2)})
    two, one = Spread.of(rates["two"]), Spread.of(rates["one"])
    ratio = ratios(rates["two"], rates["one"])
    return [row("8", f"{MEASURE} ({THREADS} threads each), {count} per round",
                two.show(unit="payouts/s"), f"1 worker process {one.show(unit='payouts/s')}",
                ratio, ">= 1.0x (must not fall)", ratio.median >= 0.95)]


@contextmanager
def worker_process(data_dir: Path, number: int, env: dict[str, str]):
    log = data_dir / f"worker-{number}.log"
    with open(log, "w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "taskmarket.cli", "worker", "--data-dir", str(data_dir),
             "--threads", str(THREADS)], env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGCONT)  # a stopped process would not see SIGTERM
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_consuming(redis_url: str, workers, expected: int) -> None:
    """Each consuming Dramatiq broker beats in Redis; wait until every worker process does."""
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 60
    try:
        while client.zcard("dramatiq:__heartbeats__") < expected:
            for process in workers:
                if process.poll() is not None:
                    raise RuntimeError(f"a worker process exited ({process.returncode})")
            if time.monotonic() > deadline:
                raise RuntimeError("the worker processes did not start consuming")
            time.sleep(0.1)
    finally:
        client.close()


def check_alive(workers, data_dir: Path, deadline: float) -> None:
    for n, process in enumerate(workers):
        if process.poll() is not None:
            tail = (data_dir / f"worker-{n}.log").read_text()[-1500:]
            raise RuntimeError(f"worker process {n} exited: {tail}")
    if time.monotonic() > deadline:
        raise RuntimeError("the payouts were not all paid within 120 s")
