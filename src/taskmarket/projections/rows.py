"""Rows of the read models as the API sees them: frozen, snake_case mirrors of the contract.

Rows returned by list queries carry ``cursor``: an opaque keyset cursor to pass back as
``after``. Rows from batch lookups carry one too, so any row can start a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class RequesterRow:
    id: UUID
    name: str
    currency: str | None
    balance: int
    escrow: int
    spent: int
    deposited: int
    created_at: datetime
    cursor: str = ""


@dataclass(frozen=True)
class ApiKeyRow:
    id: UUID
    name: str
    role: str
    subject_id: UUID | None
    created_at: datetime
    revoked_at: datetime | None
    cursor: str = ""


@dataclass(frozen=True)
class WorkerRow:
    id: UUID
    name: str
    skills: list[str]
    stripe_account_id: str | None
    created_at: datetime
    payout_account_status: str | None = None
    requirements_due: list[str] = field(default_factory=list)
    cursor: str = ""


@dataclass(frozen=True)
class TaskRow:
    id: UUID
    requester_id: UUID
    title: str
    instructions: str
    payload: Any
    reward_amount: int
    currency: str
    assignments: int
    required_skills: list[str]
    claim_timeout_seconds: int
    auto_approve_after_seconds: int | None
    status: str
    open_slots: int
    active_claims: int
    pending_review: int
    accepted: int
    created_at: datetime
    batch_id: UUID | None = None
    cursor: str = ""


@dataclass(frozen=True)
class ClaimRow:
    id: UUID
    task_id: UUID
    worker_id: UUID
    requester_id: UUID
    status: str
    claimed_at: datetime
    expires_at: datetime
    cursor: str = ""


@dataclass(frozen=True)
class SubmissionRow:
    id: UUID
    task_id: UUID
    claim_id: UUID
    worker_id: UUID
    requester_id: UUID
    result: Any
    status: str
    feedback: str | None
    automatic: bool
    submitted_at: datetime
    reviewed_at: datetime | None
    cursor: str = ""


@dataclass(frozen=True)
class PayoutRow:
    id: UUID
    worker_id: UUID
    requester_id: UUID
    task_id: UUID | None
    submission_id: UUID | None
    kind: str
    amount: int
    currency: str
    status: str
    stripe_transfer_id: str | None
    attempts: int
    retries: int
    failure_reason: str | None
    retryable: bool | None
    reversed_amount: int
    requested_at: datetime
    paid_at: datetime | None
    reason: str | None = None
    cursor: str = ""


@dataclass(frozen=True)
class EventRow:
    """One event of the global log. ``position`` is gap-free (1, 2, 3...) and is the
    cursor of ``events(after=...)``; ``notification_id`` is the event store's own id,
    the unit of projection positions and ``wait_for``."""

    position: int
    type: str
    aggregate_id: UUID
    aggregate_kind: str
    aggregate_version: int
    occurred_at: datetime
    requester_id: UUID | None
    data: dict[str, Any]
    notification_id: int = 0
    cursor: str = ""


@dataclass(frozen=True)
class LedgerEntryRow:
    """``position`` is the event store's notification id of the booking event (the unit
    of projection positions); ``log_position`` its gap-free Event.position."""

    position: int
    seq: int
    account: str
    currency: str
    amount: int
    event_type: str
    occurred_at: datetime
    cursor: str = ""
    log_position: int | None = None


@dataclass(frozen=True)
class WorkerStatsRow:
    worker_id: UUID
    submitted: int
    accepted: int
    rejected: int
    revisions_requested: int
    earned: dict[str, int] = field(default_factory=dict)
    paid: dict[str, int] = field(default_factory=dict)
    cursor: str = ""


@dataclass(frozen=True)
class WebhookEndpointRow:
    id: UUID
    requester_id: UUID
    url: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    audience: str
    created_at: datetime
    version: int
    cursor: str = ""
