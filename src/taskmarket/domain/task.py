"""A task: posted with a reward for N accepted submissions, claimed, worked, reviewed.

Slots: every one of the task's ``assignments`` is at any moment open, held by an active
claim, waiting for review, accepted, or (after cancellation) refunded. Methods that free a
slot of a cancelled task return how many slots' escrow goes back to the requester.

Long for a reason: the Task aggregate, its event classes and the value types its state
holds (statuses, Claim, Submission) stay in this one module, because stored events and
snapshots name them by ``taskmarket.domain.task:...`` (README "Events are forever").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from . import ids
from .errors import DomainError, ensure
from .fingerprint import fingerprint
from .money import Money, check_amount_fits
from .snapshot import StateSnapshot
from .values import (
    FEEDBACK_LENGTH, INSTRUCTIONS_LENGTH, TITLE_LENGTH, check_json, check_optional_text,
    check_text,
)
from .worker import normalize_skills

MAX_ASSIGNMENTS = 1000
MAX_CLAIM_TIMEOUT = 7 * 24 * 3600


class TaskStatus(str, enum.Enum):
    OPEN = "OPEN"
    FILLED = "FILLED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ClaimStatus(str, enum.Enum):
    ACTIVE = "ACTIVE"
    SUBMITTED = "SUBMITTED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


class SubmissionStatus(str, enum.Enum):
    PENDING_REVIEW = "PENDING_REVIEW"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    REVISION_REQUESTED = "REVISION_REQUESTED"


class ReviewDecision(str, enum.Enum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    REQUEST_REVISION = "REQUEST_REVISION"

    @classmethod
    def parse(cls, value: object) -> "ReviewDecision":
        try:
            return cls(value)
        except ValueError:
            raise DomainError("INVALID_INPUT", "decision is ACCEPT, REJECT or REQUEST_REVISION",
                              ["decision"]) from None


@dataclass
class Claim:
    id: UUID
    worker_id: UUID
    status: ClaimStatus
    claimed_at: datetime
    expires_at: datetime
    number: int = 0  # the n of ids.claim_id(task, n); 0 in snapshots before Task v2


@dataclass
class Submission:
    id: UUID
    claim_id: UUID
    worker_id: UUID
    result: Any
    status: SubmissionStatus
    submitted_at: datetime
    feedback: str | None = None
    number: int = 0  # the n of ids.submission_id(task, n); 0 before Task v2


def check_lease(claim: Claim, now: datetime | None) -> None:
    """A claim the worker may still act on: ACTIVE and within its lease.

    A lease that ran out is LEASE_EXPIRED whether or not its expiry was recorded yet
    (fencing before; the EXPIRED status after): the worker cares that time ran out.
    """
    expired = claim.status == ClaimStatus.EXPIRED or (
        claim.status == ClaimStatus.ACTIVE and now is not None and now >= claim.expires_at)
    ensure(not expired, "LEASE_EXPIRED", "the claim's lease has expired", ["claimId"])
    ensure(claim.status == ClaimStatus.ACTIVE, "CLAIM_NOT_ACTIVE",
           f"the claim is {claim.status.value}", ["claimId"])


def check_positive_int(value: Any, field: str, maximum: int) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value <= maximum
    ensure(ok, "INVALID_INPUT", f"{field} must be an integer from 1 to {maximum}", [field])


@dataclass(frozen=True)
class TaskSpec:
    """What a requester asks for when posting; validated before anything is written."""

    title: str
    instructions: str
    reward: Money
    assignments: int = 1
    payload: Any = None
    required_skills: tuple[str, ...] = ()
    claim_timeout_seconds: int = 3600
    auto_approve_after_seconds: int | None = None

    def validate(self) -> "TaskSpec":
        check_text(self.title, "title", TITLE_LENGTH)
        check_text(self.instructions, "instructions", INSTRUCTIONS_LENGTH, required=False,
                   strip=False)
        check_positive_int(self.assignments, "assignments", MAX_ASSIGNMENTS)
        self.check_reward()
        check_positive_int(self.claim_timeout_seconds, "claimTimeoutSeconds", MAX_CLAIM_TIMEOUT)
        if self.auto_approve_after_seconds is not None:
            check_positive_int(self.auto_approve_after_seconds, "autoApproveAfterSeconds",
                               30 * 24 * 3600)
        check_json(self.payload, "payload")
        normalize_skills(list(self.required_skills), "requiredSkills")
        return self

    def check_reward(self) -> None:
        # A spec can carry a Money built without Money.of; a negative or zero reward would
        # make posting credit the requester instead of reserving escrow.
        ensure(isinstance(self.reward, Money), "INVALID_INPUT", "reward must be money",
               ["reward"])
        checked = Money.of(self.reward.amount, self.reward.currency, "reward")
        ensure(checked == self.reward, "INVALID_INPUT",
               "currency must be an upper-case ISO 4217 code", ["currency"])
        check_amount_fits(checked.amount * self.assignments, "reward",
                          "reward × assignments (the task's escrow)")

    def fingerprint(self) -> str:
        return fingerprint(
            title=self.title, instructions=self.instructions, payload=self.payload,
            reward=[self.reward.amount, self.reward.currency], assignments=self.assignments,
            skills=normalize_skills(list(self.required_skills)),
            timeout=self.claim_timeout_seconds, auto=self.auto_approve_after_seconds,
        )

    @property
    def escrow(self) -> Money:
        return self.reward.times(self.assignments)


def auto_approval_due_at(submitted_at: datetime, after_seconds: int | None) -> datetime | None:
    """When unreviewed work is approved on its own; None for a task that never does."""
    if after_seconds is None:
        return None
    return submitted_at + timedelta(seconds=after_seconds)


# One letter per claim or submission a task ever had, in the order they were made: what
# a closed one ended as, so a late command on it gets the same refusal as before.
CLAIM_MARKS = {ClaimStatus.ACTIVE: "A", ClaimStatus.SUBMITTED: "S",
               ClaimStatus.RELEASED: "R", ClaimStatus.EXPIRED: "E"}
SUBMISSION_MARKS = {SubmissionStatus.PENDING_REVIEW: "P", SubmissionStatus.ACCEPTED: "A",
                    SubmissionStatus.REJECTED: "R",
                    SubmissionStatus.REVISION_REQUESTED: "V"}
CLAIM_OF_MARK = {mark: status for status, mark in CLAIM_MARKS.items()}
SUBMISSION_OF_MARK = {mark: status for status, mark in SUBMISSION_MARKS.items()}


def _marked(marks: str, number: int, mark: str) -> str:
    return marks[:number - 1] + mark + marks[number:]


class Task(Aggregate):
    """State (version 3) keeps what the rules need, not the task's whole history:
    ``claims`` holds the ACTIVE claims and the SUBMITTED ones whose work waits for review,
    ``submissions`` the work waiting for review; closed ones leave only a letter in
    ``claim_marks`` / ``submission_marks`` (how they ended), and accepted work a count
    and its worker. The history is in the log and the read models. Older snapshots
    (every claim and submission kept) load through ``upcast_v1_v2`` and ``upcast_v2_v3``."""

    Snapshot = StateSnapshot  # claims and submissions are keyed by UUID
    # v2: tasks can be items of a batch (``batch_id``). v3: the state keeps what the rules
    # need (see the class docstring). Snapshots keep their version; the library runs
    # ``upcast_vN_vN+1`` on older ones as it loads them.
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict) -> None:
        state.setdefault("batch_id", None)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        claims = state["claims"]
        submissions = state["submissions"]
        for number, claim in enumerate(claims.values(), start=1):
            claim.number = number
        for number, submission in enumerate(submissions.values(), start=1):
            submission.number = number
        pending = {s.claim_id for s in submissions.values()
                   if s.status == SubmissionStatus.PENDING_REVIEW}
        accepted = [s for s in submissions.values() if s.status == SubmissionStatus.ACCEPTED]
        state["claim_marks"] = "".join(CLAIM_MARKS[c.status] for c in claims.values())
        state["submission_marks"] = "".join(
            SUBMISSION_MARKS[s.status] for s in submissions.values())
        state["claims"] = {claim_id: claim for claim_id, claim in claims.items()
                           if claim.status == ClaimStatus.ACTIVE
                           or (claim.status == ClaimStatus.SUBMITTED and claim_id in pending)}
        state["submissions"] = {submission_id: s for submission_id, s in submissions.items()
                                if s.status == SubmissionStatus.PENDING_REVIEW}
        state["accepted_count"] = len(accepted)
        state["accepted_workers"] = {s.worker_id for s in accepted}

    @staticmethod
    def create_id(task_id: UUID) -> UUID:
        return task_id

    @classmethod
    def post(cls, requester_id: UUID, spec: TaskSpec, now: datetime,
             task_id: UUID | None = None, batch_id: UUID | None = None,
             validated: bool = False) -> "Task":
        if not validated:
            spec.validate()
        extra = {"batch_id": batch_id} if batch_id is not None else {}
        return cls(
            task_id=task_id or uuid4(), requester_id=requester_id, title=spec.title.strip(),
            instructions=spec.instructions, payload=spec.payload,
            reward_amount=spec.reward.amount, currency=spec.reward.currency,
            assignments=spec.assignments,
            required_skills=normalize_skills(list(spec.required_skills)),
            claim_timeout_seconds=spec.claim_timeout_seconds,
            auto_approve_after_seconds=spec.auto_approve_after_seconds,
            posted_at=now, fingerprint=spec.fingerprint(), **extra,
        )

    @event("Posted")
    def __init__(self, task_id: UUID, requester_id: UUID, title: str, instructions: str, payload: Any,
                 reward_amount: int, currency: str, assignments: int,
                 required_skills: list[str], claim_timeout_seconds: int,
                 auto_approve_after_seconds: int | None, posted_at: datetime,
                 fingerprint: str, batch_id: UUID | None = None):
        self.requester_id = requester_id
        self.title = title
        self.instructions = instructions
        self.payload = payload
        self.reward = Money(reward_amount, currency)
        self.assignments = assignments
        self.required_skills = list(required_skills)
        self.claim_timeout_seconds = claim_timeout_seconds
        self.auto_approve_after_seconds = auto_approve_after_seconds
        self.posted_at = posted_at
        self.fingerprint = fingerprint
        self.batch_id = batch_id  # the Batch this task is an item of (domain/batch.py)
        self.claims: dict[UUID, Claim] = {}
        self.submissions: dict[UUID, Submission] = {}
        self.claim_marks = ""
        self.submission_marks = ""
        self.accepted_count = 0
        self.accepted_workers: set[UUID] = set()
        self.cancelled = False
        self.refunded_slots = 0

    # --- derived state --------------------------------------------------------------
    def count_claims(self, status: ClaimStatus) -> int:
        return sum(1 for claim in self.claims.values() if claim.status == status)

    def count_submissions(self, status: SubmissionStatus) -> int:
        return sum(1 for s in self.submissions.values() if s.status == status)

    @property
    def accepted(self) -> int:
        return self.accepted_count

    @property
    def open_slots(self) -> int:
        held = (self.count_claims(ClaimStatus.ACTIVE)
                + self.count_submissions(SubmissionStatus.PENDING_REVIEW) + self.accepted)
        if self.cancelled:
            return 0
        return self.assignments - held - self.refunded_slots

    @property
    def status(self) -> TaskStatus:
        if self.accepted >= self.assignments:
            return TaskStatus.COMPLETED
        if self.cancelled:
            return TaskStatus.CANCELLED
        if self.open_slots == 0:
            return TaskStatus.FILLED
        return TaskStatus.OPEN

    def get_claim(self, claim_id: UUID) -> Claim:
        """An open claim (ACTIVE, or SUBMITTED with its work under review). A closed one
        is refused as before: LEASE_EXPIRED when it expired, else CLAIM_NOT_ACTIVE."""
        claim = self.claims.get(claim_id)
        if claim is not None:
            return claim
        status = self.claim_status(claim_id)
        if status is None:
            raise DomainError("NOT_FOUND", "no such claim", ["claimId"])
        ensure(status != ClaimStatus.EXPIRED, "LEASE_EXPIRED", "the claim's lease has expired",
               ["claimId"])
        raise DomainError("CLAIM_NOT_ACTIVE", f"the claim is {status.value}", ["claimId"])

    def get_submission(self, submission_id: UUID) -> Submission:
        """Work waiting for review; reviewed work is ALREADY_REVIEWED."""
        submission = self.submissions.get(submission_id)
        if submission is not None:
            return submission
        status = self.submission_status(submission_id)
        if status is None:
            raise DomainError("NOT_FOUND", "no such submission", ["submissionId"])
        raise DomainError("ALREADY_REVIEWED", f"the submission is {status.value}",
                          ["submissionId"])

    def claim_status(self, claim_id: UUID) -> ClaimStatus | None:
        """What became of any claim this task ever had (None: not one of its claims)."""
        claim = self.claims.get(claim_id)
        if claim is not None:
            return claim.status
        for number, mark in enumerate(self.claim_marks, start=1):
            if ids.claim_id(self.id, number) == claim_id:
                return CLAIM_OF_MARK[mark]
        return None

    def submission_status(self, submission_id: UUID) -> SubmissionStatus | None:
        """What became of any submission this task ever had (None: not one of its)."""
        submission = self.submissions.get(submission_id)
        if submission is not None:
            return submission.status
        for number, mark in enumerate(self.submission_marks, start=1):
            if ids.submission_id(self.id, number) == submission_id:
                return SUBMISSION_OF_MARK[mark]
        return None

    def active_claim_of(self, worker_id: UUID) -> Claim | None:
        for claim in self.claims.values():
            if claim.worker_id == worker_id and claim.status == ClaimStatus.ACTIVE:
                return claim
        return None

    # --- claiming -------------------------------------------------------------------
    def claim(self, worker_id: UUID, worker_skills: list[str], now: datetime) -> UUID:
        """Take one open slot for ``worker_id``; returns the new claim's id."""
        ensure(self.status in (TaskStatus.OPEN, TaskStatus.FILLED), "TASK_NOT_OPEN",
               f"the task is {self.status.value}", ["taskId"])
        ensure(set(self.required_skills) <= set(worker_skills), "NOT_QUALIFIED",
               "the worker lacks a skill this task requires", ["taskId"])
        ensure(self.active_claim_of(worker_id) is None, "ALREADY_CLAIMED",
               "the worker already holds a claim on this task", ["taskId"])
        ensure(worker_id not in self.accepted_workers
               and not any(s.worker_id == worker_id for s in self.submissions.values()),
               "ALREADY_CLAIMED", "the worker already submitted work for this task", ["taskId"])
        ensure(self.open_slots > 0, "NO_OPEN_SLOTS", "every slot of this task is taken",
               ["taskId"])
        claim_id = ids.claim_id(self.id, len(self.claim_marks) + 1)
        expires_at = self.lease_end(now)
        self._claimed(claim_id=claim_id, worker_id=worker_id, claimed_at=now,
                      expires_at=expires_at)
        return claim_id

    @event("Claimed")
    def _claimed(self, claim_id: UUID, worker_id: UUID, claimed_at: datetime,
                 expires_at: datetime) -> None:
        self.claim_marks += CLAIM_MARKS[ClaimStatus.ACTIVE]
        self.claims[claim_id] = Claim(claim_id, worker_id, ClaimStatus.ACTIVE, claimed_at,
                                      expires_at, len(self.claim_marks))

    def _close_claim(self, claim_id: UUID, status: ClaimStatus) -> None:
        claim = self.claims.pop(claim_id)
        self.claim_marks = _marked(self.claim_marks, claim.number, CLAIM_MARKS[status])

    def _close_submission(self, submission_id: UUID, status: SubmissionStatus) -> Submission:
        submission = self.submissions.pop(submission_id)
        self.submission_marks = _marked(self.submission_marks, submission.number,
                                        SUBMISSION_MARKS[status])
        return submission

    def release(self, claim_id: UUID, worker_id: UUID, now: datetime | None = None) -> int:
        """The worker gives its claim back. Returns slots to refund (cancelled task)."""
        claim = self.get_claim(claim_id)
        ensure(claim.worker_id == worker_id, "FORBIDDEN", "this is not your claim", ["claimId"])
        check_lease(claim, now)
        refund = 1 if self.cancelled else 0
        self._claim_released(claim_id=claim_id, refunded_slots=refund)
        return refund

    @event("ClaimReleased")
    def _claim_released(self, claim_id: UUID, refunded_slots: int) -> None:
        self._close_claim(claim_id, ClaimStatus.RELEASED)
        self.refunded_slots += refunded_slots

    def expire(self, claim_id: UUID, now: datetime) -> int | None:
        """Expire a lease that ran out. None when there is nothing to expire (idempotent)."""
        claim = self.claims.get(claim_id)
        if claim is None:
            if self.claim_status(claim_id) is None:
                raise DomainError("NOT_FOUND", "no such claim", ["claimId"])
            return None
        if claim.status != ClaimStatus.ACTIVE or now < claim.expires_at:
            return None
        refund = 1 if self.cancelled else 0
        self._claim_expired(claim_id=claim_id, refunded_slots=refund)
        return refund

    @event("ClaimExpired")
    def _claim_expired(self, claim_id: UUID, refunded_slots: int) -> None:
        self._close_claim(claim_id, ClaimStatus.EXPIRED)
        self.refunded_slots += refunded_slots

    def expired_claims(self, now: datetime) -> list[UUID]:
        return [c.id for c in self.claims.values()
                if c.status == ClaimStatus.ACTIVE and now >= c.expires_at]

    def add_slot(self) -> None:
        """One more slot (a batch's gold item met by one more worker): its escrow is
        reserved by the caller in the same save."""
        ensure(self.status in (TaskStatus.OPEN, TaskStatus.FILLED), "TASK_NOT_OPEN",
               f"the task is {self.status.value}", ["taskId"])
        ensure(self.assignments < MAX_ASSIGNMENTS, "NO_OPEN_SLOTS",
               "every slot of this task is taken", ["taskId"])
        self._slot_added()

    @event("SlotAdded")
    def _slot_added(self) -> None:
        self.assignments += 1

    # --- submitting -----------------------------------------------------------------
    def submit(self, claim_id: UUID, worker_id: UUID, result: Any, now: datetime) -> UUID:
        claim = self.get_claim(claim_id)
        ensure(claim.worker_id == worker_id, "FORBIDDEN", "this is not your claim", ["claimId"])
        check_lease(claim, now)
        ensure(result is not None, "INVALID_INPUT", "result is required", ["result"])
        check_json(result, "result")
        submission_id = ids.submission_id(self.id, len(self.submission_marks) + 1)
        self._work_submitted(submission_id=submission_id, claim_id=claim_id,
                             worker_id=worker_id, result=result, submitted_at=now)
        return submission_id

    @event("WorkSubmitted")
    def _work_submitted(self, submission_id: UUID, claim_id: UUID, worker_id: UUID,
                        result: Any, submitted_at: datetime) -> None:
        claim = self.claims[claim_id]
        claim.status = ClaimStatus.SUBMITTED
        self.claim_marks = _marked(self.claim_marks, claim.number,
                                   CLAIM_MARKS[ClaimStatus.SUBMITTED])
        self.submission_marks += SUBMISSION_MARKS[SubmissionStatus.PENDING_REVIEW]
        self.submissions[submission_id] = Submission(
            submission_id, claim_id, worker_id, result, SubmissionStatus.PENDING_REVIEW,
            submitted_at, None, len(self.submission_marks))

    # --- reviewing ------------------------------------------------------------------
    def check_reviewable(self, submission_id: UUID, requester_id: UUID) -> Submission:
        ensure(requester_id == self.requester_id, "FORBIDDEN",
               "only the task's requester reviews its submissions", ["submissionId"])
        submission = self.get_submission(submission_id)
        ensure(submission.status == SubmissionStatus.PENDING_REVIEW, "ALREADY_REVIEWED",
               f"the submission is {submission.status.value}", ["submissionId"])
        return submission

    def review(self, submission_id: UUID, requester_id: UUID, decision: ReviewDecision,
               feedback: str | None, now: datetime) -> int:
        """Record a review. Returns slots to refund (a rejection on a cancelled task)."""
        submission = self.check_reviewable(submission_id, requester_id)
        decision = ReviewDecision.parse(decision)
        feedback = check_optional_text(feedback, "feedback", FEEDBACK_LENGTH)
        if decision == ReviewDecision.ACCEPT:
            self._accept(submission_id, feedback, automatic=False)
            return 0
        if decision == ReviewDecision.REJECT:
            refund = 1 if self.cancelled else 0
            self._rejected(submission_id=submission_id, feedback=feedback,
                           refunded_slots=refund)
            return refund
        ensure(not self.cancelled, "TASK_NOT_OPEN", "a cancelled task takes no revisions",
               ["decision"])
        expires_at = self.lease_end(now)
        self._revision_requested(submission_id=submission_id, claim_id=submission.claim_id,
                                 feedback=feedback, expires_at=expires_at)
        return 0

    def auto_approve(self, submission_id: UUID, now: datetime) -> bool:
        """Accept work its requester left unreviewed past the task's delay."""
        submission = self.submissions.get(submission_id)
        if (self.auto_approve_after_seconds is None or submission is None
                or submission.status != SubmissionStatus.PENDING_REVIEW):
            return False
        if now < self.auto_approval_due(submission_id):
            return False
        self._accept(submission_id, None, automatic=True)
        return True

    def auto_approval_due(self, submission_id: UUID) -> datetime | None:
        """When this submission is approved unless reviewed first (None: never)."""
        submission = self.submissions.get(submission_id)
        if submission is None:
            return None
        return auto_approval_due_at(submission.submitted_at, self.auto_approve_after_seconds)

    def lease_end(self, now: datetime) -> datetime:
        """When a lease taken or renewed at ``now`` runs out."""
        return now + timedelta(seconds=self.claim_timeout_seconds)

    def _accept(self, submission_id: UUID, feedback: str | None, automatic: bool) -> None:
        self._accepted(submission_id=submission_id, feedback=feedback, automatic=automatic)
        if self.accepted == self.assignments:
            self._completed()

    @event("SubmissionAccepted")
    def _accepted(self, submission_id: UUID, feedback: str | None, automatic: bool) -> None:
        submission = self._close_submission(submission_id, SubmissionStatus.ACCEPTED)
        self.claims.pop(submission.claim_id, None)  # stays SUBMITTED in claim_marks
        self.accepted_count += 1
        self.accepted_workers.add(submission.worker_id)

    @event("Completed")
    def _completed(self) -> None:
        pass

    @event("SubmissionRejected")
    def _rejected(self, submission_id: UUID, feedback: str | None, refunded_slots: int) -> None:
        submission = self._close_submission(submission_id, SubmissionStatus.REJECTED)
        self.claims.pop(submission.claim_id, None)
        self.refunded_slots += refunded_slots

    @event("RevisionRequested")
    def _revision_requested(self, submission_id: UUID, claim_id: UUID, feedback: str | None,
                            expires_at: datetime) -> None:
        self._close_submission(submission_id, SubmissionStatus.REVISION_REQUESTED)
        claim = self.claims[claim_id]
        claim.status = ClaimStatus.ACTIVE
        claim.expires_at = expires_at
        self.claim_marks = _marked(self.claim_marks, claim.number,
                                   CLAIM_MARKS[ClaimStatus.ACTIVE])

    # --- cancelling -----------------------------------------------------------------
    def cancel(self, requester_id: UUID) -> int:
        """Cancel the task. Returns the open slots whose escrow goes back now."""
        ensure(requester_id == self.requester_id, "FORBIDDEN",
               "only the task's requester cancels it", ["taskId"])
        ensure(self.status in (TaskStatus.OPEN, TaskStatus.FILLED), "TASK_NOT_OPEN",
               f"the task is {self.status.value}", ["taskId"])
        refund = self.open_slots
        self._cancelled(refunded_slots=refund)
        return refund

    @event("Cancelled")
    def _cancelled(self, refunded_slots: int) -> None:
        self.cancelled = True
        self.refunded_slots += refunded_slots
