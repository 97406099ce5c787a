"""Figure 8: scale-out — 2 API processes vs 1, and 2 worker processes on Redis vs 1.

API half. Subject: 16 worker clients sending ``claimTask`` for fresh tasks, spread over two
``bench.server`` processes on the same database (each with its projections thread;
the runners share the work through their position locks).
Baseline: the same clients and commands, all sent to one of the two processes.
Both processes stay up for the whole figure; rounds interleave 1 and 2. On 2 cores the
throughput cannot double; the target is that it does not fall.

Worker half (bench/scale_out_workers.py): payouts/s end to end through 2 ``taskmarket
worker`` processes on a Redis broker vs 1, against the Stripe emulator.
"""

from __future__ import annotations

from contextlib import ExitStack

from taskmarket.bootstrap import build_marketplace
from taskmarket.global_ids import to_global_id
from taskmarket.projections.runner import ProjectionRunner

from .http_load import load, server_process
from .infra import Postgres, use_postgres, workers_with_keys
from .mutations_http import CLAIM, CLIENTS, fresh_tasks
from .report import row
from .scale_out_workers import worker_rows
from .stats import Spread, interleave, ratios


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    with use_postgres(postgres) as pg:
        return api_rows(quick, pg) + worker_rows(quick, pg)


def api_rows(quick: bool, postgres: Postgres) -> list[dict]:
    rounds, per_client = (3, 8) if quick else (5, 40)
    per_round = CLIENTS * per_client
    with ExitStack() as stack:
        pg = stack.enter_context(use_postgres(postgres))
        database = stack.enter_context(pg.database("scaleout"))
        app = build_marketplace(database)
        stack.callback(app.close)
        workers, keys = workers_with_keys(app, CLIENTS)
        tasks = fresh_tasks(app, 2 * rounds * per_round + CLIENTS)
        ProjectionRunner(database, mapper=app.mapper).catch_up()
        urls = [stack.enter_context(server_process(database))[0] for _ in range(2)]

        def claims_per_second(servers: int) -> float:
            mine = tasks[:per_round]
            del tasks[:per_round]

            def send(http, client: int, n: int):
                if n < 0:
                    return http.get("/healthz")
                task = mine[client * per_client + n]
                return http.post("/graphql", json={
                    "query": CLAIM, "variables": {"task": to_global_id("Task", task)}},
                    headers={"Authorization": f"Bearer {keys[client]}"})

            # client i talks to server i % servers: load() gives each client its own base URL
            return load_split(urls[:servers], per_client, send)

        rates = interleave(rounds, {"one": lambda: claims_per_second(1),
                                    "two": lambda: claims_per_second(2)})
    two, one = Spread.of(rates["two"]), Spread.of(rates["one"])
    ratio = ratios(rates["two"], rates["one"])
    return [row("8", f"claimTask over HTTP, {CLIENTS} clients, 2 API processes",
                two.show(unit="claims/s"), f"1 API process {one.show(unit='claims/s')}",
                ratio, ">= 1.0x (must not fall)", ratio.median >= 0.95)]


def load_split(urls: list[str], per_client: int, send) -> float:
    """Requests/s with the clients spread round-robin over ``urls``."""
    import threading

    rates: list[float] = []
    groups = [[c for c in range(CLIENTS) if c % len(urls) == i] for i in range(len(urls))]
    lock = threading.Lock()

    def drive(url: str, clients: list[int]) -> None:
        def mapped(http, index: int, n: int):
            return send(http, clients[index], n)

        _, rate = load(url, len(clients), per_client, mapped)
        with lock:
            rates.append(rate)

    threads = [threading.Thread(target=drive, args=(u, g)) for u, g in zip(urls, groups)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(rates)
