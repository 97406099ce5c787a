"""Dramatiq actors: small, idempotent, given IDs only.

``register_actors(broker, services)`` binds them to one broker (set up first) and to the
services they use, so a process can hold exactly the broker it was configured with.
Retries use Dramatiq's exponential backoff with jitter; a message that runs out of retries
is not lost work: the sweeper sends it again while the payout or lease is still owed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import dramatiq

from ..application import Marketplace
import stripe

from ..domain import DomainError, PayoutStatus
from ..domain.payout_account import PayoutAccountStatus, is_rejected, status_of
from .schedule import PAY, WorkStore
from .stripe_gateway import PAYOUT_ACCOUNT_NOT_READY, StripeGateway, TransferFailed, classify

log = logging.getLogger(__name__)

NO_PAYOUT_ACCOUNT = "NO_PAYOUT_ACCOUNT"
PAYOUT_ACCOUNT_NOT_FOUND = "PAYOUT_ACCOUNT_NOT_FOUND"
# Past this age an idempotency key may have expired at Stripe (they keep them >= 24 h),
# so the transfer group is searched before paying again.
LOOKUP_AFTER = timedelta(hours=12)
QUEUE = "taskmarket"


class RetryableFailure(Exception):
    """Raised to make Dramatiq retry the message with backoff."""


@dataclass
class Services:
    marketplace: Marketplace
    gateway: StripeGateway
    work: WorkStore


class PayoutWorker:
    """What paying one payout means; kept apart from Dramatiq for clarity and tests."""

    def __init__(self, services: Services):
        self.app = services.marketplace
        self.gateway = services.gateway
        self.work = services.work

    def pay(self, payout_id: UUID, worker_id: UUID | None = None) -> str:
        """Pay the payout once. Returns what happened (for logs and tests). ``worker_id``,
        the payout's worker as the message says, lets both load in one query."""
        payout, worker = self.app.get_payout_and_worker(payout_id, worker_id)
        if payout.status != PayoutStatus.REQUESTED:
            return payout.status.value
        account = worker.stripe_account_id
        if not account:
            # Waits for an account; the dispatcher sends it again when one is ENABLED.
            return self._wait(payout, NO_PAYOUT_ACCOUNT)
        try:
            if not worker.can_be_paid:
                # What we know may be stale: ask Stripe once before waiting.
                found = self._refresh_account(payout)
                if found is None or is_rejected(found):
                    # Finance retries it once the account is fixed or another is linked.
                    why = (f"{PAYOUT_ACCOUNT_NOT_FOUND}: Stripe has no account {account}"
                           if found is None else f"ACCOUNT_INVALID: Stripe rejected {account}")
                    self._record_failure(payout_id, TransferFailed(why, False))
                    return "FAILED"
                if status_of(found)[0] != PayoutAccountStatus.ENABLED:
                    return self._wait(payout, PAYOUT_ACCOUNT_NOT_READY)
            transfer_id = None
            if self._should_look_up(payout):
                transfer_id = self.gateway.find_transfer(payout)
            if transfer_id is None:
                transfer_id = self.gateway.create_transfer(payout, account)
                self.after_transfer_created(payout_id, transfer_id)
        except TransferFailed as failure:
            if failure.reason == PAYOUT_ACCOUNT_NOT_READY:
                # Stripe turned transfers off since we last looked: record it and wait.
                self._refresh_account(payout)
                return self._wait(payout, PAYOUT_ACCOUNT_NOT_READY)
            self._record_failure(payout_id, failure)
            if failure.retryable:
                # Retries are in flight (backing off): the sweeper need not send another.
                self.work.touch(PAY, payout_id)
                raise RetryableFailure(str(failure)) from failure
            return "FAILED"
        self.app.record_payout_paid(payout_id, transfer_id, loaded=payout)
        return "PAID"

    def _wait(self, payout, reason: str) -> str:
        """Leave the payout REQUESTED with its reason, written once however often it is
        tried (the dispatcher sends it again when the worker's account becomes ENABLED)."""
        if payout.failure_reason != reason:
            self._record_failure(payout.id, TransferFailed(reason, True))
        return reason

    def _refresh_account(self, payout) -> dict | None:
        from ..payout_accounts import PayoutAccounts

        try:
            return PayoutAccounts(self.app, self.gateway).refresh(payout.worker_id)
        except stripe.StripeError as error:
            raise classify(error) from error

    def after_transfer_created(self, payout_id: UUID, transfer_id: str) -> None:
        """The riskiest instant: paid at Stripe, not yet recorded (a hook for crash tests)."""

    def _should_look_up(self, payout) -> bool:
        old = self.app.clock() - payout.requested_at > LOOKUP_AFTER
        return old or payout.attempts > 0 or payout.retries > 0

    def _record_failure(self, payout_id: UUID, failure: TransferFailed) -> None:
        try:
            self.app.record_payout_failure(payout_id, failure.reason, failure.retryable)
        except DomainError as error:
            if error.code != "ALREADY_PAID":  # a concurrent attempt won: nothing to record
                raise


