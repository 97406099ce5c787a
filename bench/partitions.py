"""Figure P: per-tenant partitions simulated with several PostgreSQL instances on this box.

Each partition is its own embedded PostgreSQL server (own data directory, own WAL and
fsync) with its own group-commit log (``build_marketplace`` on it): one writer at a time
per partition, none across them (docs/scaling.md, section 3).

Writes: 16 caller threads, each a tenant, send commands that only save (``register_worker``:
one event, no load) to their tenant's partition (tenant number modulo the partition count).
Subject: the aggregate saves/s with the same 16 callers spread over 2 and 4 partitions;
baseline: all 16 on one partition. Interleaved rounds; every server stays up throughout.
Each row also gives the CPU per save (this process plus every server's processes): on a
box whose cores are full, that, not the one writer per log, sets the rate.

Merged feed: a follower that wants one stream reads every partition's log by notification
id and merges the pages by event timestamp (a k-way heap merge). Its position is a vector
(one notification id per partition), not a number, and it keeps each partition's order but
no total order across them (see docs/scaling.md). Subject: events/s through the merging
reader over the 4 partitions' logs; baseline: the same number of events read and decoded
from one partition's log alone (what a follower of a single log does).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from taskmarket.bootstrap import build_marketplace

from .command_throughput import CpuMeter, run_together
from .infra import embedded_server
from .report import row
from .stats import Spread, interleave, ratios

PARTITIONS = (1, 2, 4)
CALLERS = 16
PAGE = 500


def follow(app: Any, after: int = 0) -> Iterator[tuple[int, Any]]:
    """(notification id, domain event) of one partition's log from ``after`` on, in pages."""
    while True:
        page = app.recorder.select_notifications(start=after + 1, limit=PAGE)
        if not page:
            return
        for notification in page:
            yield notification.id, app.mapper.to_domain_event(notification)
        after = page[-1].id


class MergedFeed:
    """One stream over several partitions' logs, merged by event timestamp.

    ``position`` is the vector of the last notification id taken from each partition:
    what a consumer of the merged feed must store to resume. Within a partition, events
    come in log order. A log is not in timestamp order (an event is stamped when its
    command runs, given its id when its batch commits, so two concurrent commands can
    commit in the other order), so the merge key is each partition's running maximum
    timestamp: monotonic per partition, which a k-way merge needs. Across partitions the
    order is by that key (ties by partition number), an order among the events already
    committed when they are read, not one every reader would see the same way live.
    ``late`` counts events stamped earlier than one before them in their own log.
    """

    def __init__(self, apps: list[Any]):
        self.apps = apps
        self.position = [0] * len(apps)
        self.late = 0

    def _keyed(self, number: int) -> Iterator[tuple[Any, int, int, Any]]:
        high = None
        for notification_id, event in follow(self.apps[number], self.position[number]):
            if high is None or event.timestamp > high:
                high = event.timestamp
            elif event.timestamp < high:
                self.late += 1
            yield high, number, notification_id, event

    def __iter__(self) -> Iterator[tuple[int, int, Any]]:
        streams = [self._keyed(number) for number in range(len(self.apps))]
        for _, number, notification_id, event in heapq.merge(*streams,
                                                             key=lambda item: item[:3]):
            self.position[number] = notification_id
            yield number, notification_id, event


def run(quick: bool = False) -> list[dict]:
    rounds, per_measure = (3, 640) if quick else (5, 4_800)
    with ExitStack() as stack:
        apps, meters = [], []
        for _ in range(max(PARTITIONS)):
            # The event store only: the Marketplace creates its tables on a bare database.
            database = stack.enter_context(embedded_server("partition"))
            app = build_marketplace(database)
            stack.callback(app.close)
            apps.append(app)
            meters.append(CpuMeter(database))
        names = itertools.count()
        cpu_per_save: dict[int, list[float]] = {n: [] for n in PARTITIONS}

        def cpu_seconds() -> float:
            """This process plus every partition's server (idle ones cost little)."""
            return meters[0].seconds()[0] + sum(meter.seconds()[1] for meter in meters)

        def saves(partitions: int) -> float:
            each = per_measure // CALLERS

            def work(tenant: int) -> None:
                app = apps[tenant % partitions]
                for _ in range(each):
                    app.register_worker(f"t{tenant}-{next(names)}", [])

            before = cpu_seconds()
            rate = each * CALLERS / run_together(CALLERS, work)
            cpu_per_save[partitions].append(1e6 * (cpu_seconds() - before) / (each * CALLERS))
            return rate

        saves(max(PARTITIONS))  # warm every partition's pool, not measured
        for samples in cpu_per_save.values():
            samples.clear()
        measured = interleave(rounds, {n: (lambda n=n: saves(n)) for n in PARTITIONS})

        def shown(n: int) -> str:
            cpu = Spread.of(cpu_per_save[n]).median
            return f"{Spread.of(measured[n]).show(unit='saves/s')}; CPU {cpu:,.0f} us/save"

        rows = [row("P", f"saves/s, {CALLERS} callers (tenants) over {n} partitions "
                         f"(a PostgreSQL + a log each)",
                    shown(n), f"1 partition {shown(1)}", ratios(measured[n], measured[1]))
                for n in PARTITIONS if n > 1]
        rows.append(_merged_feed(apps, rounds))
    return rows


def _merged_feed(apps: list[Any], rounds: int) -> dict:
    """Read every partition's log through the merging reader vs one log alone."""
    total = sum(app.recorder.max_notification_id() or 0 for app in apps)
    inversions: list[int] = []
    late: list[int] = []

    def merged() -> float:
        started = time.perf_counter()
        feed, last_by_partition, count = MergedFeed(apps), [0] * len(apps), 0
        for number, notification_id, _ in feed:
            if notification_id <= last_by_partition[number]:
                inversions.append(number)  # a partition's order broken: must not happen
            last_by_partition[number] = notification_id
            count += 1
        assert count == total, (count, total)
        late.append(feed.late)
        return count / (time.perf_counter() - started)

    def single() -> float:
        started = time.perf_counter()
        count = 0
        while count < total:  # the busiest log, read again from the start as needed
            for _ in itertools.islice(follow(apps[0]), total - count):
                count += 1
        return count / (time.perf_counter() - started)

    measured = interleave(rounds, {"merged": merged, "single": single})
    assert not inversions, "the merged feed broke a partition's order"
    return row("P", f"merged feed of {len(apps)} partitions' {total:,} events by timestamp "
                    f"({late[0]:,} stamped before one ahead in their log)",
               Spread.of(measured["merged"]).show(unit="events/s"),
               f"one log alone {Spread.of(measured['single']).show(unit='events/s')}",
               ratios(measured["merged"], measured["single"]))
