"""Money coming in: deposits (ADMIN)."""

from __future__ import annotations

from typing import Optional

import strawberry

from ..domain import Role
from .auth import require
from .commands import execute
from .context import ctx
from .errors import UserError
from ..global_ids import decode_one
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
        context = ctx(info)

        def command():
            require(context.need_viewer(), Role.ADMIN)
            requester_id = decode_one(input.requester_id, "Requester", "requesterId")
            context.marketplace.deposit_funds(
                requester_id, input.amount.amount, input.amount.currency, input.reference,
                input.idempotency_key)
            return requester_id

        outcome = await execute(context, "depositFunds", command)
        if not outcome.ok:
            return DepositFundsPayload(user_errors=outcome.errors)
        row = await context.loaders.requesters.load(outcome.value)
        return DepositFundsPayload(requester=row and Requester.from_row(row))
