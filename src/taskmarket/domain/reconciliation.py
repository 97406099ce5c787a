"""Reconciliation with Stripe: our payouts against Stripe's transfers over a period.

``compare`` is the rule book, over plain records; a `Reconciliation` is one run, recorded
as one event with its figures and every discrepancy with both sides.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .errors import ensure
from .ids import derived_id

LONGEST_PERIOD = timedelta(days=366)


class DiscrepancyKind(str, enum.Enum):
    PAID_WITHOUT_TRANSFER = "PAID_WITHOUT_TRANSFER"
    TRANSFER_WITHOUT_PAYOUT = "TRANSFER_WITHOUT_PAYOUT"
    MISMATCH = "MISMATCH"
    UNRECORDED_REVERSAL = "UNRECORDED_REVERSAL"


@dataclass(frozen=True)
class OurPayout:
    id: str
    status: str
    amount: int
    currency: str
    destination: str | None
    transfer_id: str | None
    reversed_amount: int


@dataclass(frozen=True)
class StripeTransfer:
    id: str
    amount: int
    currency: str
    destination: str
    payout_id: str | None
    amount_reversed: int


def _discrepancy(kind: DiscrepancyKind, detail: str, payout: OurPayout | None,
                 transfer: StripeTransfer | None) -> dict[str, Any]:
    return {"kind": kind.value, "payoutId": payout.id if payout else None,
            "stripeTransferId": transfer.id if transfer else (
                payout.transfer_id if payout else None),
            "detail": detail, "ours": _camel(asdict(payout)) if payout else None,
            "stripe": _camel(asdict(transfer)) if transfer else None}


def _camel(record: dict[str, Any]) -> dict[str, Any]:
    def name(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(part.title() for part in rest)
    return {name(key): value for key, value in record.items()}


def _differences(payout: OurPayout, transfer: StripeTransfer) -> list[str]:
    found = []
    if payout.amount != transfer.amount:
        found.append(f"amount {payout.amount} here, {transfer.amount} at Stripe")
    if payout.currency.lower() != transfer.currency.lower():
        found.append(f"currency {payout.currency} here, {transfer.currency.upper()} at Stripe")
    if payout.destination and payout.destination != transfer.destination:
        found.append(f"destination {payout.destination} here, {transfer.destination} at "
                     "Stripe")
    return found


def compare(paid_in_period: list[OurPayout], named: dict[str, OurPayout],
            transfers: list[StripeTransfer]) -> list[dict[str, Any]]:
    """Every disagreement between our books and Stripe's, each once.

    ``paid_in_period``: our payouts paid during the period; ``named``: our payouts by id,
    for every id a transfer names (and the paid ones); ``transfers``: Stripe's transfers of
    the period plus those of the paid payouts, as Stripe has them.
    """
    found: list[dict[str, Any]] = []
    by_id = {t.id: t for t in transfers}
    for transfer in by_id.values():
        payout = named.get(transfer.payout_id or "")
        if payout is None:
            found.append(_discrepancy(DiscrepancyKind.TRANSFER_WITHOUT_PAYOUT,
                                      "the transfer names no payout of ours", None, transfer))
            continue
        if payout.status != "PAID" or payout.transfer_id != transfer.id:
            detail = (f"the payout is {payout.status}" if payout.status != "PAID" else
                      f"the payout was paid by {payout.transfer_id}: a second transfer")
            found.append(_discrepancy(DiscrepancyKind.TRANSFER_WITHOUT_PAYOUT, detail,
                                      payout, transfer))
            continue
        differences = _differences(payout, transfer)
        if differences:
            found.append(_discrepancy(DiscrepancyKind.MISMATCH, "; ".join(differences),
                                      payout, transfer))
        if transfer.amount_reversed > payout.reversed_amount:
            found.append(_discrepancy(
                DiscrepancyKind.UNRECORDED_REVERSAL,
                f"Stripe reversed {transfer.amount_reversed}, our books show "
                f"{payout.reversed_amount}", payout, transfer))
    for payout in paid_in_period:
        if payout.transfer_id not in by_id:
            found.append(_discrepancy(DiscrepancyKind.PAID_WITHOUT_TRANSFER,
                                      f"Stripe has no transfer {payout.transfer_id}",
                                      payout, None))
    return found


def check_period(period_from: datetime, period_to: datetime) -> None:
    ensure(period_from.tzinfo is not None and period_to.tzinfo is not None, "INVALID_INPUT",
           "from and to need a time zone", ["from"])
    ensure(period_from < period_to, "INVALID_INPUT", "from must be before to", ["to"])
    ensure(period_to - period_from <= LONGEST_PERIOD, "INVALID_INPUT",
           "a reconciliation covers at most 366 days", ["to"])


def daily_run_id(day_start: datetime) -> UUID:
    """The scheduled run of one UTC day: one per day, whichever worker gets there first."""
    return derived_id("reconciliation", "daily", day_start.date().isoformat())


class ReconciliationRun(Aggregate):
    """One run: what was compared, and every discrepancy found (with both sides)."""

    @staticmethod
    def create_id(run_id: UUID) -> UUID:
        return run_id

    @event("Completed")
    def __init__(self, run_id: UUID, period_from: datetime, period_to: datetime,
                 started_at: datetime, finished_at: datetime, payouts_compared: int,
                 transfers_compared: int, discrepancies: list[dict[str, Any]],
                 reversals_recorded: int):
        self.period_from = period_from
        self.period_to = period_to
        self.started_at = started_at
        self.finished_at = finished_at
        self.payouts_compared = payouts_compared
        self.transfers_compared = transfers_compared
        self.discrepancies = discrepancies
        self.reversals_recorded = reversals_recorded
