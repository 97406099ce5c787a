"""Payload rows built from what a command saved, so a mutation answers without waiting
for a projection. They carry the same values the projections would write for the same
events (tests/e2e/test_read_your_writes.py compares the two)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..projections.rows import ClaimRow, SubmissionRow


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
