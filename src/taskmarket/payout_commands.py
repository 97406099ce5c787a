"""The Marketplace's payout commands (a mixin of application.Marketplace): bonuses, what
the payout jobs record of a transfer, retries, reconciliation runs. Paying for accepted
work happens in the same save as the review (application.Marketplace._pay_for)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from .command_retry import retry_on_conflict
from .domain import DomainError, Money, Payout, Task
from .domain.ids import payout_id_for_bonus
from .domain.payout import bonus_reason
from .domain.values import check_idempotency_key


class PayoutCommands:
    """Commands on payouts; ``self`` is the Marketplace."""

    @retry_on_conflict
    def pay_submission_bonus(self, requester_id: UUID, task_id: UUID, submission_id: UUID,
                             amount: int, currency: str, reason: str,
                             idempotency_key: str) -> UUID:
        """A bonus, from the requester's balance, to the worker of a submission of one of
        its tasks. The same key with the same input returns the same payout."""
        money = Money.of(amount, currency)
        reason = bonus_reason(reason)
        task = self.get_task(task_id)
        worker_id = self._worker_of_submission(task, submission_id)
        if task.requester_id != requester_id or worker_id is None:
            raise DomainError("NOT_FOUND", "no such submission of your tasks",
                              ["submissionId"])
        return self.pay_bonus(requester_id, worker_id, money.amount,
                              money.currency, idempotency_key, reason=reason,
                              task_id=task.id, submission_id=submission_id)

    def _worker_of_submission(self, task: Task, submission_id: UUID) -> UUID | None:
        """Who submitted a task's work, reviewed or not. A task keeps only the work under
        review; older work is found in the task's events (a bonus is rare)."""
        pending = task.submissions.get(submission_id)
        if pending is not None:
            return pending.worker_id
        if task.submission_status(submission_id) is None:
            return None
        for event in self.events.get(task.id):
            if isinstance(event, Task.WorkSubmitted) and event.submission_id == submission_id:
                return event.worker_id
        return None

    @retry_on_conflict
    def pay_bonus(self, requester_id: UUID, worker_id: UUID, amount: int, currency: str,
                  idempotency_key: str, *, reason: str | None = None,
                  task_id: UUID | None = None, submission_id: UUID | None = None) -> UUID:
        money = Money.of(amount, currency)
        if not (check_idempotency_key(idempotency_key) or "").strip():
            raise DomainError("INVALID_INPUT", "a bonus needs an idempotency key",
                              ["idempotencyKey"])
        if len(idempotency_key) > 255:
            raise DomainError("INVALID_INPUT", "an idempotency key is at most 255 characters",
                              ["idempotencyKey"])
        payout_id = payout_id_for_bonus(requester_id, idempotency_key)
        if self.exists(payout_id):
            existing = self.get_payout(payout_id)
            if (existing.worker_id, existing.amount, existing.currency,
                    existing.submission_id, getattr(existing, "reason", None)) != (
                    worker_id, money.amount, money.currency, submission_id, reason):
                raise DomainError("IDEMPOTENCY_KEY_REUSED",
                                  "this idempotency key was used with different input",
                                  ["idempotencyKey"])
            return payout_id
        self.get_worker(worker_id)
        requester = self.get_requester(requester_id)
        requester.pay_bonus(payout_id, money)
        payout = Payout(
            payout_id=payout_id, worker_id=worker_id, requester_id=requester_id,
            amount=money.amount, currency=money.currency, task_id=task_id,
            submission_id=submission_id, kind="bonus", requested_at=self.clock(),
            reason=reason,
        )
        self.save(requester, payout)
        return payout_id

    def record_payout_paid(self, payout_id: UUID, transfer_id: str,
                           loaded: Payout | None = None) -> bool:
        """Record the transfer that paid the payout; False when it was recorded already.
        ``loaded``: the payout as the caller loaded it before the transfer, saved against
        its version (no second load); a change since then makes it load again."""
        if loaded is not None:
            try:
                return self._record_paid(loaded, transfer_id)
            except IntegrityError:
                pass
        return self._load_and_record_paid(payout_id, transfer_id)

    @retry_on_conflict
    def _load_and_record_paid(self, payout_id: UUID, transfer_id: str) -> bool:
        return self._record_paid(self.get_payout(payout_id), transfer_id)

    def _record_paid(self, payout: Payout, transfer_id: str) -> bool:
        return self._save_if_written(payout, payout.record_paid(transfer_id, self.clock()))

    @retry_on_conflict
    def record_payout_failure(self, payout_id: UUID, reason: str, retryable: bool) -> None:
        payout = self.get_payout(payout_id)
        payout.record_failure(reason, retryable)
        self.save(payout)

    @retry_on_conflict
    def retry_payout(self, payout_id: UUID) -> None:
        payout = self.get_payout(payout_id)
        payout.retry()
        self.save(payout)

    @retry_on_conflict
    def record_transfer_reversal(self, payout_id: UUID, transfer_id: str, amount: int) -> bool:
        payout = self.get_payout(payout_id)
        return self._save_if_written(payout, payout.record_reversal(transfer_id, amount))

    # --- reconciliation with Stripe ------------------------------------------------
    def record_reconciliation(self, run_id: UUID, period_from: datetime, period_to: datetime,
                              started_at: datetime, payouts_compared: int,
                              transfers_compared: int, discrepancies: list[dict[str, Any]],
                              reversals_recorded: int) -> bool:
        """Record a finished run; False when a run with this id exists (a daily run that
        another worker recorded first)."""
        from .domain.reconciliation import ReconciliationRun, check_period

        check_period(period_from, period_to)
        run = ReconciliationRun(run_id=run_id, period_from=period_from, period_to=period_to,
                             started_at=started_at, finished_at=self.clock(),
                             payouts_compared=payouts_compared,
                             transfers_compared=transfers_compared,
                             discrepancies=discrepancies, reversals_recorded=reversals_recorded)
        try:
            self.save(run)
        except IntegrityError:
            return False
        return True
