"""The application service: the one place that loads and saves aggregates.

Every command loads what it needs, calls one domain method, saves everything it touched
in one atomic write and returns ids or primitives. A version conflict (another command
saved the same aggregate first) reloads and tries again, a bounded number of times.
"""

from __future__ import annotations

import contextvars
import functools
import random
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from .clock import utc_now
from .domain import ApiKey, DomainError, Money, Payout, Requester, Role, Task, Worker
from .domain.apikey import hash_secret
from .domain.catalog import deliverable_types, deliverable_types_except
from .domain.payout import bonus_reason
from .domain.ids import (
    api_key_id, payout_id_for_bonus, payout_id_for_submission, task_id_for_key,
)
from .domain.task import ReviewDecision, TaskSpec
from .domain.values import check_idempotency_key
from .domain.webhook import WebhookEndpoint, check_url, new_secret
from .batch_commands import BatchCommands
from .domain.worker import normalize_skills
from .event_visibility import endpoint_visibility

MAX_ATTEMPTS = 64
# Reasons a candidate task cannot be claimed that say "try the next one", not "stop".
MOVE_ON = {"NO_OPEN_SLOTS", "ALREADY_CLAIMED", "TASK_NOT_OPEN", "NOT_QUALIFIED", "CONFLICT",
           "NOT_FOUND"}
F = TypeVar("F", bound=Callable[..., Any])

# A caller that wants to know where its command's events landed in the log (to wait for
# the projections, to log them with its request id) puts a list here before the command.
recorded_positions: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "recorded_positions", default=None)
# Likewise for the aggregates a command saved (their state after the save), so a caller
# can answer from what was written instead of waiting for a read model.
saved_aggregates: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "saved_aggregates", default=None)


