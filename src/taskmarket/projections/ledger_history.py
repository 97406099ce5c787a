"""The ledger as of any moment of the log: balance checkpoints and the queries over them.

Entries carry the notification id of the event that booked them (``position``). Every
so often the ledger projection copies every account's balance into ``ledger_checkpoints``
at the position of its last entry; a balance as of position P is then the newest
checkpoint at or before P plus the entries after it up to P: at most one interval of
entries, however long the ledger. The copy is made at the start of a batch, when
``ledger_balances`` holds exactly the balances up to the projection's last entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from ..domain import DomainError
from .store import Batch, Table

CHECKPOINTS = Table("ledger_checkpoints", ("position", "account", "currency", "balance"),
                    ("position", "account", "currency"), kind="append")
# Entries between checkpoints: at least this many, and at least one per account, so the
# checkpoints never hold more rows than the ledger itself.
CHECKPOINT_EVERY = 5_000


def _entries_since(conn: psycopg.Connection, position: int, at_most: int) -> int:
    return conn.execute("SELECT count(*) FROM (SELECT 1 FROM ledger_entries "
                        "WHERE position > %s LIMIT %s) AS recent",
                        (position, at_most)).fetchone()[0]


def checkpoint(batch: Batch) -> None:
    """Copy all balances when enough entries were booked since the last checkpoint.

    Runs at the start of every batch, live ones of a few events too, so the usual case
    (not yet) costs two index lookups and a count of at most CHECKPOINT_EVERY index
    entries; the accounts are counted only once that many entries are there.
    """
    conn = batch.conn
    last = conn.execute("SELECT coalesce(max(position), 0) FROM ledger_checkpoints"
                        ).fetchone()[0]
    if _entries_since(conn, last, CHECKPOINT_EVERY) < CHECKPOINT_EVERY:
        return
    accounts = conn.execute("SELECT count(*) FROM ledger_balances").fetchone()[0]
    if accounts > CHECKPOINT_EVERY and _entries_since(conn, last, accounts) < accounts:
        return
    newest = conn.execute("SELECT max(position) FROM ledger_entries").fetchone()[0]
    conn.execute("INSERT INTO ledger_checkpoints (position, account, currency, balance) "
                 "SELECT %s, account, currency, balance FROM ledger_balances "
                 "ORDER BY account, currency", (newest,))


@dataclass(frozen=True)
class Moment:
    """A point of the log: its gap-free position, notification id and time."""

    position: int
    notification_id: int
    occurred_at: datetime | None


def moment(conn: psycopg.Connection, as_of: int | None, at: datetime | None) -> Moment:
    """The log position asked for: a position, the last event at or before a time, or the
    ledger's newest. Refuses a position the ledger has not applied yet."""
    ledger_at = conn.execute("SELECT coalesce(max(position), 0) FROM projection_positions "
                             "WHERE name = 'ledger'").fetchone()[0]
    if as_of is not None:
        if as_of < 0:
            raise DomainError("INVALID_INPUT", "asOf must be a log position (0 or more)",
                              ["asOf"])
        row = conn.execute("SELECT position, notification_id, occurred_at FROM event_log "
                           "WHERE position = %s", (as_of,)).fetchone()
        if row is None and as_of > 0:
            raise DomainError("NOT_FOUND", f"the log has no position {as_of} (yet)",
                              ["asOf"])
    elif at is not None:
        # Times follow the log's order (one writer at a time stamps them).
        row = conn.execute("SELECT position, notification_id, occurred_at FROM event_log "
                           "WHERE occurred_at <= %s ORDER BY occurred_at DESC, position DESC "
                           "LIMIT 1", (at,)).fetchone()
    else:
        row = conn.execute("SELECT position, notification_id, occurred_at FROM event_log "
                           "WHERE notification_id <= %s ORDER BY notification_id DESC "
                           "LIMIT 1", (ledger_at,)).fetchone()
    if row is None:
        return Moment(0, 0, at)
    found = Moment(*row)
    if found.notification_id > ledger_at:
        raise DomainError("NOT_CAUGHT_UP", f"the ledger has not reached position "
                          f"{found.position} yet; try again shortly", ["asOf"])
    return found


def balances_at(conn: psycopg.Connection, notification_id: int) -> list[tuple[str, str, int]]:
    """(account, currency, balance) of every account with an entry up to that point.

    Two statements on purpose: with the checkpoint's position known, the planner sees a
    narrow range of entries and reads it from the primary key, however long the ledger.
    Without parallel workers: on a long ledger the planner's estimate of the entries'
    range tips it into a parallel plan, and starting the workers costs more than the few
    thousand rows they would share (p50 2.3x the short ledger's, figure F).
    """
    base = conn.execute("SELECT coalesce(max(position), 0) FROM ledger_checkpoints "
                        "WHERE position <= %s", (notification_id,)).fetchone()[0]
    with conn.transaction():
        conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        return conn.execute(BALANCES, {"base": base, "at": notification_id}).fetchall()


BALANCES = """
    SELECT account, currency, sum(amount)::bigint FROM (
        SELECT account, currency, balance AS amount FROM ledger_checkpoints
        WHERE position = %(base)s
        UNION ALL
        SELECT account, currency, amount FROM ledger_entries
        WHERE position > %(base)s AND position <= %(at)s
    ) AS movements GROUP BY account, currency ORDER BY account, currency"""
