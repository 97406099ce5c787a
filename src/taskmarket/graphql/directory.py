"""ADMIN lists of who is in the marketplace: requesters, workers and API keys.

API keys show what a key is (name, role, whom it acts for, when it was issued and
revoked), never a secret: the read model holds none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import strawberry

from ..domain import Role
from ..global_ids import to_global_id
from .context import Context, ctx, load_optional
from .errors import ClientError
from .pagination import Connection, connection, page_size
from .types import Node, Requester, Worker
from .types import Role as RoleEnum


@strawberry.type(name="ApiKeyInfo")
class ApiKeyInfo(Node):
    name: str
    role: RoleEnum
    created_at: datetime
    revoked_at: Optional[datetime]
    row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> "ApiKeyInfo":
        # The same id createApiKey answers and revokeApiKey takes.
        return cls(id=strawberry.ID(to_global_id("ApiKey", row.id)), name=row.name,
                   role=RoleEnum(row.role), created_at=row.created_at,
                   revoked_at=row.revoked_at, row=row)

    @strawberry.field(description="The requester a REQUESTER or PARTNER key acts for.")
    async def requester(self, info: strawberry.Info) -> Optional[Requester]:
        if self.row.role == Role.WORKER.value:
            return None
        return await load_optional(ctx(info).loaders.requesters, self.row.subject_id,
                                   Requester)

    @strawberry.field(description="The worker a WORKER key acts for.")
    async def worker(self, info: strawberry.Info) -> Optional[Worker]:
        if self.row.role != Role.WORKER.value:
            return None
        return await load_optional(ctx(info).loaders.workers, self.row.subject_id, Worker)


def need_admin(context: Context, what: str) -> None:
    if context.need_viewer().role != Role.ADMIN:
        raise ClientError(f"{what} are listed for an ADMIN key", "FORBIDDEN")


async def load_api_key(context: Context, key_id: Any) -> Optional[ApiKeyInfo]:
    """An API key as node(id:) shows it: to ADMIN keys only."""
    if context.need_viewer().role != Role.ADMIN:
        return None
    rows = await context.call(context.reads.api_keys, [key_id])
    row = rows.get(key_id)
    return ApiKeyInfo.from_row(row) if row else None


async def admin_page(info: strawberry.Info, what: str, node_type: Any, read: str,
                     first: Optional[int], after: Optional[str], *filters: Any) -> Connection:
    """A page of an ADMIN list: ``context.reads.<read>(*filters, size + 1, after)``."""
    context = ctx(info)
    size = page_size(first)
    need_admin(context, what)
    rows = await context.call(getattr(context.reads, read), *filters, size + 1, after)
    return connection(rows, size, node_type.from_row)


@strawberry.type
class DirectoryQueries:
    @strawberry.field(description="ADMIN.")
    async def requesters(self, info: strawberry.Info, first: Optional[int] = None,
                         after: Optional[str] = None) -> Connection[Requester]:
        return await admin_page(info, "requesters", Requester, "requester_page", first, after)

    @strawberry.field(description="ADMIN.")
    async def workers(self, info: strawberry.Info, first: Optional[int] = None,
                      after: Optional[str] = None,
                      skill: Optional[str] = None) -> Connection[Worker]:
        wanted = skill.strip().lower() if skill is not None else None
        return await admin_page(info, "workers", Worker, "worker_page", first, after, wanted)

    @strawberry.field(description="ADMIN; never shows a secret.")
    async def api_keys(self, info: strawberry.Info, first: Optional[int] = None,
                       after: Optional[str] = None) -> Connection[ApiKeyInfo]:
        return await admin_page(info, "API keys", ApiKeyInfo, "api_key_page", first, after)
