"""The double-entry ledger, for FINANCE and ADMIN keys (beyond the contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Optional

import strawberry

from .context import ctx
from .errors import ClientError
from .pagination import Connection, connection, page_size


@strawberry.type(description="One side of a money movement; each movement's entries sum "
                 "to zero.")
class LedgerEntry:
    position: str = strawberry.field(description="The event that moved the money (its "
                                     "Event.position, usable as asOf).")
    account: str
    currency: str
    amount: int = strawberry.field(description="Signed, in the currency's minor unit.")
    event_type: str
    occurred_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> "LedgerEntry":
        # Until the event log has the event (its projection runs apart), its store id.
        position = row.log_position if row.log_position is not None else row.position
        return cls(position=str(position), account=row.account, currency=row.currency,
                   amount=row.amount, event_type=row.event_type, occurred_at=row.occurred_at)


@strawberry.type
class FinanceQueries:
    @strawberry.field(description="Ledger entries in log order: of one account "
                      "(requester:<uuid>:escrow), one owner (requester:<uuid>, stripe) or "
                      "all. FINANCE and ADMIN only.")
    async def ledger(self, info: strawberry.Info, first: Optional[int] = None,
                     after: Optional[str] = None,
                     account: Optional[str] = None,
                     as_of: Annotated[Optional[str], strawberry.argument(
                         description="Only entries up to this log position (an "
                         "Event.position).")] = None) -> Connection[LedgerEntry]:
        from .books import parse_log_position

        context = ctx(info)
        size = page_size(first)
        if not context.need_viewer().sees_everything:
            raise ClientError("the ledger is read by FINANCE and ADMIN keys", "FORBIDDEN")
        rows = await context.call(context.reads.ledger, account or "", size + 1, after,
                                  parse_log_position(as_of, "asOf"))
        return connection(rows, size, LedgerEntry.from_row)
