"""How fast the projections catch up on a log, against decoding that log alone.

Subject: ProjectionRunner.catch_up of every projection from position 0 (rows and
positions written per batch, one transaction per projection per batch).
Baselines, measured in the same run on the same log:
- raw decode: reading the same log in the same batches and decoding every event (the
  floor: a projection cannot be faster than turning the log into events);
- one transaction per event: the same runner with batches of one event (the way the
  library's default projection runner works), on the first 2,000 events.
Three interleaved rounds; printed: medians and ranges of events per second, and ratios.
A second figure is the live lag: with the runner following the log (LISTEN/NOTIFY),
the time from a command's write to every projection having applied it.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from infra import embedded_postgres  # noqa: E402

from taskmarket.bootstrap import build_marketplace  # noqa: E402
from taskmarket.domain import Money  # noqa: E402
from taskmarket.domain.task import TaskSpec  # noqa: E402
from taskmarket.projections.runner import ProjectionRunner  # noqa: E402
from taskmarket.projections.sample_log import write_sample_log  # noqa: E402

ROUNDS = 3
PER_EVENT_SAMPLE = 2_000


def raw_decode_rate(runner: ProjectionRunner) -> float:
    with runner.session() as session:
        target, after, count = session.head(), 0, 0
        started = time.perf_counter()
        while True:
            events = session.read(after, target)
            if not events:
                break
            count += len(events)
            after = events[-1][0]
        return count / (time.perf_counter() - started)


def catch_up_rate(runner: ProjectionRunner, until: int | None = None) -> float:
    runner.reset()
    started = time.perf_counter()
    count = runner.catch_up(until=until)
    return count / (time.perf_counter() - started)


def live_lags(database, app, commands: int) -> list[float]:
    """Seconds from each command's commit to every projection having applied it."""
    runner = ProjectionRunner(database, mapper=app.mapper)
    runner.catch_up()
    following = runner.start_in_thread()
    requester = app.create_requester("lag")
    app.deposit_funds(requester, 10**9, "USD", "lag-wire")
    lags = []
    try:
        with database.connect(autocommit=True) as conn:
            for n in range(commands):
                app.post_task(requester, TaskSpec(f"lag {n}", "i", Money(10, "USD")))
                written = time.perf_counter()
                target = app.recorder.max_notification_id()
                while conn.execute("SELECT min(position) FROM projection_positions"
                                   ).fetchone()[0] < target:
                    time.sleep(0.0002)
                lags.append(time.perf_counter() - written)
                time.sleep(0.01)
    finally:
        following.stop()
    return lags


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} (range {min(values):,.0f}-{max(values):,.0f})"


def run(quick: bool = False, postgres=None) -> list[dict]:
    """The figures as dicts (the harness passes its server as ``postgres``)."""
    if postgres is None:
        with embedded_postgres() as own:
            return _run(quick, own)
    return _run(quick, postgres)


def _run(quick: bool, pg) -> list[dict]:
    tasks = 1_500 if quick else 5_000
    results: list[dict] = []
    with pg.database("catchup") as database:
        app = build_marketplace(database)
        events = write_sample_log(app, tasks)
        runner = ProjectionRunner(database, mapper=app.mapper)
        decode, batched, per_event = [], [], []
        for _ in range(ROUNDS):  # interleaved, so drift hits all three alike
            decode.append(raw_decode_rate(runner))
            batched.append(catch_up_rate(runner))
            one_by_one = ProjectionRunner(database, mapper=app.mapper, batch_size=1)
            per_event.append(catch_up_rate(one_by_one, until=PER_EVENT_SAMPLE))
        lags = [lag * 1000 for lag in live_lags(database, app, 50 if quick else 200)]
        app.close()
    ratio_decode = statistics.median(batched) / statistics.median(decode)
    ratio_per_event = statistics.median(batched) / statistics.median(per_event)
    print(f"log: {events:,} events, {len(runner.projections)} projections, "
          f"batches of {runner.batch_size}")
    print(f"  catch-up (batched)          {spread(batched)} events/s")
    print(f"  raw decode of the log       {spread(decode)} events/s"
          f"   -> catch-up/decode = {ratio_decode:.2f}")
    print(f"  one transaction per event   {spread(per_event)} events/s"
          f"   -> batched/per-event = {ratio_per_event:.1f}x")
    p95 = sorted(lags)[int(len(lags) * 0.95) - 1]
    print(f"  live lag (write -> all projections applied): median "
          f"{statistics.median(lags):.1f} ms, p95 {p95:.1f} ms, max {max(lags):.1f} ms "
          f"over {len(lags)} commands")
    results.append(dict(figure="projection catch-up", unit="events/s",
                        subject=statistics.median(batched), subject_runs=batched,
                        baseline="raw decode", baseline_value=statistics.median(decode),
                        baseline_runs=decode, ratio=ratio_decode, events=events))
    results.append(dict(figure="projection catch-up vs per-event transactions",
                        unit="events/s", subject=statistics.median(batched),
                        subject_runs=batched, baseline="one transaction per event",
                        baseline_value=statistics.median(per_event),
                        baseline_runs=per_event, ratio=ratio_per_event))
    results.append(dict(figure="projection live lag", unit="ms",
                        subject=statistics.median(lags), p95=p95, max=max(lags),
                        samples=len(lags)))
    return results


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
