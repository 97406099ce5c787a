"""Figure F: finance over a long ledger: balances as of a past position, and exports.

Rows are generated straight into the read tables the ledger and event_log projections
write (``ledger_entries`` in pairs summing to zero, ``event_log`` one row per event,
``ledger_checkpoints`` every ``max(CHECKPOINT_EVERY, accounts)`` entries with every
account's balance, as the projection keeps them), over 2,000 accounts at both sizes so
only the length of the ledger changes.

- ``accountBalances(asOf:)``: `ledger_history.balances_at` at random past positions; "in
  SQL" is PostgreSQL's planning + execution time (EXPLAIN ANALYZE, timing off), p50/p99.
  Baseline: the same at 10,000 entries. Target: p99 ratio <= 1.5.
- Export of the ledger (CSV, and Parquet) to a file, rows/s. Baseline: a PostgreSQL
  ``COPY (SELECT <the same rows as stored>) TO STDOUT`` into a file. Target: CSV >= 0.5x.
"""

from __future__ import annotations

import os
import random
import tempfile
from contextlib import ExitStack

from taskmarket.finance import exports
from taskmarket.projections import ledger_history

from .infra import Postgres, use_postgres
from .report import row
from .stats import Spread, Stopwatch, interleave, percentile, per_second, ratios

SMALL = 10_000
ACCOUNTS = 2_000
TARGET_GROWTH = 1.5
TARGET_EXPORT = 0.5

FILL_EVENTS = """
INSERT INTO event_log (position, notification_id, type, aggregate_id, aggregate_kind,
    aggregate_version, occurred_at, requester_id, data)
SELECT g, g, 'RequesterEscrowReserved', gen_random_uuid(), 'Requester', 1,
    timestamptz '2026-01-01' + g * interval '10 ms', NULL, '{}'::jsonb
FROM generate_series(1, %(events)s::int) AS g
"""
# Event g moves money from one account to the next one round the ring of accounts.
FILL_ENTRIES = """
INSERT INTO ledger_entries (position, seq, account, owner, currency, amount, event_type,
    occurred_at)
SELECT g, s, 'requester:' || lpad(((g + s) %% %(accounts)s)::text, 6, '0') || ':available',
    'requester:' || lpad(((g + s) %% %(accounts)s)::text, 6, '0'),
    CASE WHEN ((g + s) %% %(accounts)s) %% 7 = 0 THEN 'JPY' ELSE 'USD' END,
    CASE WHEN s = 0 THEN -(g %% 997 + 1) ELSE g %% 997 + 1 END, 'RequesterEscrowReserved',
    timestamptz '2026-01-01' + g * interval '10 ms'
FROM generate_series(1, %(events)s::int) AS g CROSS JOIN (VALUES (0), (1)) AS seqs(s)
"""
# Every `every` entries (every/2 events) each account's balance, as the projection keeps them.
FILL_CHECKPOINTS = """
INSERT INTO ledger_checkpoints (position, account, currency, balance)
WITH marks AS (SELECT m * %(half)s AS position
               FROM generate_series(1, %(events)s::int / %(half)s) AS m),
     accounts AS (SELECT DISTINCT account, currency FROM ledger_entries),
     moved AS (SELECT ((position - 1) / %(half)s + 1) * %(half)s AS mark, account, currency,
                      sum(amount) AS delta FROM ledger_entries GROUP BY 1, 2, 3)
SELECT marks.position, a.account, a.currency,
       sum(coalesce(moved.delta, 0)) OVER (PARTITION BY a.account, a.currency
                                           ORDER BY marks.position)
FROM marks CROSS JOIN accounts AS a
LEFT JOIN moved ON moved.mark = marks.position AND moved.account = a.account
               AND moved.currency = a.currency
-- one checkpoint's rows together and in key order, as the projection writes them
ORDER BY marks.position, a.account, a.currency
"""


