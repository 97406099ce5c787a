"""Where a payout's money came from: the event that set it aside, and the deposits behind it.

A submission payout is paid from its task's escrow, reserved when the task was posted; a
bonus straight from the requester's available funds. Deposits are matched first in,
first out: the requester's available account is a queue of deposited money, each debit
(a reservation, a bonus) takes the next money in line, and a release puts money back at
the front. The deposits whose share of that queue overlaps the funding debit are the ones
it drew on.
"""

from __future__ import annotations

from uuid import UUID

import psycopg

from . import event_log
from .rows import EventRow, PayoutRow
from .sqlq import fetch

DEPOSITED = "RequesterFundsDeposited"


def _funding_event(conn: psycopg.Connection, payout: PayoutRow) -> EventRow | None:
    if payout.task_id is not None and payout.kind == "submission":
        query, key = (f"SELECT {event_log.COLUMNS} FROM event_log WHERE "
                      "type = 'RequesterEscrowReserved' AND data->>'taskId' = %s "
                      "AND aggregate_id = %s ORDER BY position LIMIT 1"), payout.task_id
    else:
        query, key = (f"SELECT {event_log.COLUMNS} FROM event_log WHERE "
                      "type = 'RequesterBonusFunded' AND data->>'payoutId' = %s "
                      "AND aggregate_id = %s ORDER BY position LIMIT 1"), payout.id
    found = fetch(conn, query, (str(key), payout.requester_id), event_log.make)
    return found[0] if found else None


def _debit_position(conn: psycopg.Connection, payout: PayoutRow, funding: EventRow) -> int:
    """Where the ledger booked the funding debit: a reservation from its own event, a
    bonus from the payout's PayoutRequested (see ledger.py)."""
    if funding.type != "RequesterBonusFunded":
        return funding.notification_id
    row = conn.execute("SELECT notification_id FROM event_log WHERE aggregate_id = %s "
                       "AND type = 'PayoutRequested'", (payout.id,)).fetchone()
    return row[0] if row else funding.notification_id


def _deposits_drawn_on(conn: psycopg.Connection, requester_id: UUID, debit: int) -> list[int]:
    """Notification ids of the deposits the debit booked at ``debit`` drew on (first in,
    first out)."""
    entries = conn.execute(
        "SELECT position, amount, event_type FROM ledger_entries WHERE account = %s "
        "AND position <= %s ORDER BY position, seq",
        (f"requester:{requester_id}:available", debit)).fetchall()
    deposits: list[tuple[int, int, int]] = []  # (nid, start, end) in deposited money
    deposited = used = 0
    for position, amount, kind in entries:
        if kind == DEPOSITED:
            deposits.append((position, deposited, deposited + amount))
            deposited += amount
        elif position == debit:
            start, end = used, used - amount
            return [nid for nid, low, high in deposits if low < end and high > start]
        else:
            used -= amount  # debits use money up, releases give it back
    return []


def funding(conn: psycopg.Connection, payout: PayoutRow) -> list[EventRow]:
    """The funding event (escrow reservation or bonus) then the deposits, in log order."""
    funded_by = _funding_event(conn, payout)
    if funded_by is None:
        return []
    nids = _deposits_drawn_on(conn, payout.requester_id,
                              _debit_position(conn, payout, funded_by))
    deposits = fetch(conn, f"SELECT {event_log.COLUMNS} FROM event_log "
                           "WHERE notification_id = ANY(%s) ORDER BY position", (nids,),
                     event_log.make)
    return [funded_by, *deposits]
