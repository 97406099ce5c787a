"""A reconciliation run: Stripe's transfers of a period against our payouts.

Stripe's side is listed through the SDK with auto-pagination: transfers created in the
period with the reversals of those that were reversed, plus, asked for by id, the
transfers reversed during the period (its ``transfer.reversed`` events) and those of
payouts we paid in the period that were made before it started. Our side is read from
the payouts read model once it has caught up with the log. A reversal found here is
recorded exactly as the webhook would have recorded it (once: the payout refuses a second
one). The run is then recorded as an event, whatever it found.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import stripe

from ..application import Marketplace
from ..domain import DomainError
from ..domain.reconciliation import (
    DiscrepancyKind, OurPayout, StripeTransfer, check_period, compare,
)
from ..metrics import OPEN_DISCREPANCIES
from ..projections import reconciliations

log = logging.getLogger(__name__)
PAGE = 100
CATCH_UP_SECONDS = 30.0
_OURS = ("SELECT p.id::text, p.status, p.amount, p.currency, w.stripe_account_id, "
         "p.stripe_transfer_id, p.reversed_amount FROM payouts p "
         "LEFT JOIN workers w ON w.id = p.worker_id ")


def _as_transfer(transfer: Any) -> StripeTransfer:
    metadata = transfer.metadata.to_dict() if transfer.metadata else {}
    return StripeTransfer(id=transfer.id, amount=int(transfer.amount),
                          currency=str(transfer.currency), destination=str(transfer.destination),
                          payout_id=metadata.get("payout_id"),
                          amount_reversed=int(transfer.amount_reversed or 0))


def _uuid_or_none(text: str | None) -> str | None:
    try:
        return str(UUID(text)) if text else None
    except ValueError:
        return None


class Reconciler:
    def __init__(self, marketplace: Marketplace, reads: Any,
                 stripe_client: Callable[[], stripe.StripeClient]):
        self.app = marketplace
        self.reads = reads
        self._stripe_client = stripe_client

    # --- Stripe's side --------------------------------------------------------------
    def _transfers(self, client: stripe.StripeClient, period_from: datetime,
                   period_to: datetime) -> Iterator[StripeTransfer]:
        created = {"gte": math.floor(period_from.timestamp()),
                   "lt": math.ceil(period_to.timestamp())}
        page = client.v1.transfers.list({"created": created, "limit": PAGE})
        for transfer in page.auto_paging_iter():
            yield self._with_reversals(client, transfer)

    @staticmethod
    def _with_reversals(client: stripe.StripeClient, transfer: Any) -> StripeTransfer:
        found = _as_transfer(transfer)
        if found.amount_reversed:
            reversals = client.v1.transfers.reversals.list(transfer.id, {"limit": PAGE})
            total = sum(int(r.amount) for r in reversals.auto_paging_iter())
            found = StripeTransfer(**{**found.__dict__, "amount_reversed": total})
        return found

    @staticmethod
    def _reversed_transfer_ids(client: stripe.StripeClient, period_from: datetime,
                               period_to: datetime) -> Iterator[str]:
        """Transfers reversed during the period, whenever they were created (Stripe's
        ``transfer.reversed`` events; it keeps them for 30 days)."""
        created = {"gte": math.floor(period_from.timestamp()),
                   "lt": math.ceil(period_to.timestamp())}
        page = client.v1.events.list({"type": "transfer.reversed", "created": created,
                                      "limit": PAGE})
        for event in page.auto_paging_iter():
            yield event.data.object.id

    def _retrieve(self, client: stripe.StripeClient, transfer_id: str) -> StripeTransfer | None:
        try:
            return self._with_reversals(client, client.v1.transfers.retrieve(transfer_id))
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise

    # --- our side ---------------------------------------------------------------------
    def _ours(self, query: str, params: Any) -> list[OurPayout]:
        with self.reads.pool.connection() as conn:
            return [OurPayout(*row) for row in conn.execute(_OURS + query, params)]

    def _caught_up(self) -> None:
        head = self.reads.max_position()
        if not self.reads.wait_for(head, CATCH_UP_SECONDS, ["payouts", "workers"]):
            raise DomainError("NOT_CAUGHT_UP", "the payouts read model is behind the log; "
                              "try again shortly")

    # --- a run ------------------------------------------------------------------------
    def reconcile(self, period_from: datetime, period_to: datetime,
            run_id: UUID | None = None) -> UUID | None:
        """Reconcile the period and record the run; its id (None: that run exists)."""
        check_period(period_from, period_to)
        started = self.app.clock()
        self._caught_up()
        try:
            return self._compare_and_record(period_from, period_to, run_id, started)
        except stripe.StripeError as error:
            raise DomainError("STRIPE_UNAVAILABLE", f"Stripe did not answer the "
                              f"reconciliation: {error.user_message or error}"[:500]) from None

    def _compare_and_record(self, period_from: datetime, period_to: datetime,
                            run_id: UUID | None, started: datetime) -> UUID | None:
        client = self._stripe_client()
        transfers = list(self._transfers(client, period_from, period_to))
        paid = self._ours("WHERE p.status = 'PAID' AND p.paid_at >= %s AND p.paid_at < %s",
                          (period_from, period_to))
        listed = {t.id for t in transfers}
        # Transfers made before the period: those our payouts of the period name, and
        # those reversed during it.
        wanted = [p.transfer_id for p in paid if p.transfer_id]
        wanted += self._reversed_transfer_ids(client, period_from, period_to)
        for transfer_id in wanted:
            if transfer_id not in listed:
                found = self._retrieve(client, transfer_id)
                if found is not None:
                    transfers.append(found)
                    listed.add(found.id)
        ids = {_uuid_or_none(t.payout_id) for t in transfers} | {p.id for p in paid}
        named = {p.id: p for p in self._ours("WHERE p.id = ANY(%s::uuid[])",
                                             ([i for i in ids if i],))}
        discrepancies = compare(paid, named, transfers)
        recorded = self._record_reversals(discrepancies)
        run_id = run_id or uuid4()
        written = self.app.record_reconciliation(
            run_id, period_from, period_to, started, len(named), len(transfers),
            discrepancies, recorded)
        if written:
            OPEN_DISCREPANCIES.set(len(discrepancies))
            log.info("reconciliation %s of %s..%s: %d discrepancies", run_id, period_from,
                     period_to, len(discrepancies))
        return run_id if written else None

    def _record_reversals(self, discrepancies: list[dict[str, Any]]) -> int:
        recorded = 0
        for found in discrepancies:
            if found["kind"] != DiscrepancyKind.UNRECORDED_REVERSAL.value:
                continue
            recorded += self.app.record_transfer_reversal(
                UUID(found["payoutId"]), found["stripeTransferId"],
                found["stripe"]["amountReversed"])
        return recorded

    def open_discrepancies(self) -> int:
        with self.reads.pool.connection() as conn:
            return reconciliations.open_discrepancies(conn)
