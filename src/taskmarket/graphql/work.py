"""A worker's mutations: claim, release, submit, claim the next fitting task."""

from __future__ import annotations

from typing import Optional
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from ..domain import DomainError
from ..global_ids import decode_id, decode_one
from .auth import WORKER
from .errors import UserError
from .mutation import Caller, Done, run_mutation, written_or_read
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


async def claim_shown(done: Done[tuple[UUID, UUID] | UUID]) -> Optional[Claim]:
    """The claim as the command saved it when it can (the value is the task's and the
    claim's ids); else from the read model (which waits for the command's position)."""
    if done.value is None:  # claimNextTask found no task that fits
        return None
    task_id, claim_id = done.value if isinstance(done.value, tuple) else (None, done.value)
    row = claim_row(done.saved, task_id, claim_id) if task_id is not None else None
    if row is None:
        row = await done.context.loaders.claims.load(claim_id)
    return Claim.from_row(row) if row else None


submission_shown = written_or_read(
    Submission, "submissions", lambda done: submission_row(done.saved, *done.value), 1)


@strawberry.type
class WorkMutations:
    @strawberry.mutation
    async def claim_task(self, info: strawberry.Info, input: ClaimTaskInput) -> ClaimTaskPayload:
        def command(caller: Caller) -> tuple[UUID, UUID]:
            task_id = decode_one(input.task_id, "Task", "taskId")
            return task_id, caller.marketplace.claim_task(task_id, caller.subject_id)

        return await run_mutation(info, "claimTask", command, ClaimTaskPayload,
                                  roles=WORKER, claim=claim_shown)

    @strawberry.mutation
    async def release_claim(self, info: strawberry.Info,
                            input: ReleaseClaimInput) -> ReleaseClaimPayload:
        def command(caller: Caller) -> UUID:
            task_id, claim_id = decode_id(input.claim_id, "Claim", "claimId")
            caller.marketplace.release_claim(task_id, claim_id, caller.subject_id)
            return claim_id

        return await run_mutation(info, "releaseClaim", command, ReleaseClaimPayload,
                                  roles=WORKER, claim=claim_shown)

    @strawberry.mutation
    async def submit_work(self, info: strawberry.Info,
                          input: SubmitWorkInput) -> SubmitWorkPayload:
        def command(caller: Caller) -> tuple[UUID, UUID]:
            task_id, claim_id = decode_id(input.claim_id, "Claim", "claimId")
            return task_id, caller.marketplace.submit_work(task_id, claim_id,
                                                           caller.subject_id, input.result)

        return await run_mutation(info, "submitWork", command, SubmitWorkPayload,
                                  roles=WORKER, submission=submission_shown)

    @strawberry.mutation
    async def claim_next_task(self, info: strawberry.Info,
                              input: ClaimNextTaskInput) -> ClaimNextTaskPayload:
        def command(caller: Caller) -> tuple[UUID, UUID] | None:
            claim_next = getattr(caller.marketplace, "claim_next_task", None)
            if claim_next is None:
                raise DomainError("NOT_IMPLEMENTED", "claimNextTask is not available yet")
            return claim_next(caller.subject_id, input.skill)

        return await run_mutation(info, "claimNextTask", command, ClaimNextTaskPayload,
                                  roles=WORKER, claim=claim_shown)
