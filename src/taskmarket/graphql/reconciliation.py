"""Reconciliation with Stripe (FINANCE and ADMIN): run one, list the runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from ..domain.reconciliation import DiscrepancyKind as DiscrepancyKindValue
from ..global_ids import to_global_id
from .auth import MONEY_KEEPERS
from .books import need_finance
from .context import ctx, load_optional
from .errors import UserError
from .mutation import Caller, Done, run_mutation
from .pagination import Connection, connection, page_size
from .payout_types import Payout
from .types import Node

DiscrepancyKind = strawberry.enum(DiscrepancyKindValue)


@strawberry.type
class Discrepancy:
    kind: DiscrepancyKind
    stripe_transfer_id: Optional[str]
    detail: str
    ours: Optional[JSON] = strawberry.field(description="Our side: the payout as our books "
                                            "have it (null when the transfer names none).")
    stripe: Optional[JSON] = strawberry.field(description="Stripe's side: the transfer as "
                                              "Stripe has it (null when it has none).")
    payout_id: strawberry.Private[Optional[str]]

    @strawberry.field
    async def payout(self, info: strawberry.Info) -> Optional[Payout]:
        payout_id = UUID(self.payout_id) if self.payout_id is not None else None
        return await load_optional(ctx(info).loaders.payouts, payout_id, Payout)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Discrepancy":
        return cls(kind=DiscrepancyKind(data["kind"]), payout_id=data.get("payoutId"),
                   stripe_transfer_id=data.get("stripeTransferId"), detail=data["detail"],
                   ours=data.get("ours"), stripe=data.get("stripe"))


@strawberry.type
class ReconciliationRun(Node):
    started_at: datetime
    finished_at: Optional[datetime]
    period_from: datetime = strawberry.field(name="from", description="The period of "
                                             "transfers compared.")
    to: datetime
    payouts_compared: int
    transfers_compared: int
    discrepancies: list[Discrepancy]

    @classmethod
    def from_row(cls, row: Any) -> "ReconciliationRun":
        return cls(id=strawberry.ID(to_global_id("ReconciliationRun", row.id)),
                   started_at=row.started_at, finished_at=row.finished_at,
                   period_from=row.period_from, to=row.period_to,
                   payouts_compared=row.payouts_compared,
                   transfers_compared=row.transfers_compared,
                   discrepancies=[Discrepancy.from_data(d) for d in row.discrepancies])


async def load_run(context: Any, run_id: UUID) -> Optional[ReconciliationRun]:
    """The run for read_node(id:) and payloads; None for keys that do not read the books."""
    if not context.need_viewer().sees_everything:
        return None
    row = await context.call(context.reads.reconciliation_run, run_id)
    return ReconciliationRun.from_row(row) if row else None


@strawberry.input
class ReconcileInput:
    period_from: datetime = strawberry.field(name="from")
    to: datetime


@strawberry.type
class ReconcilePayload:
    run: Optional[ReconciliationRun] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReconciliationQueries:
    @strawberry.field(description="FINANCE and ADMIN, newest first.")
    async def reconciliation_runs(self, info: strawberry.Info, first: Optional[int] = None,
                                  after: Optional[str] = None
                                  ) -> Connection[ReconciliationRun]:
        context = ctx(info)
        need_finance(context)
        size = page_size(first)
        rows = await context.call(context.reads.reconciliation_runs, size + 1, after)
        return connection(rows, size, ReconciliationRun.from_row)


async def run_shown(done: Done[UUID]) -> Optional[ReconciliationRun]:
    return await load_run(done.context, done.value)


@strawberry.type
class ReconciliationMutations:
    @strawberry.mutation(description="FINANCE and ADMIN: compare our payouts with Stripe's "
                         "transfers over a period.")
    async def reconcile(self, info: strawberry.Info, input: ReconcileInput) -> ReconcilePayload:
        def command(caller: Caller) -> UUID:
            return caller.context.services.reconciler().reconcile(input.period_from, input.to)

        return await run_mutation(info, "reconcile", command, ReconcilePayload,
                                  roles=MONEY_KEEPERS, run=run_shown)
