"""Payout.trace: why a payout was paid, and from which money (FINANCE and ADMIN)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import strawberry

from .context import ctx
from .types import Event, Requester, Submission, Task, forbidden_field


@strawberry.type(description="Where a payout's money came from and why it was paid.")
class PayoutTrace:
    submission: Optional[Submission]
    reviewed_by: Optional[Requester] = strawberry.field(
        description="The requester whose review accepted the submission; null for "
        "auto-approval and bonuses.")
    reviewed_at: Optional[datetime] = strawberry.field(
        description="When the submission was accepted (by its requester or automatically).")
    auto_approved: bool
    task: Optional[Task]
    funding: list[Event] = strawberry.field(
        description="The events that funded it: the escrow reservation (or the bonus) and "
        "the deposits it drew on, first in first out.")
    stripe_transfer_id: Optional[str]


async def trace_of(info: strawberry.Info, payout: Any) -> PayoutTrace:
    context = ctx(info)
    if not context.need_viewer().sees_everything:
        raise forbidden_field("a payout's trace (FINANCE and ADMIN)")
    submission = task = None
    if payout.submission_id is not None:
        submission = await context.loaders.submissions.load(payout.submission_id)
    if payout.task_id is not None:
        task = await context.loaders.tasks.load(payout.task_id)
    automatic = bool(submission and submission.automatic)
    reviewer = None
    # A bonus may name a submission too; it was not paid for a review.
    if payout.kind == "submission" and submission is not None and not automatic:
        reviewer = await context.loaders.requesters.load(payout.requester_id)
    funding = await context.call(context.reads.payout_funding, payout)
    return PayoutTrace(
        submission=Submission.from_row(submission) if submission else None,
        reviewed_by=Requester.from_row(reviewer) if reviewer else None,
        reviewed_at=submission.reviewed_at if submission else None,
        auto_approved=automatic, task=Task.from_row(task) if task else None,
        funding=[Event.from_row(row) for row in funding],
        stripe_transfer_id=payout.stripe_transfer_id)