def retry_on_conflict(method: F) -> F:
    """Run a command again when a concurrent command saved the same aggregate first."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(MAX_ATTEMPTS):
            try:
                return method(*args, **kwargs)
            except IntegrityError:
                if attempt == MAX_ATTEMPTS - 1:
                    raise DomainError("CONFLICT", "too many concurrent changes; try again")
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise AssertionError("unreachable")

    return wrapper  # type: ignore[return-value]


class Marketplace(BatchCommands, Application[UUID]):
    """Commands of the marketplace, over the event store."""

    name = "taskmarket"
    # With IS_SNAPSHOTTING_ENABLED=y, long-lived aggregates load from a snapshot + the tail.
    snapshotting_intervals = {Task: 100, Requester: 100}

    def __init__(self, env: dict[str, str] | None = None,
                 clock: Callable[[], datetime] = utc_now,
                 task_candidates: Callable[[list[str], str | None], Any] | None = None,
                 webhook_records: Any = None,
                 check_webhook_target: Callable[[str], str] = check_url):
        """The composition root (bootstrap.py) hands in what reaches past the event store;
        each is closed with the application when it has a ``close()``."""
        super().__init__(env=env)
        self.clock = clock
        # (worker skills, skill filter) -> task ids in preference order; see claim_next_task.
        self.task_candidates = task_candidates
        # Stores signing secrets outside the event log (domain/webhook.py), finds deliveries.
        self.webhook_records = webhook_records
        # A webhook URL -> the URL, checked (INVALID_INPUT): by default for its shape (the
        # domain's rule); the composition root adds its destination (webhooks/targets.py).
        self.check_webhook_target = check_webhook_target

    def close(self) -> None:
        super().close()
        for collaborator in (self.task_candidates, self.webhook_records):
            close = getattr(collaborator, "close", None)
            if close is not None:
                close()

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        sink = saved_aggregates.get()
        if sink is not None:
            sink.extend(obj for obj in objs if obj is not None)
        return recordings

    def _notify(self, recordings: list[Any]) -> None:
        super()._notify(recordings)
        sink = recorded_positions.get()
        if sink is not None:
            sink.extend(r.notification.id for r in recordings)

    # --- loading --------------------------------------------------------------------
    def _load(self, kind: type, aggregate_id: UUID, field: str) -> Any:
        if (self.snapshots is not None and kind not in self.snapshotting_intervals
                and self._replays_in_one_query()):
            # Short-lived kinds (workers, keys, payouts, endpoints) are never snapshotted:
            # replay them without asking the snapshot table first.
            return self._load_many((kind, aggregate_id, field))[0]
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise DomainError("NOT_FOUND", f"no such {kind.__name__.lower()}", [field]) from None
        if not isinstance(aggregate, kind):
            raise DomainError("NOT_FOUND", f"no such {kind.__name__.lower()}", [field])
        return aggregate

    def _load_many(self, *wanted: tuple[type, UUID, str]) -> list[Any]:
        """Like ``_load`` for each (kind, id, field), in one event-store round trip.

        Replays every event (never a snapshot: replaying is always right, and the kinds
        loaded together here are short). Only with no aggregate cache and a recorder that
        can select several aggregates at once; otherwise one load each. Errors come in the
        order asked, as with successive ``_load`` calls.
        """
        if not self._replays_in_one_query():
            return [self._load(kind, aggregate_id, field) for kind, aggregate_id, field in wanted]
        select_many = self.recorder.select_events_of
        # Stored events are keyed by UUID; an id given as text (a message's argument) too.
        wanted = tuple((kind, aggregate_id if isinstance(aggregate_id, UUID)
                        else UUID(str(aggregate_id)), field)
                       for kind, aggregate_id, field in wanted)
        stored_by_id: dict[UUID, list[Any]] = {}
        for stored in select_many([aggregate_id for _, aggregate_id, _ in wanted]):
            stored_by_id.setdefault(stored.originator_id, []).append(stored)
        loaded = []
        for kind, aggregate_id, field in wanted:
            aggregate = None
            # The library's project_aggregate asserts a runtime Protocol per event (a
            # measurable cost per claim); every stored event here is an aggregate event.
            for stored in stored_by_id.get(aggregate_id, ()):
                aggregate = self.mapper.to_domain_event(stored).mutate(aggregate)
            if aggregate is None or not isinstance(aggregate, kind):
                raise DomainError("NOT_FOUND", f"no such {kind.__name__.lower()}", [field])
            loaded.append(aggregate)
        return loaded

    def _replays_in_one_query(self) -> bool:
        return (callable(getattr(self.recorder, "select_events_of", None))
                and not self.repository.cache)

    def get_requester(self, requester_id: UUID) -> Requester:
        return self._load(Requester, requester_id, "requesterId")

    def get_worker(self, worker_id: UUID) -> Worker:
        return self._load(Worker, worker_id, "workerId")

    def get_task(self, task_id: UUID) -> Task:
        return self._load(Task, task_id, "taskId")

    def get_payout(self, payout_id: UUID) -> Payout:
        return self._load(Payout, payout_id, "payoutId")

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    # --- people ---------------------------------------------------------------------
    def create_requester(self, name: str, currency: str | None = None) -> UUID:
        requester = Requester.open(name, currency)
        self.save(requester)
        return requester.id

    def register_worker(self, name: str, skills: list[str] | None = None,
                        stripe_account_id: str | None = None) -> UUID:
        worker = Worker.register(name, skills)
        if stripe_account_id:
            worker.link_account(stripe_account_id)
        self.save(worker)
        return worker.id

    @retry_on_conflict
    def change_worker_skills(self, worker_id: UUID, skills: list[str]) -> None:
        worker = self.get_worker(worker_id)
        worker.change_skills(skills)
        self.save(worker)

    @retry_on_conflict
    def link_payout_account(self, worker_id: UUID, account_id: str,
                            status: str | None = None,
                            requirements_due: list[str] | None = None) -> None:
        worker = self.get_worker(worker_id)
        worker.link_account(account_id, status, requirements_due)
        self.save(worker)

    @retry_on_conflict
    def record_payout_account_status(self, worker_id: UUID, account_id: str, status: str,
                                     requirements_due: list[str]) -> bool:
        """What Stripe says of a worker's account; False when nothing changed."""
        worker = self.get_worker(worker_id)
        written = worker.update_account_status(account_id, status, requirements_due)
        if written:
            self.save(worker)
        return written

    # --- money in -------------------------------------------------------------------
    @retry_on_conflict
    def deposit_funds(self, requester_id: UUID, amount: int, currency: str, reference: str,
                      idempotency_key: str | None = None) -> bool:
        """Credit a deposit; False when this key (or reference) was already credited."""
        money = Money.of(amount, currency)
        requester = self.get_requester(requester_id)
        written = requester.deposit(money, reference, idempotency_key)
        if written:
            self.save(requester)
        return written

    # --- tasks ----------------------------------------------------------------------
    @retry_on_conflict
    def post_task(self, requester_id: UUID, spec: TaskSpec,
                  idempotency_key: str | None = None) -> UUID:
        spec.validate()
        idempotency_key = check_idempotency_key(idempotency_key)
        requester = self.get_requester(requester_id)
        task_id = uuid4()
        if idempotency_key:
            task_id = task_id_for_key(requester_id, idempotency_key)
            if self.exists(task_id):
                existing = self.get_task(task_id)
                if existing.fingerprint != spec.fingerprint():
                    raise DomainError("IDEMPOTENCY_KEY_REUSED",
                                      "this idempotency key was used with different input",
                                      ["idempotencyKey"])
                return task_id
        task = Task.post(requester_id, spec, self.clock(), task_id=task_id)
        requester.reserve(task.id, spec.escrow)
        self.save(requester, task)
        return task.id

    @retry_on_conflict
    def claim_task(self, task_id: UUID, worker_id: UUID) -> UUID:
        worker, task = self._load_many(
            (Worker, worker_id, "workerId"), (Task, task_id, "taskId"))
        if task.batch_id is not None:
            return self._claim_batch_item(worker, task)
        claim_id = task.claim(worker.id, worker.skills, self.clock())
        self.save(task)
        return claim_id

    def claim_next_task(self, worker_id: UUID, skill: str | None = None
                        ) -> tuple[UUID, UUID] | None:
        """Claim the first open task (in the candidates' order) the worker qualifies for.

        Another worker may take a candidate's last slot first; then this moves on to the
        next candidate. Returns (task id, claim id), or None when nothing fits.
        """
        worker = self.get_worker(worker_id)
        if skill is not None:
            skill = (normalize_skills([skill], "skill") or [None])[0]
        if self.task_candidates is None:
            raise DomainError("NOT_IMPLEMENTED", "no source of open tasks is configured")
        for task_id in self.task_candidates(list(worker.skills), skill):
            try:
                gold = self._gold_instead_of(task_id, worker_id)
                if gold is not None:
                    return gold
                return task_id, self.claim_task(task_id, worker_id)
            except DomainError as error:
                if error.code not in MOVE_ON:
                    raise
        return None

    @retry_on_conflict
    def release_claim(self, task_id: UUID, claim_id: UUID, worker_id: UUID) -> None:
        task = self.get_task(task_id)
        self._check_closed_claim(task, claim_id, worker_id)
        refund = task.release(claim_id, worker_id, self.clock())
        self._save_with_refund(task, refund)

    @retry_on_conflict
    def expire_claim(self, task_id: UUID, claim_id: UUID) -> bool:
        """Expire a lease that ran out; False when there was nothing to expire."""
        task = self.get_task(task_id)
        refund = task.expire(claim_id, self.clock())
        if refund is None:
            return False
        self._save_with_refund(task, refund)
        return True

    @retry_on_conflict
    def submit_work(self, task_id: UUID, claim_id: UUID, worker_id: UUID, result: Any) -> UUID:
        task = self.get_task(task_id)
        self._check_closed_claim(task, claim_id, worker_id)
        submission_id = task.submit(claim_id, worker_id, result, self.clock())
        if task.batch_id is not None:
            self._submit_batch_answer(task, submission_id)
            return submission_id
        self.save(task)
        return submission_id

    @retry_on_conflict
    def review_submission(self, task_id: UUID, submission_id: UUID, requester_id: UUID,
                          decision: ReviewDecision | str, feedback: str | None = None
                          ) -> UUID | None:
        """Record a review; returns the payout an ACCEPT requested."""
        decision = ReviewDecision.parse(decision)
        task = self.get_task(task_id)
        pending = task.submissions.get(submission_id)  # the task lets go of it once reviewed
        refund = task.review(submission_id, requester_id, decision, feedback, self.clock())
        if decision == ReviewDecision.ACCEPT:
            return self._pay_for(task, pending)
        self._save_with_refund(task, refund)
        return None

    @retry_on_conflict
    def auto_approve(self, task_id: UUID, submission_id: UUID) -> UUID | None:
        """Accept work left unreviewed past the task's delay; the payout id, or None."""
        task = self.get_task(task_id)
        pending = task.submissions.get(submission_id)
        if not task.auto_approve(submission_id, self.clock()):
            return None
        return self._pay_for(task, pending)

    @retry_on_conflict
    def cancel_task(self, task_id: UUID, requester_id: UUID) -> int:
        task = self.get_task(task_id)
        refund = task.cancel(requester_id)
        self._save_with_refund(task, refund)
        return refund

    def _save_with_refund(self, task: Task, slots: int, *also: Any) -> None:
        if not slots:
            self.save(task, *also)
            return
        requester = self.get_requester(task.requester_id)
        requester.release(task.id, task.reward.amount * slots, slots)
        self.save(task, requester, *also)

    def _pay_for(self, task: Task, submission: Any, *also: Any) -> UUID:
        """Pay for accepted work: ``submission`` as the task held it before the review
        (a task lets go of reviewed work)."""
        submission_id = submission.id
        requester = self.get_requester(task.requester_id)
        payout = Payout(
            payout_id=payout_id_for_submission(submission_id), worker_id=submission.worker_id,
            requester_id=task.requester_id, amount=task.reward.amount,
            currency=task.reward.currency, task_id=task.id, submission_id=submission_id,
            kind="submission", requested_at=self.clock(),
        )
        requester.consume(task.id, payout.id, task.reward.amount)
        self.save(task, requester, payout, *also)
        return payout.id

    # --- payouts --------------------------------------------------------------------
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

    def _check_closed_claim(self, task: Task, claim_id: UUID, worker_id: UUID) -> None:
        """A task keeps only its open claims; for a closed one, whose it was comes from the
        task's events, so another worker still hears FORBIDDEN before any status."""
        if claim_id in task.claims or task.claim_status(claim_id) is None:
            return  # the task's own rules decide (NOT_FOUND for a claim it never had)
        claimant = self._claimant(task, claim_id)
        if claimant != worker_id:
            raise DomainError("FORBIDDEN", "this is not your claim", ["claimId"])

    def _claimant(self, task: Task, claim_id: UUID) -> UUID | None:
        for event in self.events.get(task.id):
            if isinstance(event, Task.Claimed) and event.claim_id == claim_id:
                return event.worker_id
        return None

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

    @retry_on_conflict
    def record_payout_paid(self, payout_id: UUID, transfer_id: str) -> bool:
        payout = self.get_payout(payout_id)
        written = payout.record_paid(transfer_id, self.clock())
        if written:
            self.save(payout)
        return written

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
        written = payout.record_reversal(transfer_id, amount)
        if written:
            self.save(payout)
        return written

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

    # --- API keys -------------------------------------------------------------------
    def issue_api_key(self, role: Role | str, name: str,
                      subject_id: UUID | None = None) -> tuple[UUID, str]:
        """Issue a key; returns its id and the secret, which is never stored."""
        try:
            role = Role(role)
        except ValueError:
            raise DomainError("INVALID_INPUT", f"unknown role {role!r}", ["role"]) from None
        secret = f"tm_{role.value.lower()}_{secrets.token_urlsafe(32)}"
        key = ApiKey.issue(secret, role, name, subject_id)  # checks role and subject agree
        if subject_id is not None:
            kind = Worker if role == Role.WORKER else Requester
            self._load(kind, subject_id, f"{kind.__name__.lower()}Id")
        self.save(key)
        return key.id, secret

    @retry_on_conflict
    def revoke_api_key(self, key_id: UUID) -> None:
        key = self._load(ApiKey, key_id, "apiKeyId")
        key.revoke()
        self.save(key)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The live key for a presented secret, or None."""
        if not secret:
            return None
        try:
            key = self._load(ApiKey, api_key_id(hash_secret(secret)), "apiKey")
        except DomainError:
            return None
        return None if key.revoked else key

    def key_is_live(self, key_id: UUID) -> bool:
        """Whether an API key exists and was not revoked (long-lived sessions re-check)."""
        try:
            key = self._load(ApiKey, key_id, "apiKeyId")
        except DomainError:
            return False
        return not key.revoked

    # --- webhooks -------------------------------------------------------------------
    def get_webhook_endpoint(self, endpoint_id: UUID) -> WebhookEndpoint:
        return self._load(WebhookEndpoint, endpoint_id, "endpointId")

    def create_webhook_endpoint(self, url: str, event_types: list[str] | None,
                                requester_id: UUID, owner_key_id: UUID | None = None,
                                audience: Role = Role.REQUESTER) -> tuple[UUID, str]:
        """Register an endpoint for a requester's events; returns its id and its secret.

        It receives what a key of role ``audience`` (the caller's) may read of them."""
        self.get_requester(requester_id)
        url = self.check_webhook_target(url)
        allowed = deliverable_types_except(
            endpoint_visibility(audience, requester_id).hidden_kinds)
        secret = new_secret()
        endpoint = WebhookEndpoint.create(url, event_types, requester_id, owner_key_id,
                                          hash_secret(secret), deliverable_types(), self.clock(),
                                          audience=audience.value, allowed_types=allowed)
        self.webhook_records.save_secret(endpoint.id, endpoint.secret_hash, secret)
        self.save(endpoint)
        return endpoint.id, secret

    @retry_on_conflict
    def update_webhook_endpoint(self, endpoint_id: UUID, url: str | None = None,
                                event_types: list[str] | None = None,
                                audience: Role | None = None) -> None:
        """Change an endpoint; it then receives what a key of role ``audience`` may read."""
        endpoint = self.get_webhook_endpoint(endpoint_id)
        if url is not None:
            url = self.check_webhook_target(url)
        role = audience or Role(endpoint.audience)
        allowed = deliverable_types_except(
            endpoint_visibility(role, endpoint.requester_id).hidden_kinds)
        if endpoint.update(url, event_types, deliverable_types(), role.value, allowed):
            self.save(endpoint)

    @retry_on_conflict
    def disable_webhook_endpoint(self, endpoint_id: UUID, reason: str) -> bool:
        endpoint = self.get_webhook_endpoint(endpoint_id)
        written = endpoint.disable(reason, self.clock())
        if written:
            self.save(endpoint)
        return written

    @retry_on_conflict
    def enable_webhook_endpoint(self, endpoint_id: UUID) -> bool:
        endpoint = self.get_webhook_endpoint(endpoint_id)
        written = endpoint.enable()
        if written:
            self.save(endpoint)
        return written

    @retry_on_conflict
    def rotate_webhook_secret(self, endpoint_id: UUID) -> str:
        """A new signing secret, used from the next delivery on; returned once."""
        endpoint = self.get_webhook_endpoint(endpoint_id)
        secret = new_secret()
        self.webhook_records.save_secret(endpoint.id, hash_secret(secret), secret)
        endpoint.rotate_secret(hash_secret(secret))
        self.save(endpoint)
        return secret

    @retry_on_conflict
    def replay_webhook_endpoint(self, endpoint_id: UUID, after: int) -> None:
        endpoint = self.get_webhook_endpoint(endpoint_id)
        endpoint.request_replay(after)
        self.save(endpoint)

    @retry_on_conflict
    def redeliver_webhook(self, delivery_id: UUID) -> UUID:
        """Send one logged delivery's event again; returns the endpoint's id."""
        endpoint_id = self.webhook_records.endpoint_of_delivery(delivery_id)
        if endpoint_id is None:
            raise DomainError("NOT_FOUND", "no such delivery", ["deliveryId"])
        endpoint = self.get_webhook_endpoint(endpoint_id)
        endpoint.request_redelivery(delivery_id)
        self.save(endpoint)
        return endpoint_id
