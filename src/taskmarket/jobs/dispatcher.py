"""The outbox: follows the event log and sends the Dramatiq messages its events call for.

A log follower (``projections/follower.py``) of the topics it handles. At least once: a
batch's messages are sent first, then its ``scheduled_work`` rows and the position are
committed in the follower's transaction. A crash in between sends them again on restart,
which the idempotent actors absorb. Only one dispatcher runs at a time (advisory lock).
What to send is decided here; how the log is followed is the follower's.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic

from ..application import Marketplace
from ..database import Database
from ..domain import Payout, Task, Worker
from ..domain.task import auto_approval_due_at
from ..events import event_type
from ..projections.follower import LogFollower, LoggedEvent
from .actors import Actors, delay_ms
from .broker import Outgoing, enqueue_all
from .schedule import AUTO_APPROVE, DISPATCHER, EXPIRE, PAY, Done, Work, WorkStore

log = logging.getLogger(__name__)

LOCK_KEY = "taskmarket-dispatcher"
SENDERS = 4


def _topic(event_class: type) -> str:
    return get_topic(event_class)


class Dispatcher:
    def __init__(self, marketplace: Marketplace, work: WorkStore, actors: Actors,
                 batch_size: int = 500):
        self.app = marketplace
        self.work = work
        self.actors = actors
        self.batch_size = batch_size
        self.senders = ThreadPoolExecutor(SENDERS, thread_name_prefix="taskmarket-dispatch")
        # A task's auto-approval delay never changes; remembered so that each submission
        # does not replay its whole task (tasks with many slots have long histories).
        self.auto_approve_delays: dict[UUID, int | None] = {}
        self.batch_of: dict[UUID, UUID | None] = {}  # a task's batch, likewise remembered
        self.handlers = {
            _topic(Task.Posted): self._task_posted,
            _topic(Payout.Requested): self._payout_requested,
            _topic(Payout.Retried): self._payout_retried,
            _topic(Payout.Paid): self._payout_settled,
            _topic(Payout.Failed): self._payout_failed,
            _topic(Worker.PayoutAccountLinked): self._account_linked,
            _topic(Worker.PayoutAccountStatusChanged): self._account_status_changed,
            _topic(Task.Claimed): self._lease_started,
            _topic(Task.RevisionRequested): self._revision_requested,
            _topic(Task.ClaimExpired): self._lease_ended,
            _topic(Task.ClaimReleased): self._lease_ended,
            _topic(Task.WorkSubmitted): self._work_submitted,
            _topic(Task.SubmissionAccepted): self._reviewed,
            _topic(Task.SubmissionRejected): self._reviewed,
        }
        self.answer_handlers = {_topic(Task.WorkSubmitted), _topic(Task.SubmissionRejected)}
        self.by_type = {event_type(topic): h for topic, h in self.handlers.items()}
        self.answer_types = {event_type(topic) for topic in self.answer_handlers}

    # --- one batch ----------------------------------------------------------------
    name = DISPATCHER  # its position row

    @property
    def topics(self) -> list[str]:
        return list(self.handlers)

    def follower(self, database: Database | None = None) -> LogFollower:
        return LogFollower(database, self, self.app.mapper, self.batch_size,
                           exclusive=LOCK_KEY)

    def run_once(self) -> int:
        """Handle the next batch of the log; how many events it handled."""
        with self.work.pool.connection() as conn:
            return self.follower().step(conn)

    def apply(self, conn: psycopg.Connection, events: list[LoggedEvent]) -> None:
        """Send what the batch calls for, then record it on ``conn`` (the follower's
        transaction, which moves the position)."""
        self._changes: list[Work | Done] = []
        self._owed: dict[tuple[str, UUID], Work | None] = {}
        self._extra_payouts: dict[UUID, UUID] = {}  # payout id -> its worker's
        self._ready_workers: set[UUID] = set()  # whose waiting payouts go out again
        self._batches: set[UUID] = set()
        for _, kind, event in events:
            handler = self.by_type.get(kind)
            if handler is not None:
                handler(event.originator_id, event)
            if kind in self.answer_types:
                self._answer_changed(event.originator_id)
        self._position = events[-1][0]
        if self._ready_workers:  # one query for the batch, not one per worker
            self._extra_payouts.update(self.work.pending_payouts_of_workers(
                sorted(self._ready_workers)))
        self._send()
        self.work.record(conn, self._changes)

    def _send(self) -> None:
        owed = [work for work in self._owed.values() if work is not None]
        payouts = {work.subject_id: work.worker_id for work in owed if work.kind == PAY}
        payouts.update(self._extra_payouts)
        now = self.app.clock()
        messages = [pay_message(self.actors, payout_id, worker_id)
                    for payout_id, worker_id in payouts.items()]
        messages += [work_message(self.actors, work, now) for work in owed if work.kind != PAY]
        if self.actors.aggregate_batch is not None:
            # Re-estimated once per batch of the log, after the read models reach it.
            messages += [(self.actors.aggregate_batch.message(str(batch_id), self._position),
                          None) for batch_id in self._batches]
        # One broker call for the batch where the broker can (the PostgreSQL queue), else a
        # burst over a few connections. Any failure propagates, so the batch is not
        # recorded and is sent again.
        enqueue_all(self.actors.pay_payout.broker, messages, self.senders)

    def _owe(self, work: Work) -> None:
        self._changes.append(work)
        self._owed[(work.kind, work.subject_id)] = work

    def _settle(self, kind: str, subject_id: UUID) -> None:
        self._changes.append(Done(kind, subject_id))
        self._owed[(kind, subject_id)] = None

    # --- handlers -----------------------------------------------------------------
    def _payout_requested(self, payout_id: UUID, event) -> None:
        self._owe(Work(PAY, payout_id, payout_id, event.requested_at, event.worker_id))

    def _payout_retried(self, payout_id: UUID, event) -> None:
        payout = self.app.get_payout(payout_id)
        self._owe(Work(PAY, payout_id, payout_id, event.timestamp, payout.worker_id))

    def _payout_settled(self, payout_id: UUID, event) -> None:
        self._settle(PAY, payout_id)

    def _payout_failed(self, payout_id: UUID, event) -> None:
        if not event.retryable:
            self._settle(PAY, payout_id)

    def _account_linked(self, worker_id: UUID, event) -> None:
        self._ready_workers.add(worker_id)

    def _account_status_changed(self, worker_id: UUID, event) -> None:
        if event.status == "ENABLED":  # waiting payouts go out by themselves
            self._ready_workers.add(worker_id)

    def _lease_started(self, task_id: UUID, event) -> None:
        self._owe(Work(EXPIRE, event.claim_id, task_id, event.expires_at))

    def _revision_requested(self, task_id: UUID, event) -> None:
        self._settle(AUTO_APPROVE, event.submission_id)
        self._owe(Work(EXPIRE, event.claim_id, task_id, event.expires_at))

    def _lease_ended(self, task_id: UUID, event) -> None:
        self._settle(EXPIRE, event.claim_id)

    def _task_posted(self, task_id: UUID, event) -> None:
        if len(self.auto_approve_delays) > 100_000:
            self.auto_approve_delays.clear()  # a cache, not a record: bound its memory
        self.auto_approve_delays[task_id] = event.auto_approve_after_seconds
        if len(self.batch_of) > 100_000:
            self.batch_of.clear()
        self.batch_of[task_id] = getattr(event, "batch_id", None)

    def _answer_changed(self, task_id: UUID) -> None:
        """A batch item's answers changed: its batch's consensus is to be re-estimated."""
        if task_id not in self.batch_of:
            self.batch_of[task_id] = self.app.get_task(task_id).batch_id
        batch_id = self.batch_of[task_id]
        if batch_id is not None:
            self._batches.add(batch_id)

    def _work_submitted(self, task_id: UUID, event) -> None:
        self._settle(EXPIRE, event.claim_id)
        if task_id not in self.auto_approve_delays:
            self._task_posted(task_id, self.app.get_task(task_id))
        due = auto_approval_due_at(event.submitted_at, self.auto_approve_delays[task_id])
        if due is not None:
            self._owe(Work(AUTO_APPROVE, event.submission_id, task_id, due))

    def _reviewed(self, task_id: UUID, event) -> None:
        self._settle(AUTO_APPROVE, event.submission_id)

    # --- running ------------------------------------------------------------------
    def run(self, database: Database, stop: threading.Event, idle_seconds: float = 0.5) -> None:
        """Follow the log until ``stop`` is set (others stand by), woken by the event
        store's NOTIFY on every append or after ``idle_seconds``; survives database
        restarts and bugs."""
        self.follower(database).run(stop, idle_seconds)
        self.senders.shutdown(wait=True)


def pay_message(actors: Actors, payout_id: UUID, worker_id: UUID | None) -> Outgoing:
    """The message that pays ``payout_id``; its worker's id, when known, lets the actor
    load both in one query."""
    args = (str(payout_id), str(worker_id)) if worker_id else (str(payout_id),)
    return actors.pay_payout.message(*args), None


def work_message(actors: Actors, work: Work, now: datetime) -> Outgoing:
    """The message that does ``work``, delayed until it is due."""
    if work.kind == PAY:
        return pay_message(actors, work.subject_id, work.worker_id)
    delay = delay_ms(work.due_at, now)
    args = (str(work.aggregate_id), str(work.subject_id))
    actor = actors.expire_claim if work.kind == EXPIRE else actors.auto_approve
    return actor.message(*args), delay or None