def fill(database, entries: int) -> None:
    events = entries // 2
    every = max(ledger_history.CHECKPOINT_EVERY, ACCOUNTS)
    with database.connect(autocommit=True) as conn:
        conn.execute(FILL_EVENTS, {"events": events})
        conn.execute(FILL_ENTRIES, {"events": events, "accounts": ACCOUNTS})
        conn.execute(FILL_CHECKPOINTS, {"events": events, "half": every // 2})
        conn.execute("INSERT INTO ledger_balances (account, currency, balance) "
                     "SELECT account, currency, sum(amount) FROM ledger_entries GROUP BY 1, 2")
        conn.execute("VACUUM ANALYZE")


def balances_sql_ms(conn, events: int, calls: int, seed: int) -> list[float]:
    """Planning + execution time of both statements of `balances_at` (EXPLAIN ANALYZE)."""
    rng = random.Random(seed)
    times = []
    for _ in range(calls):
        capture = _Capture(conn)
        ledger_history.balances_at(capture, rng.randint(1, events))
        times.append(capture.server_ms)
    return times


def balances_client_ms(conn, events: int, calls: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    times = []
    for _ in range(calls):
        with Stopwatch() as watch:
            ledger_history.balances_at(conn, rng.randint(1, events))
        times.append(watch.seconds * 1000)
    return times


class _Capture:
    """Stands in for the connection: runs each statement under EXPLAIN ANALYZE and adds up
    the server's planning + execution time; answers with the real rows (settings and
    transactions go straight to the connection)."""

    def __init__(self, conn):
        self.conn, self.server_ms = conn, 0.0

    def execute(self, query, params=None):
        if query.lstrip().upper().startswith("SET "):  # a setting, not a statement to time
            return self.conn.execute(query, params)
        plan = self.conn.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + query,
                                 params).fetchone()[0][0]
        self.server_ms += plan["Planning Time"] + plan["Execution Time"]
        return self.conn.execute(query, params)

    def transaction(self):
        return self.conn.transaction()


RAW_COPY = ("COPY (SELECT position, seq, account, currency, amount, event_type, occurred_at "
            "FROM ledger_entries ORDER BY position, seq) TO STDOUT (FORMAT csv)")


def copy_rows_per_s(database, path: str, rows: int) -> float:
    with database.connect() as conn, open(path, "wb") as out, Stopwatch() as watch:
        with conn.cursor().copy(RAW_COPY) as copy:
            for chunk in copy:
                out.write(chunk)
    return per_second(rows, watch.seconds)


def export_rows_per_s(database, path: str, rows: int, fmt: str) -> float:
    with database.connect() as conn, Stopwatch() as watch:
        if fmt == "parquet":
            exports.write_parquet(conn, "ledger", path)
        else:
            with open(path, "wb") as out:
                for chunk in exports.csv_chunks(conn, "ledger"):
                    out.write(chunk)
    return per_second(rows, watch.seconds)


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    large, calls, rounds = (100_000, 100, 3) if quick else (1_000_000, 400, 5)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="tm-bench-export-") as tmp:
        pg = stack.enter_context(use_postgres(postgres))
        books = {}
        for name, size in (("small", SMALL), ("large", large)):
            books[name] = stack.enter_context(pg.database(f"books{size}"))
            fill(books[name], size)
        conns = {name: stack.enter_context(db.connect(autocommit=True))
                 for name, db in books.items()}
        sizes = {"small": SMALL // 2, "large": large // 2}
        for name, conn in conns.items():
            balances_client_ms(conn, sizes[name], 10, 0)  # warm the cache and the plan
        samples: dict[str, list[float]] = {"small": [], "large": []}

        def measure(name: str) -> float:
            times = balances_sql_ms(conns[name], sizes[name], calls, len(samples[name]))
            samples[name] += times
            return percentile(times, 0.99)

        p99_rounds = interleave(rounds, {name: (lambda n=name: measure(n)) for name in conns})
        client = {name: balances_client_ms(conn, sizes[name], calls, 7)
                  for name, conn in conns.items()}

        path = os.path.join(tmp, "export")
        export = interleave(rounds, {
            "copy": lambda: copy_rows_per_s(books["large"], path, large),
            "csv": lambda: export_rows_per_s(books["large"], path, large, "csv"),
            "parquet": lambda: export_rows_per_s(books["large"], path, large, "parquet"),
        })
    p50 = {name: percentile(values, 0.5) for name, values in samples.items()}
    p99 = {name: percentile(values, 0.99) for name, values in samples.items()}
    growth = ratios(p99_rounds["large"], p99_rounds["small"])
    csv_ratio = ratios(export["csv"], export["copy"])
    parquet_ratio = ratios(export["parquet"], export["copy"])
    copy = Spread.of(export["copy"])
    return [
        row("F", f"accountBalances(asOf:) in SQL at {large:,} entries, p50 / p99",
            f"{p50['large']:.2f} / {p99['large']:.2f} ms",
            f"{SMALL:,} entries {p50['small']:.2f} / {p99['small']:.2f} ms", growth,
            f"p99 ratio <= {TARGET_GROWTH}", growth.median <= TARGET_GROWTH),
        row("F", f"accountBalances(asOf:) at the client at {large:,} entries, p99",
            f"{percentile(client['large'], 0.99):.2f} ms",
            f"{SMALL:,} entries {percentile(client['small'], 0.99):.2f} ms"),
        row("F", f"ledger export, CSV, {large:,} rows",
            Spread.of(export["csv"]).show(unit="rows/s"),
            f"COPY TO STDOUT {copy.show(unit='rows/s')}", csv_ratio,
            f">= {TARGET_EXPORT}x", csv_ratio.median >= TARGET_EXPORT),
        row("F", f"ledger export, Parquet, {large:,} rows",
            Spread.of(export["parquet"]).show(unit="rows/s"),
            f"COPY TO STDOUT {copy.show(unit='rows/s')}", parquet_ratio),
    ]
