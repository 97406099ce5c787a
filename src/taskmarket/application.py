"""The application service: the one place that loads and saves aggregates.

Every command loads what it needs, calls one domain method, saves everything it touched
in one atomic write and returns ids or primitives. A version conflict (another command
saved the same aggregate first) reloads and tries again, a bounded number of times
(command_retry.py). This module holds the Marketplace's loading and saving and its task
commands; the other commands are mixins by area: people_commands.py, payout_commands.py,
webhook_commands.py, batch_commands.py.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import BaseAggregate

from .batch_commands import BatchCommands
from .clock import utc_now
from .command_retry import retry_on_conflict
from .domain import DomainError, Payout, Requester, Task, Worker
from .domain.ids import payout_id_for_submission, task_id_for_key
from .domain.task import ReviewDecision, TaskSpec
from .domain.values import check_idempotency_key
from .domain.webhook import check_url
from .domain.worker import normalize_skills
from .payout_commands import PayoutCommands
from .people_commands import PeopleCommands
from .webhook_commands import WebhookCommands

__all__ = ["Marketplace", "recorded_positions", "retry_on_conflict", "saved_aggregates"]

# Reasons a candidate task cannot be claimed that say "try the next one", not "stop".
MOVE_ON = {"NO_OPEN_SLOTS", "ALREADY_CLAIMED", "TASK_NOT_OPEN", "NOT_QUALIFIED", "CONFLICT",
           "NOT_FOUND"}

# A caller that wants to know where its command's events landed in the log (to wait for
# the projections, to log them with its request id) puts a list here before the command.
recorded_positions: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "recorded_positions", default=None)
# Likewise for the aggregates a command saved (their state after the save), so a caller
# can answer from what was written instead of waiting for a read model.
saved_aggregates: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "saved_aggregates", default=None)


class Marketplace(PeopleCommands, PayoutCommands, WebhookCommands, BatchCommands,
                  Application[UUID]):
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
        if all(obj is None or isinstance(obj, BaseAggregate) for obj in objs):
            recordings = self._save_aggregates(objs, kwargs)
        else:  # domain events, or aggregates of another kind: the library's way
            recordings = super().save(*objs, **kwargs)
        sink = saved_aggregates.get()
        if sink is not None:
            sink.extend(obj for obj in objs if obj is not None)
        return recordings

    def _save_aggregates(self, aggregates: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``Application.save`` for aggregates of the library's ``BaseAggregate``.

        The library's ``ProcessingEvent.collect_events`` asks ``isinstance`` of two runtime
        Protocols per object to tell events from aggregates: ~40 us of Python per saved
        aggregate (issue 14, a claim's profile). Our aggregates are ``BaseAggregate``s, so
        their pending events are collected directly; the steps after are the library's.
        """
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:
            if aggregate is not None:
                processing.events.extend(aggregate.collect_events())
                processing.aggregates[aggregate.id] = aggregate
        processing.collect_events(**kwargs)  # no objects: only keeps the save's kwargs
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # the library's deprecated hook, as its save calls it
        return recordings

    def _save_if_written(self, aggregate: Any, written: bool) -> bool:
        """Save ``aggregate`` when its command method wrote an event; ``written`` back."""
        if written:
            self.save(aggregate)
        return written

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

    def get_payout_and_worker(self, payout_id: UUID,
                              worker_id: UUID | None = None) -> tuple[Payout, Worker]:
        """A payout and the worker it pays; in one event-store query when ``worker_id``
        (what the caller was told the payout's worker is) is right, else in two."""
        if worker_id is not None:
            try:
                payout, worker = self._load_many((Payout, payout_id, "payoutId"),
                                                 (Worker, worker_id, "workerId"))
            except DomainError:
                pass  # the loads below raise what is really missing
            else:
                if worker.id == payout.worker_id:
                    return payout, worker
        payout = self.get_payout(payout_id)
        return payout, self.get_worker(payout.worker_id)

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

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
