"""Figure 6: loading a task with 1,000+ events, from a snapshot vs by replaying them all.

Subject: ``Marketplace.get_task`` with a snapshot store, the task snapshotted at its
latest version (the load reads the snapshot and no events after it).
Baseline: the same ``get_task`` without snapshots (reads and replays every event).
Floor, for orientation: loading a task that has only its first event.
Same database, interleaved rounds; each value is the median of many loads.
"""

from __future__ import annotations

import statistics
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from uuid import uuid4

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Money, Task
from taskmarket.domain.task import TaskSpec

from .infra import Postgres, use_postgres
from .report import row
from .stats import Spread, interleave, ratios

TARGET_MS = 2.0


def long_task(events: int) -> Task:
    """A task whose workers claimed and released it until it has ``events`` events."""
    now = datetime.now(timezone.utc)
    task = Task.post(uuid4(), TaskSpec("Long", "Many claims", Money(100, "USD")), now)
    worker = uuid4()
    while task.version < events:
        task.release(task.claim(worker, [], now), worker)
    return task


def load_ms(app, task_id, loads: int) -> float:
    times = []
    for _ in range(loads):
        started = time.perf_counter()
        app.get_task(task_id)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    events, loads, rounds = (1_001, 30, 3) if quick else (2_001, 200, 5)
    with ExitStack() as stack:
        pg = stack.enter_context(use_postgres(postgres))
        database = stack.enter_context(pg.database("load"))
        replaying = build_marketplace(database, IS_SNAPSHOTTING_ENABLED="n")
        stack.callback(replaying.close)
        snapshotting = build_marketplace(database, IS_SNAPSHOTTING_ENABLED="y")
        stack.callback(snapshotting.close)
        task = long_task(events)
        pending = task.collect_events()
        for start in range(0, len(pending), 500):
            replaying.save(*pending[start:start + 500])
        snapshotting.take_snapshot(task.id)
        short = Task.post(uuid4(), TaskSpec("Short", "One event", Money(100, "USD")),
                          datetime.now(timezone.utc))
        replaying.save(short)
        assert vars_equal(snapshotting.get_task(task.id), replaying.get_task(task.id))
        measured = interleave(rounds, {
            "replay": lambda: load_ms(replaying, task.id, loads),
            "snapshot": lambda: load_ms(snapshotting, task.id, loads),
            "one event": lambda: load_ms(replaying, short.id, loads),
        })
    snapshot, replay = Spread.of(measured["snapshot"]), Spread.of(measured["replay"])
    floor = Spread.of(measured["one event"])
    return [
        row("6", f"load a task of {task.version:,} events from a snapshot",
            snapshot.show(".2f", "ms"), f"replay all {replay.show('.1f', 'ms')}",
            ratios(measured["snapshot"], measured["replay"]), f"<= {TARGET_MS} ms",
            snapshot.median <= TARGET_MS),
        row("6", "load a task of 1 event (floor)", floor.show(".2f", "ms"), "",
            ratios(measured["one event"], measured["replay"])),
    ]


def vars_equal(left, right) -> bool:
    a, b = dict(vars(left)), dict(vars(right))
    a.pop("_pending_events", None)
    b.pop("_pending_events", None)
    return a == b
