"""The object types of the contract, built from read-model rows.

Each type keeps the ids of what it links to (Private) and resolves the links through the
request's DataLoaders, so a page of N nodes costs one query per kind of link, not N.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Optional
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from ..domain import ClaimStatus, PayoutStatus, ReviewDecision, Role, SubmissionStatus, TaskStatus
from ..domain.payout_account import PayoutAccountStatus
from . import visibility
from .context import ctx
from .errors import ClientError
from ..global_ids import to_global_id
from ..presented_events import present_data
from .pagination import Connection, connection, page_size

if TYPE_CHECKING:
    from .batch_types import Batch, Consensus, WorkerQualitySummary

Role = strawberry.enum(Role)
TaskStatus = strawberry.enum(TaskStatus)
ClaimStatus = strawberry.enum(ClaimStatus)
SubmissionStatus = strawberry.enum(SubmissionStatus)
ReviewDecision = strawberry.enum(ReviewDecision)
PayoutStatus = strawberry.enum(PayoutStatus)
PayoutAccountStatus = strawberry.enum(PayoutAccountStatus)


def enum_value(enum: type[Enum], value: Any) -> Any:
    return enum(getattr(value, "value", value))


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class Money:
    amount: int
    currency: str


@strawberry.input
class MoneyInput:
    amount: int
    currency: str


DEFAULT_CURRENCY = "USD"


def currency_of(requester_row: Any) -> str:
    # Requesters created before the currency was chosen up front have none until their
    # first deposit; they hold nothing until then.
    return requester_row.currency or DEFAULT_CURRENCY


def forbidden_field(name: str) -> ClientError:
    return ClientError(f"your API key may not read {name}", "FORBIDDEN")


@strawberry.type
class Requester(Node):
    name: str
    requester_id: strawberry.Private[UUID]
    row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> "Requester":
        return cls(id=strawberry.ID(to_global_id("Requester", row.id)), name=row.name,
                   requester_id=row.id, row=row)

    def _money(self, info: strawberry.Info, amount: int) -> Money:
        if not visibility.sees_requester_money(ctx(info).need_viewer(), self.requester_id):
            raise forbidden_field("this requester's balance")
        return Money(amount=amount, currency=currency_of(self.row))

    @strawberry.field(description="The currency of the requester's funds (ISO 4217), "
                      "chosen when it was created.")
    def currency(self) -> str:
        return currency_of(self.row)

    @strawberry.field(description="Funds available for new tasks (deposits minus escrow "
                      "minus refunds paid out).")
    def balance(self, info: strawberry.Info) -> Money:
        return self._money(info, self.row.balance)

    @strawberry.field(description="Funds reserved for open task slots.")
    def escrow(self, info: strawberry.Info) -> Money:
        return self._money(info, self.row.escrow)


@strawberry.type
class PayoutAccount:
    stripe_account_id: str
    status: PayoutAccountStatus
    requirements_due: list[str] = strawberry.field(
        description="Stripe's requirements.currently_due for the account.")


@strawberry.type
class Worker(Node):
    name: str
    skills: list[str]
    row: strawberry.Private[Any] = None

    @classmethod
    def from_row(cls, row: Any) -> "Worker":
        return cls(id=strawberry.ID(to_global_id("Worker", row.id)), name=row.name,
                   skills=list(row.skills), row=row)

    @strawberry.field(description="Null until the worker has a connected account.")
    def payout_account(self, info: strawberry.Info) -> Optional[PayoutAccount]:
        if self.row is None or not self.row.stripe_account_id:
            return None
        if not visibility.sees_payout_account(ctx(info).need_viewer(), self.row.id):
            raise forbidden_field("this worker's payout account")
        # Linked by id and not yet read from Stripe: it is not known to take transfers.
        status = self.row.payout_account_status or "ONBOARDING"
        return PayoutAccount(stripe_account_id=self.row.stripe_account_id,
                             status=PayoutAccountStatus(status),
                             requirements_due=list(self.row.requirements_due or []))

    @strawberry.field(description="Review outcomes and gold accuracy across every batch: "
                      "the worker itself, requesters, ADMIN and FINANCE.")
    async def quality(self, info: strawberry.Info
                      ) -> Optional[Annotated["WorkerQualitySummary",
                                              strawberry.lazy(".batch_types")]]:
        from .batch_types import worker_quality_summary

        return await worker_quality_summary(info, self.row.id if self.row else None)


@strawberry.type
class Event:
    id: strawberry.ID
    position: str
    type: str
    aggregate_id: strawberry.ID
    aggregate_version: int
    occurred_at: datetime
    data: JSON

    @classmethod
    def from_row(cls, row: Any) -> "Event":
        return cls(
            id=strawberry.ID(to_global_id("Event", row.position)), position=str(row.position),
            type=row.type,
            aggregate_id=strawberry.ID(to_global_id(row.aggregate_kind, row.aggregate_id)),
            aggregate_version=row.aggregate_version, occurred_at=row.occurred_at,
            data=present_data(row.aggregate_kind, row.aggregate_id, row.data),
        )


async def load_requester(info: strawberry.Info, requester_id: UUID) -> Requester:
    return Requester.from_row(await ctx(info).loaders.requesters.load(requester_id))


@strawberry.type
class Task(Node):
    title: str
    instructions: str
    payload: Optional[JSON]
    reward: Money
    required_skills: list[str]
    claim_timeout_seconds: int
    auto_approve_after_seconds: Optional[int]
    status: TaskStatus
    open_slots: int = strawberry.field(
        description="Slots that are neither held by an active claim, waiting for review, "
        "nor accepted.")
    created_at: datetime
    row: strawberry.Private[Any]
    # Filled when the list resolver read the page's requesters along with the page.
    requester_row: strawberry.Private[Any] = None
    # ... or their Requester objects, built once per requester of the page.
    prefetched_requester: strawberry.Private[Any] = None

    @classmethod
    def from_row(cls, row: Any, requester_row: Any = None,
                 requester: Optional["Requester"] = None) -> "Task":
        return cls(
            id=strawberry.ID(to_global_id("Task", row.id)), title=row.title,
            instructions=row.instructions, payload=row.payload,
            reward=Money(amount=row.reward_amount, currency=row.currency),
            required_skills=list(row.required_skills),
            claim_timeout_seconds=row.claim_timeout_seconds,
            auto_approve_after_seconds=row.auto_approve_after_seconds,
            status=enum_value(TaskStatus, row.status), open_slots=row.open_slots,
            created_at=row.created_at, row=row, requester_row=requester_row,
            prefetched_requester=requester,
        )

    @strawberry.field(description="How many accepted submissions the task needs (overlap).")
    def assignments(self, info: strawberry.Info) -> int:
        # A batch's gold item gains a slot as workers claim it; a worker is shown the
        # batch's overlap, so control items look like any other item.
        if self.row.batch_id is None or ctx(info).need_viewer().role != Role.WORKER:
            return self.row.assignments
        from .batch_types import assignments_shown_to_workers

        return assignments_shown_to_workers(info, self.row)

    @strawberry.field
    def requester(self, info: strawberry.Info) -> Requester:
        # Sync on purpose: a page whose requesters were read up front resolves without
        # a coroutine per node (graphql-core then completes the page synchronously);
        # otherwise the awaitable returned here is awaited by the executor.
        if self.prefetched_requester is not None:
            return self.prefetched_requester
        if self.requester_row is not None:
            return Requester.from_row(self.requester_row)
        return load_requester(info, self.row.requester_id)

    @strawberry.field
    async def submissions(self, info: strawberry.Info, first: Optional[int] = None,
                          after: Optional[str] = None) -> Connection[Submission]:
        context = ctx(info)
        if not visibility.sees_task_work(context.need_viewer(), self.row):
            raise forbidden_field("this task's submissions")
        size = page_size(first)
        rows = await context.call(context.reads.submissions_of_task, self.row.id, size + 1, after)
        return connection(rows, size, Submission.from_row)

    @strawberry.field
    async def batch(self, info: strawberry.Info
                    ) -> Optional[Annotated["Batch", strawberry.lazy(".batch_types")]]:
        from .batch_types import task_batch

        return await task_batch(info, self.row)

    @strawberry.field(description="Null until the item has its overlap of answers (or "
                      "outside a batch).")
    async def consensus(self, info: strawberry.Info
                        ) -> Optional[Annotated["Consensus", strawberry.lazy(".batch_types")]]:
        from .batch_types import task_consensus

        return await task_consensus(info, self.row)

    @strawberry.field(description="Every event of this task, oldest first.")
    async def history(self, info: strawberry.Info) -> list[Event]:
        context = ctx(info)
        if not visibility.sees_task_history(context.need_viewer(), self.row):
            raise forbidden_field("this task's history")
        rows = await context.call(context.reads.task_history, self.row.id)
        return [Event.from_row(row) for row in rows]


async def task_of_row(root: Any, info: strawberry.Info) -> Task:
    """The task of a claim's or a submission's row."""
    return Task.from_row(await ctx(info).loaders.tasks.load(root.row.task_id))


async def worker_of_row(root: Any, info: strawberry.Info) -> Worker:
    return Worker.from_row(await ctx(info).loaders.workers.load(root.row.worker_id))


@strawberry.type
class Claim(Node):
    status: ClaimStatus
    expires_at: datetime
    row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> "Claim":
        return cls(id=strawberry.ID(to_global_id("Claim", row.task_id, row.id)),
                   status=enum_value(ClaimStatus, row.status), expires_at=row.expires_at,
                   row=row)

    task: Task = strawberry.field(resolver=task_of_row)
    worker: Worker = strawberry.field(resolver=worker_of_row)


@strawberry.type
class Submission(Node):
    result: JSON
    status: SubmissionStatus
    feedback: Optional[str]
    submitted_at: datetime
    row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> "Submission":
        return cls(
            id=strawberry.ID(to_global_id("Submission", row.task_id, row.id)),
            result=row.result, status=enum_value(SubmissionStatus, row.status),
            feedback=row.feedback, submitted_at=row.submitted_at, row=row,
        )

    task: Task = strawberry.field(resolver=task_of_row)
    worker: Worker = strawberry.field(resolver=worker_of_row)

    @strawberry.field
    async def claim(self, info: strawberry.Info) -> Claim:
        return Claim.from_row(await ctx(info).loaders.claims.load(self.row.claim_id))

    @strawberry.field(description="Its worker was blocked from this task's batch for low "
                      "gold accuracy: review it with care.")
    async def flagged(self, info: strawberry.Info) -> bool:
        return bool(await ctx(info).loaders.flagged_submissions.load(self.row.id))
