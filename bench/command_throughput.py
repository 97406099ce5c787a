"""Figure 1: claim commands through the application service vs raw one-row transactions.

Subject: ``Marketplace.claim_task`` (load the worker and the task, call the domain, save the
new event) from 1, 4 and 16 threads, with the event store as configured (group commit).
Baseline: ``INSERT INTO t VALUES (...)`` of one row, autocommit, one connection per thread,
from the same number of threads: the floor of a durable write on this PostgreSQL.
A second measure at 16 threads isolates the write path: commands that only save
(registering a worker: no loads), against the same baseline.
References in the same rounds: the library's default recorder (a table lock per save),
and in the full run its DB-functions mode (fast, but a follower can skip an event).
Each measurement does a fixed number of claims on fresh tasks, so every claim is the
same work; rounds are interleaved and the ratio is taken per round.
A last row says what limits the ratio on a busy 2-core box: the CPU time per operation
(this process's user + system time, plus the PostgreSQL server's processes) of a claim
and of a raw INSERT at 16 callers; when the CPU is saturated, claims/s over INSERTs/s
cannot exceed CPU per INSERT over CPU per claim.
"""

from __future__ import annotations

import resource
import threading
from contextlib import ExitStack
from datetime import datetime, timezone
from uuid import UUID, uuid4

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Money, Task, Worker
from taskmarket.domain.task import TaskSpec

from .infra import Postgres, use_postgres
from .report import row
from .stats import Spread, Stopwatch, interleave, ratios

CALLERS = (1, 4, 16)
TARGET_AT_16 = 0.4  # issue 14 (was 0.6)
LIBRARY = "eventsourcing.postgres:PostgresApplicationRecorder"


def run_together(callers: int, work) -> float:
    """Seconds for ``callers`` threads to each run ``work(index)``, started at once."""
    start = threading.Barrier(callers + 1)
    errors: list[BaseException] = []

    def body(index: int) -> None:
        start.wait()
        try:
            work(index)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    with Stopwatch() as watch:
        start.wait()
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return watch.seconds


class CpuMeter:
    """CPU seconds of this process and of one PostgreSQL server's processes (Linux)."""

    def __init__(self, database):
        import psutil

        with database.connect() as conn:  # the backend's parent, while the backend lives
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            self.postmaster = psutil.Process(backend).parent()

    def seconds(self) -> tuple[float, float]:
        # getrusage sums every thread's run time (ended ones too) at fine resolution;
        # a server process's schedstat is its run time in ns (they are single-threaded).
        mine = resource.getrusage(resource.RUSAGE_SELF)
        server = 0
        for pid in [self.postmaster.pid, *(p.pid for p in self.postmaster.children())]:
            try:
                with open(f"/proc/{pid}/schedstat") as stat:
                    server += int(stat.read().split()[0])
            except (OSError, ValueError, IndexError):  # a backend that just ended
                continue
        return mine.ru_utime + mine.ru_stime, server / 1e9

    def per_op(self, measure, count: int, into: list[tuple[float, float]]):
        """``measure`` wrapped to append (client, server) microseconds per op to ``into``."""
        def measured() -> float:
            client0, server0 = self.seconds()
            rate = measure()
            client1, server1 = self.seconds()
            into.append((1e6 * (client1 - client0) / count, 1e6 * (server1 - server0) / count))
            return rate
        return measured


class RawInserts:
    def __init__(self, database):
        self.connections = [database.connect(autocommit=True) for _ in range(max(CALLERS))]
        self.connections[0].execute(
            "CREATE TABLE IF NOT EXISTS bench_rows (id bigserial PRIMARY KEY, body text)")

    def rate(self, callers: int, total: int) -> float:
        each = total // callers

        def work(index: int) -> None:
            conn = self.connections[index]
            for _ in range(each):
                conn.execute("INSERT INTO bench_rows (body) VALUES (%s)", ("claimed",))

        return each * callers / run_together(callers, work)

    def close(self) -> None:
        for conn in self.connections:
            conn.close()


