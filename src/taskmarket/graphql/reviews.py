"""A requester reviews a submission; an ACCEPT requests the worker's payout."""

from __future__ import annotations

from typing import Optional

import strawberry

from .auth import require_requester
from .commands import execute
from .context import ctx
from .errors import UserError
from ..global_ids import decode_id
from .types import Payout, ReviewDecision, Submission


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
        context = ctx(info)

        def command():
            requester_id = require_requester(context.need_viewer())
            task_id, submission_id = decode_id(input.submission_id, "Submission",
                                               "submissionId")
            payout_id = context.marketplace.review_submission(
                task_id, submission_id, requester_id, input.decision.value, input.feedback)
            return submission_id, payout_id

        outcome = await execute(context, "reviewSubmission", command)
        if not outcome.ok:
            return ReviewSubmissionPayload(user_errors=outcome.errors)
        submission_id, payout_id = outcome.value
        submission = await context.loaders.submissions.load(submission_id)
        payout = await context.loaders.payouts.load(payout_id) if payout_id else None
        return ReviewSubmissionPayload(
            submission=Submission.from_row(submission) if submission else None,
            payout=Payout.from_row(payout) if payout else None)
