"""A requester's task mutations: post and cancel."""

from __future__ import annotations

from typing import Optional
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from ..domain import Money
from ..domain.task import TaskSpec
from ..global_ids import decode_one
from .auth import REQUESTER
from .errors import UserError
from .mutation import Caller, run_mutation, written_or_read
from .types import MoneyInput, Task
from .written import task_row


# The task as the command saved it; else (a repeated post saved nothing) the read model's.
task_shown = written_or_read(Task, "tasks", lambda done: task_row(done.saved, done.value))


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


@strawberry.type
class TaskMutations:
    @strawberry.mutation
    async def post_task(self, info: strawberry.Info, input: PostTaskInput) -> PostTaskPayload:
        def command(caller: Caller) -> UUID:
            return caller.marketplace.post_task(caller.subject_id, spec_of(input),
                                                input.idempotency_key)

        return await run_mutation(info, "postTask", command, PostTaskPayload,
                                  roles=REQUESTER, task=task_shown)

    @strawberry.mutation
    async def cancel_task(self, info: strawberry.Info,
                          input: CancelTaskInput) -> CancelTaskPayload:
        def command(caller: Caller) -> UUID:
            task_id = decode_one(input.task_id, "Task", "taskId")
            caller.marketplace.cancel_task(task_id, caller.subject_id)
            return task_id

        return await run_mutation(info, "cancelTask", command, CancelTaskPayload,
                                  roles=REQUESTER, task=task_shown)
