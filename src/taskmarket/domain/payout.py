"""A payout moves money owed to a worker out through a Stripe transfer, exactly once."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .errors import ensure
from .values import check_text, clean_text

FAILURE_REASON_LENGTH = 1000


MAX_REASON_LENGTH = 500


def bonus_reason(text: object) -> str:
    """A bonus's reason: required, one short text."""
    ensure(isinstance(text, str) and bool(text.strip()), "INVALID_INPUT",
           "a bonus needs a reason", ["reason"])
    return check_text(text, "reason", MAX_REASON_LENGTH)


class PayoutStatus(str, enum.Enum):
    REQUESTED = "REQUESTED"
    PAID = "PAID"
    FAILED = "FAILED"


class Payout(Aggregate):
    """Its id is derived from what it pays for, so one submission can never be paid twice."""

    @staticmethod
    def create_id(payout_id: UUID) -> UUID:
        return payout_id

    @event("Requested")
    def __init__(self, payout_id: UUID, worker_id: UUID, requester_id: UUID, amount: int, currency: str,
                 task_id: UUID | None, submission_id: UUID | None, kind: str,
                 requested_at: datetime, reason: str | None = None):
        self.worker_id = worker_id
        self.requester_id = requester_id
        self.amount = amount
        self.currency = currency
        self.task_id = task_id
        self.submission_id = submission_id
        self.kind = kind
        self.reason = reason  # a bonus's reason, as the requester gave it
        self.requested_at = requested_at
        self.status = PayoutStatus.REQUESTED
        self.attempts = 0
        self.transfer_id: str | None = None
        self.failure_reason: str | None = None
        self.retryable: bool | None = None
        self.paid_at: datetime | None = None
        self.reversed = False

    @property
    def idempotency_key(self) -> str:
        """The key Stripe sees; a new one per finance-initiated retry after a permanent failure."""
        return f"payout-{self.id}-{self.retries}"

    @property
    def retries(self) -> int:
        return getattr(self, "_retries", 0)

    def record_paid(self, transfer_id: str, now: datetime) -> bool:
        """Record the transfer that paid this payout. False when already recorded."""
        if self.status == PayoutStatus.PAID:
            ensure(transfer_id == self.transfer_id, "ALREADY_PAID",
                   f"the payout was paid by {self.transfer_id}")
            return False
        self._paid(transfer_id=transfer_id, paid_at=now, attempt=self.attempts + 1)
        return True

    @event("Paid")
    def _paid(self, transfer_id: str, paid_at: datetime, attempt: int) -> None:
        self.status = PayoutStatus.PAID
        self.transfer_id = transfer_id
        self.paid_at = paid_at
        self.attempts = attempt
        self.failure_reason = None

    def record_failure(self, reason: str, retryable: bool) -> None:
        ensure(self.status != PayoutStatus.PAID, "ALREADY_PAID", "the payout was paid")
        self._failed(reason=clean_text(str(reason), FAILURE_REASON_LENGTH), retryable=retryable,
                     attempt=self.attempts + 1)

    @event("Failed")
    def _failed(self, reason: str, retryable: bool, attempt: int) -> None:
        self.attempts = attempt
        self.failure_reason = reason
        self.retryable = retryable
        if not retryable:
            self.status = PayoutStatus.FAILED

    def retry(self) -> None:
        """Finance asks to try a failed payout again (e.g. after the account was fixed)."""
        ensure(self.status == PayoutStatus.FAILED, "PAYOUT_NOT_FAILED",
               f"the payout is {self.status.value}", ["payoutId"])
        self._retried(retries=self.retries + 1)

    @event("Retried")
    def _retried(self, retries: int) -> None:
        self.status = PayoutStatus.REQUESTED
        self._retries = retries
        self.failure_reason = None
        self.retryable = None

    def record_reversal(self, transfer_id: str, amount: int) -> bool:
        if self.reversed or transfer_id != self.transfer_id:
            return False
        self._reversed(transfer_id=transfer_id, amount=amount)
        return True

    @event("TransferReversed")
    def _reversed(self, transfer_id: str, amount: int) -> None:
        self.reversed = True