@dataclass
class Actors:
    pay_payout: dramatiq.Actor
    expire_claim: dramatiq.Actor
    auto_approve: dramatiq.Actor
    aggregate_batch: dramatiq.Actor | None = None


def delay_ms(due: datetime, now: datetime) -> int:
    """Dramatiq's delay for a message that must not run before ``due`` (a ms past it)."""
    return max(0, int((due - now).total_seconds() * 1000) + 1)


def register_actors(broker: dramatiq.Broker, services: Services,
                    payout_worker: PayoutWorker | None = None) -> Actors:
    """Declare the actors on ``broker``, bound to ``services``."""
    app = services.marketplace
    payouts = payout_worker or PayoutWorker(services)

    def pay_payout(payout_id: str, worker_id: str | None = None) -> None:
        outcome = payouts.pay(UUID(payout_id), UUID(worker_id) if worker_id else None)
        log.info("payout %s: %s", payout_id, outcome)

    def expire_claim(task_id: str, claim_id: str) -> None:
        task = app.get_task(UUID(task_id))
        claim = task.claims.get(UUID(claim_id))
        if claim is None:  # released, submitted and reviewed, or expired already
            return
        if app.expire_claim(task.id, claim.id):
            log.info("claim %s of task %s expired", claim_id, task_id)
        elif claim.status.value == "ACTIVE" and app.clock() < claim.expires_at:
            # Early (clock skew, or a lease renewed by a revision): come back when it is due.
            actors.expire_claim.send_with_options(
                args=(task_id, claim_id), delay=delay_ms(claim.expires_at, app.clock()))

    def auto_approve(task_id: str, submission_id: str) -> None:
        task = app.get_task(UUID(task_id))
        submission = task.submissions.get(UUID(submission_id))
        due = task.auto_approval_due(UUID(submission_id))
        if submission is None or due is None:
            return
        if app.auto_approve(task.id, submission.id):
            log.info("submission %s auto-approved", submission_id)
        elif submission.status.value == "PENDING_REVIEW" and app.clock() < due:
            actors.auto_approve.send_with_options(args=(task_id, submission_id),
                                                  delay=delay_ms(due, app.clock()))

    def aggregate_batch(batch_id: str, position: int = 0) -> None:
        from ..quality.consensus import run

        with services.work.pool.connection() as conn:
            done = run(conn, UUID(batch_id), position)
        if done is None:  # the read models are behind the submission: back off and retry
            raise RetryableFailure(f"read models not yet at {position}")
        log.info("batch %s: %s items with a consensus", batch_id, done)

    # A domain error (no such task, ...) will not heal by waiting: no retry for it.
    common = dict(broker=broker, queue_name=QUEUE, time_limit=60_000, min_backoff=100,
                  max_backoff=30_000, throws=(DomainError,))
    actors = Actors(
        pay_payout=dramatiq.actor(pay_payout, actor_name="pay_payout", max_retries=20,
                                  **common),
        expire_claim=dramatiq.actor(expire_claim, actor_name="expire_claim", max_retries=10,
                                    **common),
        auto_approve=dramatiq.actor(auto_approve, actor_name="auto_approve", max_retries=10,
                                    **common),
        aggregate_batch=dramatiq.actor(aggregate_batch, actor_name="aggregate_batch",
                                       max_retries=20, **common),
    )
    return actors

