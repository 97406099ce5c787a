"""A double-entry ledger of the marketplace's money, per currency.

Every money event books one pair of entries of opposite sign, so all entries of a
currency always sum to zero. An account's balance is the sum of its entries:
- ``external:deposits`` goes negative by what requesters deposited;
- ``requester:<id>:available`` / ``requester:<id>:escrow``: a requester's free and
  reserved funds;
- ``worker:<id>:payable``: owed to a worker and not yet transferred;
- ``stripe:paid_out``: transferred to workers through Stripe;
- ``platform:reversed_transfers``: transfers Stripe reversed, back with the platform.
Escrow consumed by a payout and bonuses are booked from the payout's own event (it names
the worker and currency), not from the requester's mirror event of the same movement.
"""

from __future__ import annotations

from typing import Any

import psycopg

from . import cursors, ledger_history
from .base import Handlers, Projection
from .rows import LedgerEntryRow
from .sqlq import fetch
from .store import Batch, Table

ENTRIES = Table("ledger_entries", ("position", "seq", "account", "owner", "currency",
                                   "amount", "event_type", "occurred_at"),
                ("position", "seq"), kind="append")
BALANCES = Table("ledger_balances", ("account", "currency", "balance"),
                 ("account", "currency"), kind="counters")
REQUESTER_CURRENCIES = Table("ledger_requesters", ("requester_id", "currency"),
                             ("requester_id",))
PAYOUTS = Table("ledger_payouts", ("payout_id", "worker_id", "amount", "currency"),
                ("payout_id",))
handlers = Handlers()
# Accounts of these kinds name an owner id in between: requester:<id>:available.
_OWNED = {"requester", "worker"}


def owner_of(account: str) -> str:
    return account.rpartition(":")[0]


def book(batch: Batch, event: Any, source: str, target: str, amount: int,
         currency: str) -> None:
    """Move ``amount`` from ``source`` to ``target``: one entry pair."""
    kind = type(event).__qualname__.replace(".", "")
    for seq, (account, signed) in enumerate(((source, -amount), (target, amount))):
        batch["ledger_entries"].append(dict(
            position=batch.position, seq=seq, account=account, owner=owner_of(account),
            currency=currency, amount=signed, event_type=kind, occurred_at=event.timestamp))
        batch["ledger_balances"].add((account, currency), balance=signed)


def _requester(event: Any, purse: str) -> str:
    return f"requester:{event.originator_id}:{purse}"


def _currency(batch: Batch, requester_id: Any) -> str:
    return batch["ledger_requesters"].get(requester_id)["currency"]


@handlers.on("RequesterFundsDeposited")
def deposited(batch: Batch, event: Any) -> None:
    batch["ledger_requesters"].put(dict(requester_id=event.originator_id,
                                        currency=event.currency))
    book(batch, event, "external:deposits", _requester(event, "available"), event.amount,
         event.currency)


@handlers.on("RequesterEscrowReserved")
def reserved(batch: Batch, event: Any) -> None:
    book(batch, event, _requester(event, "available"), _requester(event, "escrow"),
         event.amount, _currency(batch, event.originator_id))


@handlers.on("RequesterEscrowReleased")
def released(batch: Batch, event: Any) -> None:
    book(batch, event, _requester(event, "escrow"), _requester(event, "available"),
         event.amount, _currency(batch, event.originator_id))


@handlers.on("PayoutRequested")
def payout_requested(batch: Batch, event: Any) -> None:
    batch["ledger_payouts"].put(dict(payout_id=event.originator_id, worker_id=event.worker_id,
                                     amount=event.amount, currency=event.currency))
    purse = "escrow" if event.kind == "submission" else "available"
    book(batch, event, f"requester:{event.requester_id}:{purse}",
         f"worker:{event.worker_id}:payable", event.amount, event.currency)


@handlers.on("PayoutPaid")
def payout_paid(batch: Batch, event: Any) -> None:
    payout = batch["ledger_payouts"].get(event.originator_id)
    book(batch, event, f"worker:{payout['worker_id']}:payable", "stripe:paid_out",
         payout["amount"], payout["currency"])


@handlers.on("PayoutTransferReversed")
def transfer_reversed(batch: Batch, event: Any) -> None:
    payout = batch["ledger_payouts"].get(event.originator_id)
    book(batch, event, "stripe:paid_out", "platform:reversed_transfers", event.amount,
         payout["currency"])


def _preload(batch: Batch, events: list[tuple[str, Any]]) -> None:
    ledger_history.checkpoint(batch)
    batch["ledger_requesters"].preload(
        e.originator_id for kind, e in events
        if kind in ("RequesterEscrowReserved", "RequesterEscrowReleased"))
    batch["ledger_payouts"].preload(
        e.originator_id for kind, e in events
        if kind in ("PayoutPaid", "PayoutTransferReversed"))


PROJECTION = Projection("ledger", [ENTRIES, BALANCES, REQUESTER_CURRENCIES, PAYOUTS,
                                   ledger_history.CHECKPOINTS],
                        [handlers], preload=_preload)

# --- queries ----------------------------------------------------------------------------
_COLUMNS = "position, seq, account, currency, amount, event_type, occurred_at"


def _make(row: dict) -> LedgerEntryRow:
    return LedgerEntryRow(**row, cursor=cursors.encode(row["position"], row["seq"]))


def _is_account(name: str) -> bool:
    parts = name.split(":")
    return len(parts) == (3 if parts[0] in _OWNED else 2) and all(parts)


def entries(conn: psycopg.Connection, account_prefix: str, first: int,
            after: str | None, until: int | None = None) -> list[LedgerEntryRow]:
    """Entries in log order of one account (``requester:<id>:escrow``), of one owner's
    accounts (``requester:<id>``, ``stripe``), or of all (''); up to notification id
    ``until`` when given."""
    prefix = (account_prefix or "").rstrip(":")
    place = cursors.decode(after, int, int) or (0, -1)
    if not prefix:
        where, params = "true", []
    elif _is_account(prefix):
        where, params = "account = %s", [prefix]
    else:
        where, params = "owner = %s", [prefix]
    if until is not None:
        where, params = f"{where} AND position <= %s", [*params, until]
    page = (f"SELECT {_COLUMNS} FROM ledger_entries WHERE {where} "
            "AND (position, seq) > (%s, %s) ORDER BY position, seq LIMIT %s")
    # Each entry's gap-free log position, looked up by the page's (at most 101) entries.
    return fetch(conn, f"SELECT page.*, (SELECT e.position FROM event_log e WHERE "
                       f"e.notification_id = page.position) AS log_position FROM ({page}) "
                       "AS page ORDER BY page.position, page.seq",
                 [*params, *place, first], _make)


def balance(conn: psycopg.Connection, account: str, currency: str | None = None) -> int:
    """The balance of an account (in one currency, or summed over its currencies)."""
    query = "SELECT coalesce(sum(balance), 0) FROM ledger_balances WHERE account = %s"
    params: list = [account]
    if currency:
        query += " AND currency = %s"
        params.append(currency)
    return int(conn.execute(query, params).fetchone()[0])


def totals(conn: psycopg.Connection) -> dict[str, int]:
    """Sum of all balances per currency: zero for every currency, always."""
    return dict(conn.execute("SELECT currency, sum(balance)::bigint FROM ledger_balances "
                             "GROUP BY currency").fetchall())