class Claims:
    """Claims on fresh tasks through one Marketplace configuration."""

    def __init__(self, database, tasks_needed: int, **env: str):
        self.app = build_marketplace(database, **env)
        self.workers = [self._save(Worker.register(f"w{n}", [])) for n in range(max(CALLERS))]
        now = datetime.now(timezone.utc)
        spec = TaskSpec("Label", "Draw boxes", Money(100, "USD"))
        tasks = [Task.post(uuid4(), spec, now) for _ in range(tasks_needed)]
        for start in range(0, len(tasks), 500):
            self.app.save(*tasks[start:start + 500])
        self.fresh = [task.id for task in tasks]

    def _save(self, aggregate) -> UUID:
        self.app.save(aggregate)
        return aggregate.id

    def create_rate(self, callers: int, total: int) -> float:
        """Commands that only save (register a worker): the write path alone."""
        each = total // callers

        def work(index: int) -> None:
            for n in range(each):
                self.app.register_worker(f"bench-{index}-{n}", ["vision"])

        return each * callers / run_together(callers, work)

    def rate(self, callers: int, total: int) -> float:
        each = total // callers
        batches = [self.fresh[i * each:(i + 1) * each] for i in range(callers)]
        del self.fresh[:each * callers]

        def work(index: int) -> None:
            for task in batches[index]:
                self.app.claim_task(task, self.workers[index])

        return each * callers / run_together(callers, work)

    def close(self) -> None:
        self.app.close()


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    rounds, per_measure = (3, 160) if quick else (5, 1_600)
    variants = {"group commit": {}, "library default": {"APPLICATION_RECORDER_TOPIC": LIBRARY}}
    if not quick:
        variants["library DB functions"] = {"APPLICATION_RECORDER_TOPIC": LIBRARY,
                                            "POSTGRES_ENABLE_DB_FUNCTIONS": "y"}
    needed = rounds * len(CALLERS) * per_measure + 16 * 40
    with ExitStack() as stack:
        pg = stack.enter_context(use_postgres(postgres))
        raw = RawInserts(stack.enter_context(pg.database("raw")))
        stack.callback(raw.close)
        subjects = {}
        for name, env in variants.items():
            subjects[name] = Claims(stack.enter_context(pg.database("claims")), needed, **env)
            stack.callback(subjects[name].close)
        for claims in subjects.values():  # warm pools and caches, not measured
            claims.rate(16, 16 * 20)
        raw.rate(16, 16 * 20)
        rows = []
        meter = CpuMeter(pg.template)
        cpu: dict[str, list[tuple[float, float]]] = {"raw": [], "claim": []}
        for callers in CALLERS:
            raw_rate = lambda c=callers: raw.rate(c, per_measure)  # noqa: E731
            ours = lambda c=callers: subjects["group commit"].rate(c, per_measure)  # noqa: E731
            if callers == 16:
                raw_rate = meter.per_op(raw_rate, per_measure, cpu["raw"])
                ours = meter.per_op(ours, per_measure, cpu["claim"])
            measured = interleave(rounds, {
                "raw": raw_rate, "group commit": ours,
                **{name: (lambda s=s, c=callers: s.rate(c, per_measure))
                   for name, s in subjects.items() if name != "group commit"},
            })
            rows += _rows("claims", callers, measured)
        measured = interleave(rounds, {
            "raw": lambda: raw.rate(16, per_measure),
            **{name: (lambda s=s: s.create_rate(16, per_measure))
               for name, s in subjects.items()},
        })
        rows += _rows("creates (save only)", 16, measured)
        rows.append(_cpu_row(cpu))
    return rows


def _cpu_row(cpu: dict[str, list[tuple[float, float]]]) -> dict:
    """CPU per claim vs per raw INSERT at 16 callers: the ratio's ceiling on a full CPU."""
    def total(samples):
        return [client + server for client, server in samples]

    def show(samples) -> str:
        client = Spread.of([c for c, _ in samples]).median
        server = Spread.of([s for _, s in samples]).median
        return f"{Spread.of(total(samples)).median:,.0f} us ({client:,.0f} client + {server:,.0f} PostgreSQL)"

    return row("1", "CPU per operation at 16 callers: claim via Marketplace (group commit) "
                    "vs raw INSERT; ratio = CPU per INSERT / CPU per claim",
               show(cpu["claim"]), f"raw INSERT {show(cpu['raw'])}",
               ratios(total(cpu["raw"]), total(cpu["claim"])))


def _rows(kind: str, callers: int, measured: dict[str, list[float]]) -> list[dict]:
    raw = Spread.of(measured["raw"])
    out = []
    for name, values in measured.items():
        if name == "raw":
            continue
        ratio = ratios(values, measured["raw"])
        ours = name == "group commit"
        target = f">= {TARGET_AT_16}x" if ours and callers == 16 and kind == "claims" else ""
        met = ratio.median >= TARGET_AT_16 if target else None
        label = f"{kind} via Marketplace, {name}, {callers} caller{'s' * (callers > 1)}"
        if name == "library DB functions":
            label += " (not gap-free)"
        out.append(row("1", label, Spread.of(values).show(unit="cmd/s"),
                       f"raw INSERT {raw.show(unit='tx/s')}", ratio, target, met))
    return out
