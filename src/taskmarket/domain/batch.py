"""A batch: many items with one set of instructions, an answer schema and quality rules.

Each item is a Task of the batch (``Task.batch_id``), posted with ``overlap`` slots. Control
(gold) items carry a known answer that lives only here, in the Batch's own events, which
workers and partners never read; their Tasks look like any other item. The batch serves a
worker gold items at its gold ratio (more often until ``min_gold_answers``), each at most
once, judges gold answers, and blocks a worker whose gold accuracy falls too low.

Long for a reason: the Batch and BatchWorker aggregates, their event classes and the
value types their state holds stay in this one module, because stored events and
snapshots name them by ``taskmarket.domain.batch:...`` (README "Events are forever").
Answer schemas and pointers are in answers.py.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from . import ids
from .errors import DomainError, ensure
from .answers import answer_at, canonical, check_answer, check_schema, parse_pointer
from .fingerprint import fingerprint
from .money import Money
from .snapshot import StateSnapshot
from .task import TaskSpec, check_json
from .values import check_idempotency_key
from .worker import normalize_skills

MAX_ITEMS_PER_CALL = 1000
MAX_OVERLAP = 100
MAX_MIN_GOLD_ANSWERS = 1000
# Until it has answered min_gold_answers, a worker meets gold at least this often.
WARM_UP_GOLD_RATIO = 0.5


class AggregationMethod(str, enum.Enum):
    MAJORITY_VOTE = "MAJORITY_VOTE"
    DAWID_SKENE = "DAWID_SKENE"


class BatchStatus(str, enum.Enum):
    OPEN = "OPEN"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class QualityRules:
    gold_ratio: float = 0.0
    min_gold_answers: int = 0
    min_gold_accuracy: float = 0.0

    def validate(self) -> "QualityRules":
        ensure(_is_number(self.gold_ratio) and 0 <= self.gold_ratio <= 0.5, "INVALID_INPUT",
               "goldRatio is from 0 to 0.5", ["quality", "goldRatio"])
        ensure(isinstance(self.min_gold_answers, int) and not isinstance(
            self.min_gold_answers, bool) and 0 <= self.min_gold_answers <= MAX_MIN_GOLD_ANSWERS,
            "INVALID_INPUT", f"minGoldAnswers is from 0 to {MAX_MIN_GOLD_ANSWERS}",
            ["quality", "minGoldAnswers"])
        ensure(_is_number(self.min_gold_accuracy) and 0 <= self.min_gold_accuracy <= 1,
               "INVALID_INPUT", "minGoldAccuracy is from 0 to 1", ["quality", "minGoldAccuracy"])
        return self


@dataclass(frozen=True)
class BatchItem:
    payload: Any
    gold_answer: Any = None
    is_gold: bool = False


@dataclass(frozen=True)
class BatchSpec:
    """What a requester asks for when creating a batch; validated before anything is written."""

    title: str
    instructions: str
    answer_schema: Any
    reward: Money
    overlap: int
    answer_pointer: str | None = None
    required_skills: tuple[str, ...] = ()
    claim_timeout_seconds: int = 3600
    auto_approve_after_seconds: int | None = None
    quality: QualityRules = QualityRules()
    aggregation: AggregationMethod = AggregationMethod.MAJORITY_VOTE

    def item_spec(self, payload: Any = None) -> TaskSpec:
        return TaskSpec(
            title=self.title, instructions=self.instructions, reward=self.reward,
            assignments=self.overlap, payload=payload, required_skills=self.required_skills,
            claim_timeout_seconds=self.claim_timeout_seconds,
            auto_approve_after_seconds=self.auto_approve_after_seconds)

    def validate(self) -> "BatchSpec":
        ensure(isinstance(self.overlap, int) and not isinstance(self.overlap, bool)
               and 1 <= self.overlap <= MAX_OVERLAP, "INVALID_INPUT",
               f"overlap must be an integer from 1 to {MAX_OVERLAP}", ["overlap"])
        self.item_spec().validate()
        check_schema(self.answer_schema)
        parse_pointer(self.answer_pointer)
        ensure(isinstance(self.quality, QualityRules), "INVALID_INPUT",
               "quality rules are malformed", ["quality"])
        self.quality.validate()
        try:
            AggregationMethod(self.aggregation)
        except ValueError:
            raise DomainError("INVALID_INPUT", "aggregation is MAJORITY_VOTE or DAWID_SKENE",
                              ["aggregation"]) from None
        return self

    def fingerprint(self) -> str:
        return fingerprint(
            title=self.title, instructions=self.instructions, schema=self.answer_schema,
            pointer=self.answer_pointer or "", reward=[self.reward.amount, self.reward.currency],
            overlap=self.overlap, skills=normalize_skills(list(self.required_skills)),
            timeout=self.claim_timeout_seconds, auto=self.auto_approve_after_seconds,
            quality=[self.quality.gold_ratio, self.quality.min_gold_answers,
                     self.quality.min_gold_accuracy],
            aggregation=AggregationMethod(self.aggregation).value)


def _unit_interval(*parts: object) -> float:
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class Batch(Aggregate):
    Snapshot = StateSnapshot

    @staticmethod
    def create_id(batch_id: UUID) -> UUID:
        return batch_id

    @classmethod
    def create(cls, requester_id: UUID, spec: BatchSpec, now: datetime,
               batch_id: UUID) -> "Batch":
        spec.validate()
        return cls(
            batch_id=batch_id, requester_id=requester_id, title=spec.title.strip(),
            instructions=spec.instructions, answer_schema=spec.answer_schema,
            answer_pointer=spec.answer_pointer or "", reward_amount=spec.reward.amount,
            currency=spec.reward.currency, overlap=spec.overlap,
            required_skills=normalize_skills(list(spec.required_skills)),
            claim_timeout_seconds=spec.claim_timeout_seconds,
            auto_approve_after_seconds=spec.auto_approve_after_seconds,
            gold_ratio=float(spec.quality.gold_ratio),
            min_gold_answers=spec.quality.min_gold_answers,
            min_gold_accuracy=float(spec.quality.min_gold_accuracy),
            aggregation=AggregationMethod(spec.aggregation).value, created_at=now,
            fingerprint=spec.fingerprint())

    @event("Created")
    def __init__(self, batch_id: UUID, requester_id: UUID, title: str, instructions: str,
                 answer_schema: Any, answer_pointer: str, reward_amount: int, currency: str,
                 overlap: int, required_skills: list[str], claim_timeout_seconds: int,
                 auto_approve_after_seconds: int | None, gold_ratio: float,
                 min_gold_answers: int, min_gold_accuracy: float, aggregation: str,
                 created_at: datetime, fingerprint: str):
        self.requester_id = requester_id
        self.title = title
        self.instructions = instructions
        self.answer_schema = answer_schema
        self.answer_pointer = answer_pointer
        self.reward = Money(reward_amount, currency)
        self.overlap = overlap
        self.required_skills = list(required_skills)
        self.claim_timeout_seconds = claim_timeout_seconds
        self.auto_approve_after_seconds = auto_approve_after_seconds
        self.quality = QualityRules(gold_ratio, min_gold_answers, min_gold_accuracy)
        self.aggregation = AggregationMethod(aggregation)
        self.created_at = created_at
        self.fingerprint = fingerprint
        self.item_count = 0
        self.gold: dict[UUID, Any] = {}
        self.gold_order: list[UUID] = []
        self.calls: dict[str, tuple[str, int]] = {}
        self.cancelled = False

    # --- the item spec the batch posts ---------------------------------------------
    @property
    def spec(self) -> BatchSpec:
        return BatchSpec(
            title=self.title, instructions=self.instructions, answer_schema=self.answer_schema,
            reward=self.reward, overlap=self.overlap, answer_pointer=self.answer_pointer,
            required_skills=tuple(self.required_skills),
            claim_timeout_seconds=self.claim_timeout_seconds,
            auto_approve_after_seconds=self.auto_approve_after_seconds, quality=self.quality,
            aggregation=self.aggregation)

    @property
    def status(self) -> BatchStatus:
        return BatchStatus.CANCELLED if self.cancelled else BatchStatus.OPEN

    def check_owner(self, requester_id: UUID) -> None:
        ensure(requester_id == self.requester_id, "FORBIDDEN",
               "only the batch's requester changes it", ["batchId"])

    # --- adding items --------------------------------------------------------------
    def add_items(self, requester_id: UUID, idempotency_key: str,
                  items: list[BatchItem]) -> list[tuple[UUID, TaskSpec]] | None:
        """Record a call's items; the (task id, spec) of each Task to post, or None when
        this key was already used with the same items (a replay: nothing to do)."""
        self.check_owner(requester_id)
        ensure(isinstance(idempotency_key, str) and bool(idempotency_key.strip())
               and len(idempotency_key) <= 200, "INVALID_INPUT",
               "idempotencyKey is required (at most 200 characters)", ["idempotencyKey"])
        check_idempotency_key(idempotency_key)
        digest = fingerprint(items=[[item.payload, item.is_gold, item.gold_answer]
                                    for item in items])
        if idempotency_key in self.calls:
            ensure(self.calls[idempotency_key][0] == digest, "IDEMPOTENCY_KEY_REUSED",
                   "this idempotency key was used with different items", ["idempotencyKey"])
            return None
        ensure(not self.cancelled, "BATCH_NOT_OPEN", "the batch is cancelled", ["batchId"])
        ensure(0 < len(items) <= MAX_ITEMS_PER_CALL, "INVALID_INPUT",
               f"a call adds from 1 to {MAX_ITEMS_PER_CALL} items", ["items"])
        posts = []
        gold: list[tuple[UUID, Any]] = []
        for index, item in enumerate(items):
            spec = self.spec.item_spec(item.payload)
            try:
                spec.validate()
            except DomainError as error:
                raise DomainError(error.code, f"item {index}: {error.message}",
                                  ["items", str(index), *(error.field or [])]) from None
            task_id = item_task_id(self.id, idempotency_key, index)
            if item.is_gold:
                self._check_gold(index, item.gold_answer)
                gold.append((task_id, item.gold_answer))
            posts.append((task_id, spec))
        self._items_added(key=idempotency_key, digest=digest, count=len(posts),
                          gold_items=[[task_id, answer] for task_id, answer in gold])
        return posts

    def _check_gold(self, index: int, answer: Any) -> None:
        field_ = ["items", str(index), "goldAnswer"]
        ensure(answer is not None, "INVALID_INPUT", "a gold answer cannot be null", field_)
        check_json(answer, "goldAnswer")
        if not self.answer_pointer:
            try:
                check_answer(self.answer_schema, answer)
            except DomainError as error:
                raise DomainError("INVALID_INPUT", f"item {index}: the gold answer does not "
                                  f"satisfy the answer schema: {error.message}", field_) from None

    @event("ItemsAdded")
    def _items_added(self, key: str, digest: str, count: int,
                     gold_items: list[list[Any]]) -> None:
        # The items' task ids follow from the key (item_task_id): the event does not carry
        # them, so a batch of 100k items replays quickly.
        self.item_count += count
        for task_id, answer in gold_items:
            task_id = UUID(str(task_id))
            self.gold[task_id] = answer
            self.gold_order.append(task_id)
        self.calls[key] = (digest, count)

    @property
    def items(self) -> list[UUID]:
        """The task id of every item, in the order they were added."""
        return [item_task_id(self.id, key, index)
                for key, (_, count) in self.calls.items() for index in range(count)]

    def added_by(self, idempotency_key: str) -> int:
        return self.calls.get(idempotency_key, ("", 0))[1]

    # --- gold ----------------------------------------------------------------------
    def is_gold(self, task_id: UUID) -> bool:
        return task_id in self.gold

    def gold_due(self, record: "BatchWorker | None", worker_id: UUID,
                 task_id: UUID) -> UUID | None:
        """The gold item to serve ``worker_id`` instead of ``task_id``, if one is due.

        A fair coin per (worker, item) at the gold ratio, raised while the worker has not
        yet been served ``min_gold_answers``; the gold item is one this worker never had.
        """
        if not self.gold or self.quality.gold_ratio <= 0 or self.cancelled:
            return None
        served = record.served if record is not None else set()
        ratio = self.quality.gold_ratio
        if len(served) < self.quality.min_gold_answers:
            ratio = max(ratio, WARM_UP_GOLD_RATIO)
        if _unit_interval(self.id, worker_id, task_id) >= ratio:
            return None
        fresh = [g for g in self.gold_order if g not in served]
        if not fresh:
            return None
        # Each worker walks the gold items in its own order: no item is everyone's first.
        return min(fresh, key=lambda g: _unit_interval(worker_id, g))

    def judge(self, task_id: UUID, result: Any) -> bool:
        return canonical(answer_at(self.answer_pointer, result)) == canonical(self.gold[task_id])

    # --- cancelling ----------------------------------------------------------------
    def cancel(self, requester_id: UUID) -> None:
        self.check_owner(requester_id)
        ensure(not self.cancelled, "BATCH_NOT_OPEN", "the batch is already cancelled",
               ["batchId"])
        self._cancelled()

    @event("Cancelled")
    def _cancelled(self) -> None:
        self.cancelled = True


class BatchWorker(Aggregate):
    """A worker's standing in one batch: gold served, answered, right; blocked or not.

    Its own small aggregate (not part of the Batch): a claim checks it without replaying
    every other worker's record, and workers never contend on one stream.
    """

    @staticmethod
    def create_id(batch_id: UUID, worker_id: UUID) -> UUID:
        return batch_worker_id(batch_id, worker_id)

    @event("Joined")
    def __init__(self, batch_id: UUID, worker_id: UUID):
        self.batch_id = batch_id
        self.worker_id = worker_id
        self.served: set[UUID] = set()
        self.answered = 0
        self.correct = 0
        self.blocked = False

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None

    def check_may_work(self) -> None:
        ensure(not self.blocked, "NOT_QUALIFIED",
               "the worker is blocked from this batch (gold accuracy too low)", ["taskId"])

    def serve_gold(self, task_id: UUID) -> None:
        """A worker claims a gold item: each at most once per worker."""
        ensure(task_id not in self.served, "ALREADY_CLAIMED",
               "the worker already had this item", ["taskId"])
        self._gold_served(task_id=task_id)

    @event("GoldServed")
    def _gold_served(self, task_id: UUID) -> None:
        self.served.add(task_id)

    def record_gold_answer(self, task_id: UUID, correct: bool, rules: QualityRules) -> bool:
        """Count a gold answer; True when it got the worker blocked."""
        self._gold_answered(batch_id=self.batch_id, worker_id=self.worker_id,
                            task_id=task_id, correct=correct)
        if (not self.blocked and self.answered >= max(rules.min_gold_answers, 1)
                and self.correct < rules.min_gold_accuracy * self.answered):
            self._blocked(batch_id=self.batch_id, worker_id=self.worker_id,
                          answered=self.answered, correct=self.correct)
            return True
        return False

    @event("GoldAnswered")
    def _gold_answered(self, batch_id: UUID, worker_id: UUID, task_id: UUID,
                       correct: bool) -> None:
        self.answered += 1
        self.correct += 1 if correct else 0

    @event("Blocked")
    def _blocked(self, batch_id: UUID, worker_id: UUID, answered: int, correct: int) -> None:
        self.blocked = True


def item_task_id(batch_id: UUID, idempotency_key: str, index: int) -> UUID:
    return ids.derived_id("batch-item", batch_id, idempotency_key, index)


def batch_worker_id(batch_id: UUID, worker_id: UUID) -> UUID:
    return ids.derived_id("batch-worker", batch_id, worker_id)


def batch_id_for_key(requester_id: UUID, idempotency_key: str) -> UUID:
    return ids.derived_id("batch", requester_id, idempotency_key)
