"""Retrying a failed payout (FINANCE, ADMIN); paying it is the workers' job."""

from __future__ import annotations

from typing import Optional

import strawberry

from ..domain import Role
from .auth import require
from .commands import execute
from .context import ctx
from .errors import UserError
from ..global_ids import decode_one
from .types import Payout


@strawberry.input
class RetryPayoutInput:
    payout_id: strawberry.ID


@strawberry.type
class RetryPayoutPayload:
    payout: Optional[Payout] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PayoutMutations:
    @strawberry.mutation
    async def retry_payout(self, info: strawberry.Info,
                           input: RetryPayoutInput) -> RetryPayoutPayload:
        context = ctx(info)

        def command():
            require(context.need_viewer(), Role.FINANCE, Role.ADMIN)
            payout_id = decode_one(input.payout_id, "Payout", "payoutId")
            context.marketplace.retry_payout(payout_id)
            return payout_id

        outcome = await execute(context, "retryPayout", command)
        if not outcome.ok:
            return RetryPayoutPayload(user_errors=outcome.errors)
        row = await context.loaders.payouts.load(outcome.value)
        return RetryPayoutPayload(payout=Payout.from_row(row) if row else None)
