"""Finance's view of the books (the contract's finance section): balances as of any moment
of the log, and the head of the log's hash chain. FINANCE and ADMIN keys only."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import strawberry

from ..clock import utc_now
from .context import Context, ctx
from .errors import ClientError
from .finance import present_account
from .scalars import BigInt


def need_finance(context: Context) -> None:
    if not context.need_viewer().sees_everything:
        raise ClientError("the books are read by FINANCE and ADMIN keys", "FORBIDDEN")


@strawberry.type
class AuditHead:
    position: str
    hash: str = strawberry.field(description="Hex SHA-256 of the hash chain up to and "
                                 "including this position.")


@strawberry.type
class AccountBalance:
    account: str = strawberry.field(description="A ledger account, as the ledger query "
                                    "names it.")
    currency: str
    amount: BigInt = strawberry.field(description="In minor units; platform-wide accounts "
                                      "can exceed a 32-bit Int.")


@strawberry.type
class AccountBalances:
    position: str = strawberry.field(description="The log position the balances are as of.")
    as_of: datetime
    balances: list[AccountBalance]


@strawberry.type
class BooksQueries:
    @strawberry.field(description="FINANCE and ADMIN. asOf is a log position (an "
                      "Event.position); at is a time; now when both are omitted.")
    async def account_balances(self, info: strawberry.Info, as_of: Optional[str] = None,
                               at: Optional[datetime] = None) -> AccountBalances:
        return await account_balances(info, as_of, at)

    @strawberry.field(description="FINANCE and ADMIN. The latest position of the log's hash "
                      "chain and its hash, to write down elsewhere.")
    async def audit_head(self, info: strawberry.Info) -> AuditHead:
        context = ctx(info)
        need_finance(context)
        position, digest = await context.call(context.reads.audit_head)
        return AuditHead(position=str(position), hash=digest)


def parse_log_position(value: Optional[str], field: str) -> Optional[int]:
    """An Event.position as given by the client (a string of digits), or None."""
    if value is None:
        return None
    if not value.isdigit():
        raise ClientError(f"{field} must be a log position (an Event.position)",
                          "INVALID_INPUT")
    return int(value)


async def account_balances(info: strawberry.Info, as_of: Optional[str] = None,
                           at: Optional[datetime] = None) -> AccountBalances:
    context = ctx(info)
    need_finance(context)
    if as_of is not None and at is not None:
        raise ClientError("give asOf or at, not both", "INVALID_INPUT")
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)  # a time without an offset is UTC
    moment, rows = await context.call(context.reads.account_balances,
                                      parse_log_position(as_of, "asOf"), at)
    return AccountBalances(
        position=str(moment.position), as_of=moment.occurred_at or at or utc_now(),
        balances=[AccountBalance(account=present_account(a), currency=c, amount=b)
                  for a, c, b in rows])
