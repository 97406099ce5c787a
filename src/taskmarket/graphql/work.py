"""A worker's mutations: claim, release, submit, claim the next fitting task."""

from __future__ import annotations

from typing import Optional
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from ..domain import DomainError
from .auth import require_worker
from .commands import execute
from .context import Context, ctx
from .errors import UserError
from ..global_ids import decode_id, decode_one
from .types import Claim, Submission
from .written import claim_row, submission_row


@strawberry.input
class ClaimTaskInput:
    task_id: strawberry.ID


@strawberry.type
class ClaimTaskPayload:
    claim: Optional[Claim] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReleaseClaimInput:
    claim_id: strawberry.ID


@strawberry.type
class ReleaseClaimPayload:
    claim: Optional[Claim] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SubmitWorkInput:
    claim_id: strawberry.ID
    result: JSON


@strawberry.type
class SubmitWorkPayload:
    submission: Optional[Submission] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ClaimNextTaskInput:
    skill: Optional[str] = strawberry.field(
        default=None, description="Only tasks that need this skill; any task the worker "
        "qualifies for when omitted.")


@strawberry.type
class ClaimNextTaskPayload:
    claim: Optional[Claim] = strawberry.field(
        default=None, description="Null with no userErrors when no open task fits.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def claim_payload(context: Context, claim_id: UUID, task_id: UUID | None = None,
                        saved: dict | None = None) -> Optional[Claim]:
    """The claim as the command saved it when it can; else from the read model (which
    waits for the command's position)."""
    row = claim_row(saved or {}, task_id, claim_id) if task_id is not None else None
    if row is None:
        row = await context.loaders.claims.load(claim_id)
    return Claim.from_row(row) if row else None


@strawberry.type
class WorkMutations:
    @strawberry.mutation
    async def claim_task(self, info: strawberry.Info, input: ClaimTaskInput) -> ClaimTaskPayload:
        context = ctx(info)

        def command():
            worker_id = require_worker(context.need_viewer())
            task_id = decode_one(input.task_id, "Task", "taskId")
            return task_id, context.marketplace.claim_task(task_id, worker_id)

        outcome = await execute(context, "claimTask", command)
        if not outcome.ok:
            return ClaimTaskPayload(user_errors=outcome.errors)
        task_id, claim_id = outcome.value
        return ClaimTaskPayload(claim=await claim_payload(context, claim_id, task_id,
                                                          outcome.saved))

    @strawberry.mutation
    async def release_claim(self, info: strawberry.Info,
                            input: ReleaseClaimInput) -> ReleaseClaimPayload:
        context = ctx(info)

        def command():
            worker_id = require_worker(context.need_viewer())
            task_id, claim_id = decode_id(input.claim_id, "Claim", "claimId")
            context.marketplace.release_claim(task_id, claim_id, worker_id)
            return claim_id

        outcome = await execute(context, "releaseClaim", command)
        if not outcome.ok:
            return ReleaseClaimPayload(user_errors=outcome.errors)
        return ReleaseClaimPayload(claim=await claim_payload(context, outcome.value))

    @strawberry.mutation
    async def submit_work(self, info: strawberry.Info,
                          input: SubmitWorkInput) -> SubmitWorkPayload:
        context = ctx(info)

        def command():
            worker_id = require_worker(context.need_viewer())
            task_id, claim_id = decode_id(input.claim_id, "Claim", "claimId")
            return task_id, context.marketplace.submit_work(task_id, claim_id, worker_id,
                                                            input.result)

        outcome = await execute(context, "submitWork", command)
        if not outcome.ok:
            return SubmitWorkPayload(user_errors=outcome.errors)
        task_id, submission_id = outcome.value
        row = submission_row(outcome.saved, task_id, submission_id)
        if row is None:
            row = await context.loaders.submissions.load(submission_id)
        return SubmitWorkPayload(submission=Submission.from_row(row) if row else None)

    @strawberry.mutation
    async def claim_next_task(self, info: strawberry.Info,
                              input: ClaimNextTaskInput) -> ClaimNextTaskPayload:
        context = ctx(info)

        def command():
            worker_id = require_worker(context.need_viewer())
            claim_next = getattr(context.marketplace, "claim_next_task", None)
            if claim_next is None:
                raise DomainError("NOT_IMPLEMENTED", "claimNextTask is not available yet")
            return claim_next(worker_id, input.skill)

        outcome = await execute(context, "claimNextTask", command)
        if not outcome.ok or outcome.value is None:
            return ClaimNextTaskPayload(user_errors=outcome.errors)
        task_id, claim_id = outcome.value
        return ClaimNextTaskPayload(claim=await claim_payload(context, claim_id, task_id,
                                                              outcome.saved))
