"""A requester reviews a submission; an ACCEPT requests the worker's payout."""

from __future__ import annotations

from typing import Any, Optional
from uuid import UUID

import strawberry

from ..domain import DomainError
from ..global_ids import decode_id
from .auth import REQUESTER
from .errors import UserError
from .mutation import Caller, run_mutation, written_or_read
from .payout_types import Payout
from .types import ReviewDecision, Submission
from .written import requested_payout_row, reviewed_submission_row


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
            # What the payload shows of the submission besides the review never changes
            # once sent: read it here (the task lets go of it once reviewed), so the
            # payload needs no read model (one small load instead of waiting for the
            # projections).
            try:
                before[0] = caller.marketplace.get_task(task_id).submissions.get(
                    submission_id)
            except DomainError:  # the review says why (its own error, as before)
                before[0] = None
            payout_id = caller.marketplace.review_submission(
                task_id, submission_id, caller.subject_id, input.decision.value,
                input.feedback)
            return submission_id, payout_id

        before: list[Any] = [None]

        def reviewed(done: Any) -> Any:  # after the command: the id decoded cleanly
            task_id = decode_id(input.submission_id, "Submission", "submissionId")[0]
            return reviewed_submission_row(done.saved, task_id, before[0],
                                           input.decision.value, input.feedback)

        submission = written_or_read(Submission, "submissions", reviewed, 0)
        payout = written_or_read(Payout, "payouts", lambda done: (
            requested_payout_row(done.saved, done.value[1])), 1)

        return await run_mutation(info, "reviewSubmission", command, ReviewSubmissionPayload,
                                  roles=REQUESTER, submission=submission, payout=payout)
