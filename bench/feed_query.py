"""Figure 5: the worker's feed (open tasks it qualifies for, newest first) as the board grows.

Subject: ``projections.task_board.open_for_worker`` (first page of 50 and the page after
it) on a board of ``large`` tasks. Baseline: the same calls on a board of 10,000 tasks.
Rows are generated straight into the read table (``tasks``, as the projection writes them):
a spread of required skills (most tasks need none, some one or two of eight), one task in
seven no longer open. Times are taken around the call, so they include the round trip and
turning rows into objects; p50 and p99 over many calls with rotating worker skill sets.
"In SQL" is PostgreSQL's own planning + execution time for the same statements
(EXPLAIN ANALYZE with timing off), the figure the target is set on.
"""

from __future__ import annotations

from contextlib import ExitStack

from taskmarket.projections.task_board import open_for_worker

from .infra import Postgres, use_postgres
from .report import row
from .stats import Spread, Stopwatch, interleave, percentile

SMALL = 10_000
TARGET_P99_MS = 2.0
TARGET_GROWTH = 1.5
SKILL_SETS = [[], ["vision"], ["audio", "vision"], ["medical", "legal", "text"], ["text"]]

FILL = """
INSERT INTO tasks (id, requester_id, title, instructions, payload, reward_amount, currency,
    assignments, required_skills, claim_timeout_seconds, auto_approve_after_seconds,
    status, open_slots, active_claims, pending_review, accepted, refunded_slots, cancelled,
    board_skill, created_at, updated_at, version)
SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'Task ' || g, 'Do it',
    NULL, 100, 'USD', 1, s.skills, 3600, NULL,
    CASE WHEN mod(g, 7) = 0 THEN 'COMPLETED' ELSE 'OPEN' END,
    CASE WHEN mod(g, 7) = 0 THEN 0 ELSE 1 END, 0, 0, CASE WHEN mod(g, 7) = 0 THEN 1 ELSE 0 END,
    0, false, COALESCE(s.skills[1], ''),
    timestamptz '2026-01-01' + g * interval '1 second', now(), 1
FROM generate_series(%(first)s::int, %(last)s::int) AS g
CROSS JOIN LATERAL (SELECT CASE mod(g, 16)
    WHEN 0 THEN ARRAY['vision'] WHEN 1 THEN ARRAY['audio'] WHEN 2 THEN ARRAY['audio','vision']
    WHEN 3 THEN ARRAY['medical'] WHEN 4 THEN ARRAY['legal','medical'] WHEN 5 THEN ARRAY['text']
    WHEN 6 THEN ARRAY['code'] WHEN 7 THEN ARRAY['french','text']
    ELSE ARRAY[]::text[] END AS skills) AS s
"""


def fill_board(database, size: int) -> None:
    with database.connect(autocommit=True) as conn:
        for first in range(1, size + 1, 200_000):
            conn.execute(FILL, {"first": first, "last": min(size, first + 199_999)})
        conn.execute("VACUUM ANALYZE tasks")


def feed_times_ms(conn, calls: int) -> list[float]:
    times = []
    for n in range(calls):
        skills = SKILL_SETS[n % len(SKILL_SETS)]
        with Stopwatch() as watch:
            page = open_for_worker(conn, skills, None, 50, None)
            if page:
                open_for_worker(conn, skills, None, 50, page[-1].cursor)
        times.append(watch.seconds * 1000 / 2)
    return times


class QueryCapture:
    """Stands in for a connection to learn the SQL that ``open_for_worker`` sends."""

    def __init__(self, conn):
        self.conn, self.sent = conn, []

    def cursor(self, **kwargs):
        capture, cursor = self, self.conn.cursor(**kwargs)

        class Capturing:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                cursor.close()

            def execute(self, query, params=None):
                capture.sent.append((query, params))
                return cursor.execute(query, params)

        return Capturing()


def server_times_ms(conn, calls: int) -> list[float]:
    """Planning + execution time PostgreSQL reports for the feed's SQL (EXPLAIN ANALYZE)."""
    capture = QueryCapture(conn)
    for skills in SKILL_SETS:
        page = open_for_worker(capture, skills, None, 50, None)
        if page:
            open_for_worker(capture, skills, None, 50, page[-1].cursor)
    times = []
    for n in range(calls):
        query, params = capture.sent[n % len(capture.sent)]
        plan = conn.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + query,
                            params).fetchone()[0][0]
        times.append(plan["Planning Time"] + plan["Execution Time"])
    return times


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    large, calls, rounds = (100_000, 200, 3) if quick else (1_000_000, 1_000, 5)
    samples: dict[str, list[float]] = {"small": [], "large": []}
    with ExitStack() as stack:
        pg = stack.enter_context(use_postgres(postgres))
        boards = {}
        for name, size in (("small", SMALL), ("large", large)):
            database = stack.enter_context(pg.database(f"feed{size}"))
            fill_board(database, size)
            boards[name] = stack.enter_context(database.connect(autocommit=True))
            feed_times_ms(boards[name], 50)  # warm the cache and the plan

        def measure(name: str) -> float:
            times = feed_times_ms(boards[name], calls)
            samples[name] += times
            return percentile(times, 0.5)

        medians = interleave(rounds, {name: (lambda n=name: measure(n)) for name in boards})
        in_sql = {name: server_times_ms(conn, calls) for name, conn in boards.items()}
    p99 = {name: percentile(values, 0.99) for name, values in samples.items()}
    sql_p50 = {name: percentile(values, 0.5) for name, values in in_sql.items()}
    sql_p99 = {name: percentile(values, 0.99) for name, values in in_sql.items()}
    growth = Spread.of([b / s for b, s in zip(medians["large"], medians["small"])])
    small, big = Spread.of(medians["small"]), Spread.of(medians["large"])
    sql_growth = sql_p50["large"] / sql_p50["small"]
    return [
        row("5", f"feed page (50) in SQL at {large:,} tasks, p50 / p99",
            f"{sql_p50['large']:.2f} / {sql_p99['large']:.2f} ms",
            f"{SMALL:,} tasks {sql_p50['small']:.2f} / {sql_p99['small']:.2f} ms",
            Spread(sql_growth, sql_growth, sql_growth),
            f"p99 <= {TARGET_P99_MS} ms, ratio <= {TARGET_GROWTH}",
            sql_p99["large"] <= TARGET_P99_MS and sql_growth <= TARGET_GROWTH),
        row("5", f"feed page (50) at the client at {large:,} tasks, p50 / p99",
            f"{big.median:.2f} / {p99['large']:.2f} ms",
            f"{SMALL:,} tasks {small.median:.2f} / {p99['small']:.2f} ms", growth,
            f"ratio <= {TARGET_GROWTH}", growth.median <= TARGET_GROWTH),
    ]
