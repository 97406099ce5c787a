"""The Payout type: what a worker is owed, its transfer, its history and its trace."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Optional

import strawberry

from ..global_ids import to_global_id
from .context import ctx, load_optional
from .types import Event, Money, Node, PayoutStatus, Submission, Worker, enum_value


@strawberry.enum
class PayoutKind(Enum):
    SUBMISSION = "SUBMISSION"
    BONUS = "BONUS"


@strawberry.type
class Payout(Node):
    amount: Money
    status: PayoutStatus
    stripe_transfer_id: Optional[str]
    attempts: int
    failure_reason: Optional[str]
    requested_at: datetime
    paid_at: Optional[datetime]
    kind: PayoutKind
    reason: Optional[str] = strawberry.field(
        description="The bonus's reason; null for a submission's payout.")
    row: strawberry.Private[Any] = None

    @classmethod
    def from_row(cls, row: Any) -> "Payout":
        return cls(
            id=strawberry.ID(to_global_id("Payout", row.id)),
            amount=Money(amount=row.amount, currency=row.currency),
            status=enum_value(PayoutStatus, row.status),
            stripe_transfer_id=row.stripe_transfer_id, attempts=row.attempts,
            failure_reason=row.failure_reason, requested_at=row.requested_at,
            paid_at=row.paid_at, kind=PayoutKind(str(row.kind).upper()),
            reason=getattr(row, "reason", None), row=row,
        )

    @strawberry.field(description="Every event of this payout, oldest first: requested, "
                      "attempts, failures, paid, reversed.")
    async def history(self, info: strawberry.Info) -> list[Event]:
        context = ctx(info)
        rows = await context.call(context.reads.payout_history_events, self.row.id)
        return [Event.from_row(row) for row in rows]

    @strawberry.field
    async def worker(self, info: strawberry.Info) -> Worker:
        return Worker.from_row(await ctx(info).loaders.workers.load(self.row.worker_id))

    @strawberry.field
    async def submission(self, info: strawberry.Info) -> Optional[Submission]:
        return await load_optional(ctx(info).loaders.submissions, self.row.submission_id,
                                   Submission)

    @strawberry.field(description="FINANCE and ADMIN: why it was paid and from which money.")
    async def trace(self, info: strawberry.Info
                    ) -> Annotated["PayoutTrace", strawberry.lazy(".trace")]:
        from .trace import trace_of

        return await trace_of(info, self.row)
