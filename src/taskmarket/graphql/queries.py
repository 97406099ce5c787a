"""Queries: nodes by global id and the role-scoped lists of the contract."""

from __future__ import annotations

from typing import Any, Optional
from uuid import UUID

import strawberry

from ..domain import DomainError, Role
from . import visibility
from .auth import Viewer
from .context import Context, ctx, load_optional
from .errors import ClientError, client_error_from
from .events import event_scope, parse_position
from ..global_ids import PARTS, decode_id, decode_one, parse_global_id
from .pagination import Connection, connection, page_size
from .payout_types import Payout
from .types import (
    Claim, Event, Node, PayoutStatus, Requester, Submission, Task, TaskStatus, Worker,
)
from .types import Role as RoleEnum
from .directory import load_api_key
from .webhook_queries import resolve_webhook_node


@strawberry.type(description="Who the API key belongs to.")
class Me:
    role: RoleEnum
    key_name: str
    viewer: strawberry.Private[Viewer]

    @strawberry.field(description="The requester a REQUESTER or PARTNER key acts for.")
    async def requester(self, info: strawberry.Info) -> Optional[Requester]:
        return await load_optional(ctx(info).loaders.requesters, self.viewer.requester_id,
                                   Requester)

    @strawberry.field(description="The worker a WORKER key acts for.")
    async def worker(self, info: strawberry.Info) -> Optional[Worker]:
        return await load_optional(ctx(info).loaders.workers, self.viewer.worker_id, Worker)


def forbidden_query(message: str) -> ClientError:
    return ClientError(message, "FORBIDDEN")


async def load_node(context: Context, type_name: str, ids: tuple[UUID, ...]) -> Any:
    """The node of that type and id when the viewer may see it, else None."""
    viewer = context.need_viewer()
    loaders = context.loaders
    if type_name == "Requester":
        row = await loaders.requesters.load(ids[0])
        return row and Requester.from_row(row)
    if type_name == "Worker":
        row = await loaders.workers.load(ids[0])
        return row and Worker.from_row(row)
    if type_name == "Task":
        row = await loaders.tasks.load(ids[0])
        return Task.from_row(row) if row and visibility.sees_task(viewer, row) else None
    if type_name in ("Claim", "Submission"):
        loader = loaders.claims if type_name == "Claim" else loaders.submissions
        row = await loader.load(ids[1])
        if row is None or row.task_id != ids[0]:
            return None
        task = await loaders.tasks.load(row.task_id)
        if not visibility.sees_work(viewer, row.worker_id, task):
            return None
        return (Claim if type_name == "Claim" else Submission).from_row(row)
    if type_name == "Batch":
        from .batch_types import load_batch

        return await load_batch(context, ids[0])
    if type_name == "Payout":
        row = await loaders.payouts.load(ids[0])
        return Payout.from_row(row) if row and visibility.sees_payout(viewer, row) else None
    if type_name == "ReconciliationRun":
        from .reconciliation import load_run
        return await load_run(context, ids[0])
    return None


def decode_node_id(global_id: str, expected: str | None = None
                   ) -> tuple[str, tuple[UUID, ...]]:
    """The type and ids a global id names (of ``expected`` type when given).

    Malformed ids, raw UUIDs, unknown types and ids of another type are INVALID_INPUT.
    """
    try:
        if expected is not None:
            return expected, decode_id(global_id, expected, "id")
        type_name, _ = parse_global_id(global_id)
        if type_name not in PARTS:
            raise DomainError("INVALID_INPUT", "not the id of any node", ["id"])
        return type_name, decode_id(global_id, type_name, "id")
    except DomainError as error:
        raise client_error_from(error) from None


def page_with_requesters(reads: Any, size: int, want_requesters: bool, read: Any,
                         *args: Any) -> tuple[list[Any], dict[UUID, Any]]:
    """A page of task rows and, when asked, their requesters: one trip off the loop."""
    rows = read(*args)
    if not want_requesters:
        return rows, {}
    return rows, reads.requesters({row.requester_id for row in rows[:size]})


def selects(fields: Any, name: str) -> bool:
    """Whether a field called ``name`` is selected anywhere below (fragments included)."""
    return any(getattr(field, "name", None) == name or selects(field.selections, name)
               for field in fields)


async def tasks_for(context: Context, viewer: Viewer, size: int, after: Optional[str],
                    status: Optional[TaskStatus], skill: Optional[str],
                    want_requesters: bool = False) -> tuple[list[Any], dict[UUID, Any]]:
    reads = context.reads
    status_value = status.value if status else None

    async def page(read: Any, *args: Any) -> tuple[list[Any], dict[UUID, Any]]:
        return await context.call(page_with_requesters, reads, size, want_requesters, read,
                                  *args)

    if viewer.role == Role.WORKER:
        if status_value not in (None, "OPEN"):
            return [], {}
        worker = await context.loaders.workers.load(viewer.subject_id)
        skills = list(worker.skills) if worker else []
        return await page(reads.open_tasks_for_worker, skills, skill, size + 1, after)
    if viewer.role == Role.REQUESTER:
        return await page(reads.tasks_of_requester, viewer.subject_id, status_value,
                          size + 1, after)
    if viewer.sees_everything:
        return await page(reads.all_tasks, status_value, skill, size + 1, after)
    raise forbidden_query("a PARTNER key reads events only")


