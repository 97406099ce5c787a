"""A requester's task mutations: post and cancel."""

from __future__ import annotations

from typing import Optional
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from ..domain import Money
from ..domain.task import TaskSpec
from .auth import require_requester
from .commands import execute
from .context import Context, ctx
from .errors import UserError
from ..global_ids import decode_one
from .types import MoneyInput, Task


@strawberry.input
class PostTaskInput:
    title: str
    instructions: str
    payload: Optional[JSON] = None
    reward: MoneyInput
    assignments: Optional[int] = 1
    required_skills: Optional[list[str]] = strawberry.field(default_factory=list)
    claim_timeout_seconds: Optional[int] = 3600
    auto_approve_after_seconds: Optional[int] = strawberry.field(
        default=None, description="Accept a submission automatically when its requester "
        "has not reviewed it by then.")
    idempotency_key: Optional[str] = None


@strawberry.type
class PostTaskPayload:
    task: Optional[Task] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CancelTaskInput:
    task_id: strawberry.ID


@strawberry.type
class CancelTaskPayload:
    task: Optional[Task] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def spec_of(input: PostTaskInput) -> TaskSpec:
    reward = Money.of(input.reward.amount, input.reward.currency, field="reward")
    # Explicit nulls mean "the default", as omitted fields do.
    return TaskSpec(
        title=input.title, instructions=input.instructions, reward=reward,
        assignments=1 if input.assignments is None else input.assignments,
        payload=input.payload, required_skills=tuple(input.required_skills or ()),
        claim_timeout_seconds=(3600 if input.claim_timeout_seconds is None
                               else input.claim_timeout_seconds),
        auto_approve_after_seconds=input.auto_approve_after_seconds,
    )


async def task_payload(context: Context, task_id: UUID) -> Optional[Task]:
    row = await context.loaders.tasks.load(task_id)
    return Task.from_row(row) if row else None


@strawberry.type
class TaskMutations:
    @strawberry.mutation
    async def post_task(self, info: strawberry.Info, input: PostTaskInput) -> PostTaskPayload:
        context = ctx(info)

        def command():
            requester_id = require_requester(context.need_viewer())
            return context.marketplace.post_task(requester_id, spec_of(input),
                                                 input.idempotency_key)

        outcome = await execute(context, "postTask", command)
        if not outcome.ok:
            return PostTaskPayload(user_errors=outcome.errors)
        return PostTaskPayload(task=await task_payload(context, outcome.value))

    @strawberry.mutation
    async def cancel_task(self, info: strawberry.Info,
                          input: CancelTaskInput) -> CancelTaskPayload:
        context = ctx(info)

        def command():
            requester_id = require_requester(context.need_viewer())
            task_id = decode_one(input.task_id, "Task", "taskId")
            context.marketplace.cancel_task(task_id, requester_id)
            return task_id

        outcome = await execute(context, "cancelTask", command)
        if not outcome.ok:
            return CancelTaskPayload(user_errors=outcome.errors)
        return CancelTaskPayload(task=await task_payload(context, outcome.value))
