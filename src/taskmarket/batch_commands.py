"""The Marketplace's batch commands (a mixin of application.Marketplace).

Batches reuse the task machinery: each item is a Task posted with the batch's spec and its
escrow reserved from the requester, exactly as ``post_task`` does; a claim, a submission, a
review or a cancellation of an item goes through the same Task and Requester methods. The
Batch adds its rules around them, in the same atomic save: blocked workers are refused,
gold items are served and judged, answers are checked against the schema.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any, Callable
from uuid import UUID, uuid4

from .command_retry import retry_on_conflict
from .domain import DomainError, Task, Worker
from .domain.batch import (
    Batch, BatchItem, BatchSpec, BatchWorker, batch_id_for_key, batch_worker_id, check_answer,
)
from .domain.task import ReviewDecision, TaskStatus

CANCEL_CHUNK = 500
KEPT_AGGREGATES = 10_000
_ABSENT = object()
TASK_BATCH_CACHE_SIZE = 100_000
WRONG_GOLD_FEEDBACK = "This answer does not match the expected one."


class BatchCommands:
    """Commands on batches; ``self`` is the Marketplace."""

    def get_batch(self, batch_id: UUID) -> Batch:
        return self._load(Batch, batch_id, "batchId")

    def read_batch(self, batch_id: UUID) -> Batch:
        """A batch to read, not to change (see ``_read_kept``)."""
        batch = self._read_kept(batch_id, lambda: self.get_batch(batch_id))
        assert batch is not None  # get_batch raised NOT_FOUND otherwise
        return batch

    def batch_worker(self, batch_id: UUID, worker_id: UUID) -> BatchWorker | None:
        """A worker's record in a batch, to read; None before its first gold item."""
        return self._read_kept(batch_worker_id(batch_id, worker_id),
                               lambda: self._fresh_batch_worker(batch_id, worker_id))

    def _fresh_batch_worker(self, batch_id: UUID, worker_id: UUID) -> BatchWorker | None:
        try:
            return self._load(BatchWorker, batch_worker_id(batch_id, worker_id), "workerId")
        except DomainError:
            return None

    def _read_kept(self, aggregate_id: UUID, load: Callable[[], Any]) -> Any:
        """An aggregate to read, not to change: kept between commands and brought up to
        date with only the events recorded since (one small query, instead of replaying
        a batch's or a worker record's history on every claim and submission). Copy on
        write: an aggregate handed out is never changed afterwards."""
        with self._kept_lock:
            kept = self._kept.get(aggregate_id, _ABSENT)
        if kept is _ABSENT:
            aggregate = load()
        else:
            version = kept.version if kept is not None else 0
            newer = list(self.recorder.select_events(aggregate_id, gt=version))
            if not newer:
                return kept
            aggregate = copy.deepcopy(kept)
            for stored in newer:
                aggregate = self.mapper.to_domain_event(stored).mutate(aggregate)
        with self._kept_lock:
            if len(self._kept) >= KEPT_AGGREGATES:
                self._kept.pop(next(iter(self._kept)))
            current = self._kept.get(aggregate_id)
            if current is None or aggregate is None or current.version <= aggregate.version:
                self._kept[aggregate_id] = aggregate
        return aggregate

    @functools.cached_property
    def _kept(self) -> dict[UUID, Any]:
        return {}

    @functools.cached_property
    def _kept_lock(self) -> threading.Lock:
        return threading.Lock()

    @functools.cached_property
    def _batch_of_task(self) -> dict[UUID, UUID | None]:
        return {}

    def _record_for(self, batch_id: UUID, worker_id: UUID) -> BatchWorker:
        """A worker's record in a batch, to change (loaded fresh; new when it has none)."""
        return self._fresh_batch_worker(batch_id, worker_id) or BatchWorker(
            batch_id=batch_id, worker_id=worker_id)

    @retry_on_conflict
    def create_batch(self, requester_id: UUID, spec: BatchSpec,
                     idempotency_key: str | None = None) -> UUID:
        spec.validate()
        self.get_requester(requester_id)
        if idempotency_key:
            batch_id = batch_id_for_key(requester_id, idempotency_key)
            if self.exists(batch_id):
                if self.get_batch(batch_id).fingerprint != spec.fingerprint():
                    raise DomainError("IDEMPOTENCY_KEY_REUSED",
                                      "this idempotency key was used with different input",
                                      ["idempotencyKey"])
                return batch_id
        else:
            batch_id = uuid4()
        batch = Batch.create(requester_id, spec, self.clock(), batch_id)
        self.save(batch)
        return batch.id

    @retry_on_conflict
    def add_batch_items(self, batch_id: UUID, requester_id: UUID, idempotency_key: str,
                        items: list[BatchItem]) -> int:
        """Post each item as a Task of the batch, escrow reserved; how many the call added
        (a replayed key adds nothing new and answers what it added the first time)."""
        batch = self.get_batch(batch_id)
        posts = batch.add_items(requester_id, idempotency_key, items)
        if posts is None:
            return batch.added_by(idempotency_key)
        requester = self.get_requester(requester_id)
        now = self.clock()
        tasks = [Task.post(requester_id, spec, now, task_id=task_id, batch_id=batch.id,
                           validated=True) for task_id, spec in posts]
        # The call's escrow is reserved as one amount (filed under the batch): a requester
        # uploading 100k items records a hundred reservations, not 100k, and so stays
        # quick to load for its next command.
        requester.reserve(batch.id, batch.reward.times(batch.overlap * len(tasks)))
        self.save(batch, requester, *tasks)
        return len(tasks)

    def cancel_batch(self, batch_id: UUID, requester_id: UUID) -> int:
        """Cancel the batch and every open item, refunding their open slots; how many
        slots were refunded. Items are cancelled in chunks (each one atomic save); a
        repeated call finishes what an interrupted one left."""
        self._cancel_batch_itself(batch_id, requester_id)
        batch = self.get_batch(batch_id)
        refunded = 0
        items = batch.items
        for start in range(0, len(items), CANCEL_CHUNK):
            refunded += self._cancel_items(items[start:start + CANCEL_CHUNK], requester_id)
        return refunded

    @retry_on_conflict
    def _cancel_batch_itself(self, batch_id: UUID, requester_id: UUID) -> None:
        batch = self.get_batch(batch_id)
        batch.check_owner(requester_id)
        if not batch.cancelled:
            batch.cancel(requester_id)
            self.save(batch)

    @retry_on_conflict
    def _cancel_items(self, task_ids: list[UUID], requester_id: UUID) -> int:
        tasks = self._load_many(*[(Task, task_id, "taskId") for task_id in task_ids])
        requester = self.get_requester(requester_id)
        cancelled, refunded = [], 0
        for task in tasks:
            if task.status not in (TaskStatus.OPEN, TaskStatus.FILLED):
                continue
            slots = task.cancel(requester_id)
            if slots:
                requester.release(task.id, task.reward.amount * slots, slots)
            refunded += slots
            cancelled.append(task)
        if cancelled:
            self.save(requester, *cancelled)
        return refunded

    # --- claims ----------------------------------------------------------------------
    def _claim_batch_item(self, worker: Worker, task: Task) -> UUID:
        """Claim an item: blocked workers are refused; a gold item is served once per
        worker, and gets one more slot (its escrow reserved now) when this claim would
        take its last one, so a control item stays open for the next worker."""
        batch = self.read_batch(task.batch_id)
        record = self.batch_worker(batch.id, worker.id)
        if record is not None:
            record.check_may_work()
        if batch.cancelled:
            raise DomainError("TASK_NOT_OPEN", "the batch is cancelled", ["taskId"])
        if not batch.is_gold(task.id):
            claim_id = task.claim(worker.id, worker.skills, self.clock())
            self.save(task)
            return claim_id
        record = self._record_for(batch.id, worker.id)  # to change: loaded fresh
        record.serve_gold(task.id)
        also: list[Any] = [record]
        if task.open_slots <= 1:
            requester = self.get_requester(task.requester_id)
            task.add_slot()
            requester.reserve(task.id, task.reward)
            also.append(requester)
        claim_id = task.claim(worker.id, worker.skills, self.clock())
        self.save(task, *also)
        return claim_id

    def _gold_instead_of(self, task_id: UUID, worker_id: UUID) -> tuple[UUID, UUID] | None:
        """When ``task_id`` is a batch item and the batch owes this worker a gold item now,
        claim that gold item instead: (gold task id, claim id). None otherwise."""
        batch_id = self._batch_of_task.get(task_id, False)
        if batch_id is False:
            batch_id = self.get_task(task_id).batch_id
            if len(self._batch_of_task) >= TASK_BATCH_CACHE_SIZE:
                self._batch_of_task.clear()  # a cache, not a record: bound its memory
            self._batch_of_task[task_id] = batch_id  # a task's batch never changes
        if batch_id is None:
            return None
        batch = self.read_batch(batch_id)
        gold_id = batch.gold_due(self.batch_worker(batch.id, worker_id), worker_id, task_id)
        if gold_id is None:
            return None
        try:
            return gold_id, self.claim_task(gold_id, worker_id)
        except DomainError as error:
            if error.code == "NOT_QUALIFIED":
                raise
            return None  # that gold item cannot be had now: the ordinary item it is

    # --- answers ---------------------------------------------------------------------
    def _submit_batch_answer(self, task: Task, submission_id: UUID) -> None:
        """Check the answer against the batch's schema (INVALID_ANSWER, nothing written);
        a gold item's answer is reviewed now against its known answer."""
        batch = self.read_batch(task.batch_id)
        submission = task.submissions[submission_id]
        check_answer(batch.answer_schema, submission.result)
        if not batch.is_gold(task.id):
            self.save(task)
            return
        correct = batch.judge(task.id, submission.result)
        record = self._record_for(batch.id, submission.worker_id)
        record.record_gold_answer(task.id, correct, batch.quality)
        if correct:
            task.review(submission_id, task.requester_id, ReviewDecision.ACCEPT, None,
                        self.clock())
            self._pay_for(task, submission, record)
            return
        refund = task.review(submission_id, task.requester_id, ReviewDecision.REJECT,
                             WRONG_GOLD_FEEDBACK, self.clock())
        self._save_with_refund(task, refund, record)