@strawberry.type
class Queries:
    @strawberry.field(description="The caller: its role and whom its key acts for.")
    def me(self, info: strawberry.Info) -> Me:
        viewer = ctx(info).need_viewer()
        return Me(role=RoleEnum(viewer.role.value), key_name=viewer.key_name, viewer=viewer)

    @strawberry.field
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Optional[Node]:
        type_name, ids = decode_node_id(id)
        if type_name.startswith("Webhook"):
            return await resolve_webhook_node(info, type_name, [str(i) for i in ids])
        if type_name == "ApiKey":
            return await load_api_key(ctx(info), ids[0])
        return await load_node(ctx(info), type_name, ids)

    @strawberry.field
    async def task(self, info: strawberry.Info, id: strawberry.ID) -> Optional[Task]:
        return await load_node(ctx(info), *decode_node_id(id, "Task"))

    @strawberry.field(description="Tasks visible to the caller: workers see OPEN tasks they "
                      "qualify for; requesters their own.")
    async def tasks(self, info: strawberry.Info, first: Optional[int] = None,
                    after: Optional[str] = None, status: Optional[TaskStatus] = None,
                    skill: Optional[str] = None) -> Connection[Task]:
        context = ctx(info)
        size = page_size(first)
        rows, people = await tasks_for(context, context.need_viewer(), size, after, status,
                                       skill, selects(info.selected_fields, "requester"))
        requesters = {key: Requester.from_row(row) for key, row in people.items()}
        return connection(rows, size,
                          lambda row: Task.from_row(row, requester=requesters.get(
                              row.requester_id)))

    @strawberry.field(description="Submissions waiting for the calling requester's review, "
                      "oldest first.")
    async def review_queue(self, info: strawberry.Info, first: Optional[int] = None,
                           after: Optional[str] = None) -> Connection[Submission]:
        context = ctx(info)
        size = page_size(first)
        viewer = context.need_viewer()
        if viewer.role != Role.REQUESTER:
            raise forbidden_query("the review queue is a requester's")
        rows = await context.call(context.reads.review_queue, viewer.subject_id, size + 1,
                                  after)
        return connection(rows, size, Submission.from_row)

    @strawberry.field(description="Payouts: a worker sees its own, FINANCE and ADMIN see all.")
    async def payouts(self, info: strawberry.Info, first: Optional[int] = None,
                      after: Optional[str] = None, status: Optional[PayoutStatus] = None,
                      worker_id: Optional[strawberry.ID] = None) -> Connection[Payout]:
        context = ctx(info)
        size = page_size(first)
        viewer = context.need_viewer()
        try:
            wanted = decode_one(worker_id, "Worker", "workerId") if worker_id else None
        except DomainError as error:
            raise client_error_from(error) from None
        if viewer.role == Role.WORKER:
            if wanted not in (None, viewer.subject_id):
                raise forbidden_query("a worker reads its own payouts only")
            wanted = viewer.subject_id
        elif not viewer.sees_everything:
            raise forbidden_query("payouts are read by their worker, FINANCE and ADMIN")
        rows = await context.call(context.reads.payout_history, wanted,
                                  status.value if status else None, size + 1, after)
        return connection(rows, size, Payout.from_row)

    @strawberry.field(description="The global event log from a position on, filtered to what "
                      "the caller may see.")
    async def events(self, info: strawberry.Info, first: Optional[int] = None,
                     after: Optional[str] = None,
                     types: Optional[list[str]] = None) -> Connection[Event]:
        context = ctx(info)
        size = page_size(first)
        scope = event_scope(context.need_viewer())
        rows = await context.call(scope.read, context.reads, parse_position(after), size + 1,
                                  types)
        return connection(rows, size, Event.from_row)

    @strawberry.field(description="The calling worker's claims, newest first.")
    async def my_claims(self, info: strawberry.Info, first: Optional[int] = None,
                        after: Optional[str] = None) -> Connection[Claim]:
        context = ctx(info)
        size = page_size(first)
        viewer = context.need_viewer()
        if viewer.role != Role.WORKER:
            raise forbidden_query("claims are listed for a WORKER key")
        rows = await context.call(context.reads.claims_of_worker, viewer.subject_id,
                                  size + 1, after)
        return connection(rows, size, Claim.from_row)
