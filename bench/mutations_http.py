"""Figure 3: ``claimTask`` over HTTP at 16 clients vs the same commands in-process.

Subject: 16 worker clients, each with its own WORKER key, sending ``claimTask`` for fresh
tasks to ``bench.server`` (auth, GraphQL, the command; the payload ``claim { id status }``
comes from the saved task, so the answer does not wait for the projections: it carries
the log position instead, for a later read to wait on).
Baseline: ``Marketplace.claim_task`` for as many fresh tasks from 16 threads in this
process, on the same database. Interleaved rounds; ratio = HTTP claims/s / in-process.

A second row gives the CPU time per claim in the same rounds, the same three meters for
both: the server process (every thread; its projections follow the log, so they apply
the in-process claims too), this process (the 16 HTTP clients, or the 16 callers) and
PostgreSQL. On a saturated 2-core box the rate ratio cannot exceed in-process CPU / HTTP
CPU.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from uuid import uuid4

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Money, Requester, Task
from taskmarket.domain.task import TaskSpec
from taskmarket.global_ids import to_global_id
from taskmarket.projections.runner import ProjectionRunner

from .command_throughput import CpuMeter, run_together
from .http_load import load, server_process
from .infra import Postgres, use_postgres, workers_with_keys
from .report import row
from .stats import Spread, interleave, percentile, ratios

CLIENTS = 16
CLAIM = """mutation($task: ID!) { claimTask(input: {taskId: $task}) {
  claim { id status } userErrors { code message } } }"""


def fresh_tasks(app, count: int) -> list:
    now = datetime.now(timezone.utc)
    requester = Requester(name="bench requester")
    requester.deposit(Money(100 * count, "USD"), "wire-bench")
    spec = TaskSpec("Label", "Draw boxes", Money(100, "USD"))
    tasks = []
    for _ in range(count):
        task = Task.post(requester.id, spec, now, task_id=uuid4())
        requester.reserve(task.id, spec.escrow)
        tasks.append(task)
    app.save(requester)
    for start in range(0, count, 500):
        app.save(*tasks[start:start + 500])
    return [task.id for task in tasks]


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    rounds, per_client = (3, 10) if quick else (5, 50)
    per_round = CLIENTS * per_client
    with ExitStack() as stack:
        pg = stack.enter_context(use_postgres(postgres))
        database = stack.enter_context(pg.database("mutations"))
        app = build_marketplace(database)
        stack.callback(app.close)
        workers, keys = workers_with_keys(app, CLIENTS)
        tasks = fresh_tasks(app, 2 * rounds * per_round + CLIENTS)
        ProjectionRunner(database, mapper=app.mapper).catch_up()
        url, server = stack.enter_context(server_process(database))
        latencies: list[float] = []
        meter = CpuMeter(database)
        cpu: dict[str, list[tuple[float, float, float]]] = {"http": [], "in-process": []}

        @contextmanager
        def metering(into: list):
            """Appends CPU ms per claim (server, this process, PostgreSQL) to ``into``."""
            mine0, pg0 = meter.seconds()
            server0 = process_cpu_seconds(server.pid)
            yield
            mine1, pg1 = meter.seconds()
            server1 = process_cpu_seconds(server.pid)
            into.append(tuple(1e3 * d / per_round for d in (
                server1 - server0, mine1 - mine0, pg1 - pg0)))

        def next_tasks() -> list:
            taken = tasks[:per_round]
            del tasks[:per_round]
            return taken

        def over_http() -> float:
            mine = next_tasks()

            def send(http, client: int, n: int):
                if n < 0:
                    return http.get("/healthz")
                task = mine[client * per_client + n]
                return http.post("/graphql", json={
                    "query": CLAIM, "variables": {"task": to_global_id("Task", task)}},
                    headers={"Authorization": f"Bearer {keys[client]}"})

            found, rate = load(url, CLIENTS, per_client, send, metering(cpu["http"]))
            latencies.extend(found)
            return rate

        def in_process() -> float:
            mine = next_tasks()

            def work(client: int) -> None:
                for n in range(per_client):
                    app.claim_task(mine[client * per_client + n], workers[client].id)

            with metering(cpu["in-process"]):
                return per_round / run_together(CLIENTS, work)

        rates = interleave(rounds, {"http": over_http, "in-process": in_process})
    http, local = Spread.of(rates["http"]), Spread.of(rates["in-process"])
    return [row("3", f"claimTask over HTTP, {CLIENTS} clients",
                f"{http.show(unit='claims/s')}, p50 {percentile(latencies, .5):.0f} ms",
                f"in-process {local.show(unit='claims/s')}",
                ratios(rates["http"], rates["in-process"])),
            _cpu_row(cpu)]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, every thread (Linux)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _cpu_row(cpu: dict[str, list[tuple[float, float, float]]]) -> dict:
    def total(samples) -> list[float]:
        return [sum(sample) for sample in samples]

    def median(samples, i: int) -> float:
        return Spread.of([sample[i] for sample in samples]).median

    http, local = cpu["http"], cpu["in-process"]
    return row("3", f"CPU per claim at {CLIENTS} clients: over HTTP vs in-process; "
                    "ratio = in-process CPU / HTTP CPU",
               f"{Spread.of(total(http)).median:.2f} ms ({median(http, 0):.2f} server + "
               f"{median(http, 1):.2f} HTTP clients + {median(http, 2):.2f} PostgreSQL)",
               f"in-process {Spread.of(total(local)).median:.2f} ms ({median(local, 1):.2f} "
               f"callers + {median(local, 0):.2f} server's projections + "
               f"{median(local, 2):.2f} PostgreSQL)",
               ratios(total(local), total(http)))
