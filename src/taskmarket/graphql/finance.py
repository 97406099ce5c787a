"""The double-entry ledger, for FINANCE and ADMIN keys (beyond the contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Optional

import strawberry

from ..domain import DomainError
from ..global_ids import decode_one, to_global_id
from .context import ctx
from .errors import ClientError, client_error_from
from .pagination import Connection, connection, page_size

# Accounts that name their owner (requester:<id>:escrow); the API shows that id as the
# owner's global id and takes it back in that form.
OWNER_TYPES = {"requester": "Requester", "worker": "Worker"}
KINDS = frozenset({*OWNER_TYPES, "external", "stripe", "platform"})


def present_account(account: str) -> str:
    kind, _, rest = account.partition(":")
    if kind not in OWNER_TYPES or not rest:
        return account
    owner, _, purse = rest.partition(":")
    return ":".join(filter(None, [kind, to_global_id(OWNER_TYPES[kind], owner), purse]))


def stored_account(account: str | None) -> str:
    """An account (or owner prefix) as given to the API -> as the ledger stores it.

    INVALID_INPUT for an unknown kind of account or an owner that is not a global id of
    the right type (a raw UUID included), so a wrong filter never reads as "no entries".
    """
    if not account:
        return ""
    kind, _, rest = account.partition(":")
    if kind not in KINDS:
        raise DomainError("INVALID_INPUT", f"unknown account kind {kind!r}; one of "
                          f"{', '.join(sorted(KINDS))}", ["account"])
    if kind not in OWNER_TYPES or not rest:
        return account
    owner, _, purse = rest.partition(":")
    raw = decode_one(owner, OWNER_TYPES[kind], "account")
    return ":".join(filter(None, [kind, str(raw), purse]))


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
        return cls(position=str(position), account=present_account(row.account),
                   currency=row.currency, amount=row.amount, event_type=row.event_type,
                   occurred_at=row.occurred_at)


@strawberry.type
class FinanceQueries:
    @strawberry.field(description="Ledger entries in log order: of one account "
                      "(requester:<requester id>:escrow), one owner (requester:<requester "
                      "id>, stripe) or all. FINANCE and ADMIN only.")
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
        try:
            prefix = stored_account(account)
        except DomainError as error:
            raise client_error_from(error) from None
        rows = await context.call(context.reads.ledger, prefix, size + 1, after,
                                  parse_log_position(as_of, "asOf"))
        return connection(rows, size, LedgerEntry.from_row)
