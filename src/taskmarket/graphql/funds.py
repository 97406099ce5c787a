"""Money coming in: deposits (ADMIN)."""

from __future__ import annotations

from typing import Optional
from uuid import UUID

import strawberry

from ..global_ids import decode_one
from .auth import ADMIN
from .errors import UserError
from .mutation import Caller, read_node, run_mutation
from .types import MoneyInput, Requester


@strawberry.input
class DepositFundsInput:
    requester_id: strawberry.ID
    amount: MoneyInput
    reference: str = strawberry.field(description="A reference of the money received "
                                      "(Stripe payment intent, wire reference).")
    idempotency_key: Optional[str] = None


@strawberry.type
class DepositFundsPayload:
    requester: Optional[Requester] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FundsMutations:
    @strawberry.mutation
    async def deposit_funds(self, info: strawberry.Info,
                            input: DepositFundsInput) -> DepositFundsPayload:
        def command(caller: Caller) -> UUID:
            requester_id = decode_one(input.requester_id, "Requester", "requesterId")
            caller.marketplace.deposit_funds(
                requester_id, input.amount.amount, input.amount.currency, input.reference,
                input.idempotency_key)
            return requester_id

        return await run_mutation(info, "depositFunds", command, DepositFundsPayload,
                                  roles=ADMIN, requester=read_node(Requester, "requesters"))
