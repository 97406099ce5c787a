"""Retrying a failed payout (FINANCE, ADMIN); paying it is the workers' job."""

from __future__ import annotations

from typing import Optional
from uuid import UUID

import strawberry

from ..global_ids import decode_one
from .auth import MONEY_KEEPERS
from .errors import UserError
from .mutation import Caller, read_node, run_mutation
from .payout_types import Payout


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
        def command(caller: Caller) -> UUID:
            payout_id = decode_one(input.payout_id, "Payout", "payoutId")
            caller.marketplace.retry_payout(payout_id)
            return payout_id

        return await run_mutation(info, "retryPayout", command, RetryPayoutPayload,
                                  roles=MONEY_KEEPERS, payout=read_node(Payout, "payouts"))
