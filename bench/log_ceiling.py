"""Figure 10: the group-commit log's ceiling at 1, 2, 4, 16 and 64 callers.

Subject: commands that only save (``register_worker``: no load, one event) from N threads
through the group-commit event store: every save goes through the one writer at a time
(docs/scaling.md). Measured alongside: the mean batch (saves per write of the log) and
the mean time of one batch write, from which the model in docs/scaling.md is fitted.
Baseline: ``INSERT`` of one row, autocommit, one connection per thread, N threads: what
PostgreSQL does with N concurrent durable commits (its own WAL group flush).
Interleaved rounds per N; ratio = saves/s / raw INSERT/s of the same round.
"""

from __future__ import annotations

import time
from contextlib import ExitStack

from taskmarket.bootstrap import build_marketplace

from .command_throughput import RawInserts, run_together
from .infra import Postgres, use_postgres
from .report import row
from .stats import Spread, interleave, ratios

CALLERS = (1, 2, 4, 16, 64)


class BatchMeter:
    """Counts the log's batch writes and their time (wraps the recorder's writer)."""

    def __init__(self, recorder) -> None:
        group = recorder._group_commit
        self.write = group._write_batch
        group._write_batch = self._timed
        self.batches = self.saves = 0
        self.seconds = 0.0

    def _timed(self, payloads):
        started = time.perf_counter()
        try:
            return self.write(payloads)
        finally:
            self.seconds += time.perf_counter() - started
            self.batches += 1
            self.saves += len(payloads)

    def reset(self) -> None:
        self.batches = self.saves = 0
        self.seconds = 0.0


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    rounds, per_measure = (3, 256) if quick else (5, 2_048)
    rows = []
    with ExitStack() as stack:
        pg = stack.enter_context(use_postgres(postgres))
        database = stack.enter_context(pg.database("ceiling"))
        app = build_marketplace(database)
        stack.callback(app.close)
        meter = BatchMeter(app.recorder)
        raw = RawInserts(database)
        raw.connections += [database.connect(autocommit=True)
                            for _ in range(max(CALLERS) - len(raw.connections))]
        stack.callback(raw.close)
        for callers in CALLERS:
            batch_sizes: list[float] = []
            batch_ms: list[float] = []
            each = max(1, per_measure // callers)

            def saves(callers: int = callers, each: int = each) -> float:
                meter.reset()

                def work(index: int) -> None:
                    for n in range(each):
                        app.register_worker(f"c{callers}-{index}-{n}", [])

                rate = each * callers / run_together(callers, work)
                batch_sizes.append(meter.saves / max(meter.batches, 1))
                batch_ms.append(1000 * meter.seconds / max(meter.batches, 1))
                return rate

            measured = interleave(rounds, {
                "saves": saves,
                "raw": lambda callers=callers, each=each: raw.rate(callers, each * callers)})
            subject, baseline = Spread.of(measured["saves"]), Spread.of(measured["raw"])
            size, write = Spread.of(batch_sizes), Spread.of(batch_ms)
            rows.append(row(
                "10", f"group-commit log, saves only, {callers} caller{'s' * (callers > 1)}",
                f"{subject.show(unit='saves/s')}; batch {size.median:.1f} saves, "
                f"write {write.median:.2f} ms",
                f"raw INSERT {baseline.show(unit='tx/s')}",
                ratios(measured["saves"], measured["raw"])))
    return rows
