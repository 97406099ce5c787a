"""Exports of the books (payouts, ledger, events) as CSV or Parquet, in constant memory.

Each export is one query in log order, streamed by PostgreSQL's ``COPY (...) TO STDOUT``
as CSV: the server formats every value, we pass the bytes on, so memory stays flat and
the rate stays close to COPY's own. Global IDs are computed in the query the same way as
`taskmarket.global_ids` (base64 of "<Type>:<id>"; a test holds the two together), amounts
come in minor units plus a decimal column with the currency's exponent. Parquet reads
that same CSV stream with pyarrow's streaming CSV reader, block by block, into typed
columns, and writes one row group per block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import psycopg

from .currency import MOST_DECIMALS, exponent

KINDS = ("payouts", "ledger", "events")
BLOCK = 1 << 16  # bytes of CSV handed on at a time


def global_id(type_sql: str, *parts: str) -> str:
    """SQL for `global_ids.to_global_id`: base64 of "<Type>:<part>[:<part>]"."""
    joined = " || ':' || ".join(f"{part}::text" for part in parts)
    return (f"translate(encode(convert_to({type_sql} || ':' || {joined}, 'UTF8'), "
            "'base64'), E'\\n', '')")


# Accounts that name their owner (requester:<id>:escrow) show the owner's global id, as
# the ledger query does (graphql/finance.py present_account; a test holds them together).
def _presented_account(account: str) -> str:
    return f"""CASE WHEN split_part({account}, ':', 1) IN ('requester', 'worker')
    THEN split_part({account}, ':', 1) || ':' || {global_id(
        f"initcap(split_part({account}, ':', 1))", f"split_part({account}, ':', 2)")}
        || ':' || split_part({account}, ':', 3)
    ELSE {account} END"""


# The string functions of a presented account cost more than COPY spends on a whole row,
# so each account is presented once, not once per entry: a lateral lookup of the account's
# balance row (there is one for every account with entries) that the planner memoizes by
# account (a Memoize node over a nested loop, which keeps the entries' order). The
# fallback after it only runs for an entry without a balance row.
_ACCOUNT_SHOWN = f"""LEFT JOIN LATERAL (
            SELECT {_presented_account("b.account")} AS shown
            FROM ledger_balances b WHERE b.account = l.account LIMIT 1) AS a ON true"""


def _decimal(amount: str, currencies: list[str]) -> str:
    """SQL: the amount in major units, with as many decimals as the currency has.

    A product with the exact numeric 0.01 (0.001, ...) has the currency's scale already;
    it is several times cheaper per row than a division by a power of ten and a round."""
    def scaled(digits: int) -> str:
        return f"{amount}::numeric" if digits == 0 else f"{amount} * 0.{'0' * (digits - 1)}1"

    cases = " ".join(f"WHEN {_quote(c)} THEN {scaled(exponent(c))}" for c in currencies)
    return f"(CASE currency {cases} ELSE {scaled(2)} END)" if cases else scaled(2)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Shape:
    """What one export is: its columns with their Parquet types, and its query."""

    columns: tuple[tuple[str, str], ...]  # (name, arrow type name)
    query: Callable[[list[str]], str]  # currencies -> SELECT ... ORDER BY ...
    currencies: str  # SQL listing the currencies the rows can have

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


_TIME = "e.occurred_at >= %(from)s AND e.occurred_at < %(to)s"

PAYOUTS = Shape(
    columns=(("position", "int64"), ("id", "string"), ("worker_id", "string"),
             ("requester_id", "string"), ("task_id", "string"), ("submission_id", "string"),
             ("kind", "string"), ("status", "string"), ("amount_minor", "int64"),
             ("amount", "decimal"), ("currency", "string"), ("stripe_transfer_id", "string"),
             ("attempts", "int64"), ("reversed_amount_minor", "int64"),
             ("requested_at", "timestamp"), ("paid_at", "timestamp")),
    query=lambda currencies: f"""
        SELECT e.position, {global_id("'Payout'", "p.id")}, {global_id("'Worker'", "p.worker_id")},
               {global_id("'Requester'", "p.requester_id")},
               CASE WHEN p.task_id IS NOT NULL THEN {global_id("'Task'", "p.task_id")} END,
               CASE WHEN p.submission_id IS NOT NULL
                    THEN {global_id("'Submission'", "p.task_id", "p.submission_id")} END,
               p.kind, p.status, p.amount, {_decimal("p.amount", currencies)}, p.currency,
               p.stripe_transfer_id, p.attempts, p.reversed_amount, p.requested_at, p.paid_at
        FROM event_log e JOIN payouts p ON p.id = e.aggregate_id
        WHERE e.type = 'PayoutRequested' AND {_TIME} ORDER BY e.position""",
    currencies="SELECT DISTINCT currency FROM worker_earnings")

LEDGER = Shape(
    columns=(("position", "int64"), ("seq", "int64"), ("account", "string"),
             ("currency", "string"), ("amount_minor", "int64"), ("amount", "decimal"),
             ("event_type", "string"), ("occurred_at", "timestamp")),
    query=lambda currencies: f"""
        SELECT e.position, l.seq, coalesce(a.shown, {_presented_account("l.account")}),
               l.currency, l.amount, {_decimal("l.amount", currencies)}, l.event_type,
               l.occurred_at
        FROM ledger_entries l JOIN event_log e ON e.notification_id = l.position
        {_ACCOUNT_SHOWN}
        WHERE {_TIME} ORDER BY l.position, l.seq""",
    currencies="SELECT DISTINCT currency FROM ledger_balances")

EVENTS = Shape(
    columns=(("position", "int64"), ("id", "string"), ("type", "string"),
             ("aggregate_id", "string"), ("aggregate_version", "int64"),
             ("occurred_at", "timestamp"), ("data", "string"), ("hash", "string")),
    query=lambda currencies: f"""
        SELECT e.position, {global_id("'Event'", "e.position")}, e.type,
               {global_id("e.aggregate_kind", "e.aggregate_id")}, e.aggregate_version,
               e.occurred_at, e.data::text, h.hash
        FROM event_log e LEFT JOIN event_hashes h ON h.position = e.position
        WHERE {_TIME} ORDER BY e.position""",
    currencies="SELECT NULL::text WHERE false")

SHAPES = {"payouts": PAYOUTS, "ledger": LEDGER, "events": EVENTS}
EVERYTHING = (datetime(1970, 1, 1).astimezone(), datetime(9999, 1, 1).astimezone())


def _query(conn: psycopg.Connection, shape: Shape, period_from: datetime | None,
           period_to: datetime | None) -> tuple[str, dict[str, Any]]:
    currencies = [row[0] for row in conn.execute(shape.currencies)]
    params = {"from": period_from or EVERYTHING[0], "to": period_to or EVERYTHING[1]}
    return shape.query(currencies), params


def estimate(conn: psycopg.Connection, kind: str, period_from: datetime | None = None,
             period_to: datetime | None = None) -> int:
    """The planner's estimate of the rows (for a progress bar: counting them exactly
    would cost about as much as the export itself)."""
    query, params = _query(conn, SHAPES[kind], period_from, period_to)
    plan = conn.execute(f"EXPLAIN (FORMAT JSON) {query}", params).fetchone()[0]
    return int(plan[0]["Plan"]["Plan Rows"])


def csv_chunks(conn: psycopg.Connection, kind: str, period_from: datetime | None = None,
               period_to: datetime | None = None) -> Iterator[bytes]:
    """The export as CSV bytes: a header line, then blocks of whole rows of about BLOCK
    bytes, as COPY sends them."""
    shape = SHAPES[kind]
    query, params = _query(conn, shape, period_from, period_to)
    # COPY takes no bind parameters: the values are bound client-side into its text.
    bound = psycopg.ClientCursor(conn).mogrify(query, params)
    header = ",".join(shape.names).encode() + b"\n"
    yield header
    with conn.cursor() as cur, cur.copy(f"COPY ({bound}) TO STDOUT (FORMAT csv)") as copy:
        # COPY sends about one row per chunk: handing each on (a generator step, a copy, a
        # write or a thread hop in the HTTP response) cost more than the server's work.
        block = bytearray()
        for chunk in copy:
            block += chunk
            if len(block) >= BLOCK:
                yield bytes(block)
                block.clear()
        if block:
            yield bytes(block)


class _Reader:
    """A read()-able file over an iterator of byte chunks (for pyarrow's CSV reader).

    COPY sends about one row per chunk; they are gathered in a bytearray (amortised
    appends, and only the unread tail is ever moved)."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks = chunks
        self.buffer = bytearray()
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        if size < 0:
            size = len(self.buffer)
        out = bytes(self.buffer[:size])
        del self.buffer[:size]
        return out

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


def _arrow_schema(shape: Shape):
    import pyarrow as pa

    types = {"int64": pa.int64(), "string": pa.string(),
             "decimal": pa.decimal128(38, MOST_DECIMALS),
             "timestamp": pa.timestamp("us", tz="UTC")}
    return pa.schema([(name, types[kind]) for name, kind in shape.columns])


def write_parquet(conn: psycopg.Connection, kind: str, out: BinaryIO | str,
                  period_from: datetime | None = None, period_to: datetime | None = None,
                  progress: Callable[[int], None] | None = None) -> int:
    """Write the export as Parquet, block by block; returns the number of rows."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    schema = _arrow_schema(SHAPES[kind])
    reader = pacsv.open_csv(
        _Reader(csv_chunks(conn, kind, period_from, period_to)),
        read_options=pacsv.ReadOptions(block_size=4 << 20),
        convert_options=pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True))
    rows = 0
    with pq.ParquetWriter(out, schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
            if progress:
                progress(batch.num_rows)
    return rows
