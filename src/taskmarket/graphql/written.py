"""Payload rows built from what a command saved, so a mutation answers without waiting
for a projection. They carry the same values the projections would write for the same
events (tests/e2e/test_read_your_writes.py compares the two)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..projections import cursors
from ..projections.rows import ClaimRow, PayoutRow, SubmissionRow, TaskRow


def _value(status: Any) -> str:
    return getattr(status, "value", status)


def claim_row(saved: dict[UUID, Any], task_id: UUID, claim_id: UUID) -> ClaimRow | None:
    """The claim as the saved task holds it; None when the task was not saved or no
    longer holds the claim (the caller then reads the read model)."""
    task = saved.get(task_id)
    claim = getattr(task, "claims", {}).get(claim_id) if task is not None else None
    if claim is None:
        return None
    return ClaimRow(id=claim.id, task_id=task.id, worker_id=claim.worker_id,
                    requester_id=task.requester_id, status=_value(claim.status),
                    claimed_at=claim.claimed_at, expires_at=claim.expires_at)


def submission_row(saved: dict[UUID, Any], task_id: UUID,
                   submission_id: UUID) -> SubmissionRow | None:
    task = saved.get(task_id)
    submission = (getattr(task, "submissions", {}).get(submission_id)
                  if task is not None else None)
    if submission is None:
        return None
    return SubmissionRow(
        id=submission.id, task_id=task.id, claim_id=submission.claim_id,
        worker_id=submission.worker_id, requester_id=task.requester_id,
        result=submission.result, status=_value(submission.status),
        feedback=submission.feedback, automatic=False, submitted_at=submission.submitted_at,
        reviewed_at=None)


def task_row(saved: dict[UUID, Any], task_id: UUID) -> TaskRow | None:
    """The task as the saved aggregate holds it (its counts and status derived as the
    tasks projection derives them); None when the command did not save it (an
    idempotent repeat of a post), and the caller reads the read model."""
    task = saved.get(task_id)
    if task is None or not hasattr(task, "open_slots"):
        return None
    active = sum(1 for claim in task.claims.values() if _value(claim.status) == "ACTIVE")
    pending = sum(1 for each in task.submissions.values()
                  if _value(each.status) == "PENDING_REVIEW")
    return TaskRow(
        id=task.id, requester_id=task.requester_id, title=task.title,
        instructions=task.instructions, payload=task.payload,
        reward_amount=task.reward.amount, currency=task.reward.currency,
        assignments=task.assignments, required_skills=list(task.required_skills),
        claim_timeout_seconds=task.claim_timeout_seconds,
        auto_approve_after_seconds=task.auto_approve_after_seconds,
        status=_value(task.status), open_slots=task.open_slots, active_claims=active,
        pending_review=pending, accepted=task.accepted, created_at=task.posted_at,
        batch_id=task.batch_id, cursor=cursors.encode(task.posted_at, task.id))


REVIEWED_STATUS = {"ACCEPT": "ACCEPTED", "REJECT": "REJECTED"}


def reviewed_submission_row(saved: dict[UUID, Any], task_id: UUID, before: Any,
                            decision: str, feedback: str | None) -> SubmissionRow | None:
    """A submission the command accepted or rejected: what never changes after it was
    sent (``before``, the task's copy read before the review: a task lets go of reviewed
    work), the decision, and the time of the review (the saved task's last event). None
    for a revision request or when the task was not saved."""
    task = saved.get(task_id)
    status = REVIEWED_STATUS.get(decision)
    if task is None or before is None or status is None:
        return None
    return SubmissionRow(
        id=before.id, task_id=task.id, claim_id=before.claim_id, worker_id=before.worker_id,
        requester_id=task.requester_id, result=before.result, status=status,
        feedback=feedback, automatic=False, submitted_at=before.submitted_at,
        reviewed_at=task.modified_on)


def requested_payout_row(saved: dict[UUID, Any], payout_id: UUID | None) -> PayoutRow | None:
    """A payout the command requested, as the saved aggregate holds it; None when it was
    not saved here or has moved on (the read model then shows it)."""
    payout = saved.get(payout_id) if payout_id is not None else None
    if payout is None or _value(getattr(payout, "status", None)) != "REQUESTED":
        return None
    return PayoutRow(
        id=payout.id, worker_id=payout.worker_id, requester_id=payout.requester_id,
        task_id=payout.task_id, submission_id=payout.submission_id, kind=payout.kind,
        amount=payout.amount, currency=payout.currency, status="REQUESTED",
        stripe_transfer_id=None, attempts=0, retries=0, failure_reason=None, retryable=None,
        reversed_amount=0, requested_at=payout.requested_at, paid_at=None,
        reason=payout.reason, cursor=cursors.encode(payout.requested_at, payout.id))
