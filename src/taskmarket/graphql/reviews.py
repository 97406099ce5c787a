"""A requester reviews a submission; an ACCEPT requests the worker's payout."""

from __future__ import annotations

from typing import Optional
from uuid import UUID

import strawberry

from ..global_ids import decode_id
from .auth import REQUESTER
from .errors import UserError
from .mutation import Caller, read_node, run_mutation
from .payout_types import Payout
from .types import ReviewDecision, Submission


@strawberry.input
class ReviewSubmissionInput:
    submission_id: strawberry.ID
    decision: ReviewDecision
    feedback: Optional[str] = None


@strawberry.type
class ReviewSubmissionPayload:
    submission: Optional[Submission] = None
    payout: Optional[Payout] = strawberry.field(
        default=None, description="The payout that an ACCEPT requested.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReviewMutations:
    @strawberry.mutation
    async def review_submission(self, info: strawberry.Info,
                                input: ReviewSubmissionInput) -> ReviewSubmissionPayload:
        def command(caller: Caller) -> tuple[UUID, UUID | None]:
            task_id, submission_id = decode_id(input.submission_id, "Submission",
                                               "submissionId")
            payout_id = caller.marketplace.review_submission(
                task_id, submission_id, caller.subject_id, input.decision.value,
                input.feedback)
            return submission_id, payout_id

        return await run_mutation(info, "reviewSubmission", command, ReviewSubmissionPayload,
                                  roles=REQUESTER,
                                  submission=read_node(Submission, "submissions", 0),
                                  payout=read_node(Payout, "payouts", 1))
