"""Batches: createBatch, addBatchItems, cancelBatch, the batches list, Batch and its links."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from ..domain import Money as DomainMoney, Role
from ..domain.batch import AggregationMethod as DomainAggregation
from ..domain.batch import BatchItem, BatchSpec, BatchStatus as DomainBatchStatus, QualityRules
from ..global_ids import decode_one, to_global_id
from . import visibility
from .auth import REQUESTER, Viewer
from .context import Context, ctx
from .errors import ClientError, UserError
from .mutation import Caller, Done, Shown, run_mutation, returned
from .pagination import Connection, connection, page_size
from .types import (
    Money, MoneyInput, Node, Requester, Task, Worker, forbidden_field, load_requester,
)

AggregationMethod = strawberry.enum(DomainAggregation)
BatchStatus = strawberry.enum(DomainBatchStatus)


@strawberry.input
class QualityRulesInput:
    gold_ratio: float = strawberry.field(description="Share of the items a worker is given "
                                         "that are control (gold) items, 0..0.5.")
    min_gold_answers: int = strawberry.field(description="Gold answers a worker gives before "
                                             "its accuracy is judged.")
    min_gold_accuracy: float = strawberry.field(description="Below this accuracy on gold "
                                                "(0..1), the worker is blocked from the batch.")


@strawberry.input
class CreateBatchInput:
    title: str
    instructions: str
    answer_schema: JSON = strawberry.field(description="JSON Schema every submitted result "
                                           "must satisfy.")
    answer_pointer: Optional[str] = strawberry.field(
        default=None, description="JSON Pointer to the part of the result that is "
        "aggregated and compared with gold; the whole result when omitted.")
    reward: MoneyInput = strawberry.field(description="Paid per accepted answer.")
    overlap: int = strawberry.field(description="Answers wanted per item.")
    required_skills: Optional[list[str]] = strawberry.field(default_factory=list)
    claim_timeout_seconds: Optional[int] = 3600
    auto_approve_after_seconds: Optional[int] = None
    quality: Optional[QualityRulesInput] = None
    aggregation: Optional[AggregationMethod] = DomainAggregation.MAJORITY_VOTE
    idempotency_key: Optional[str] = None


@strawberry.input
class BatchItemInput:
    payload: JSON
    gold_answer: Optional[JSON] = strawberry.field(
        default=strawberry.UNSET, description="The known answer (at answerPointer): makes "
        "this a control item. Never shown to workers.")


@strawberry.input
class AddBatchItemsInput:
    batch_id: strawberry.ID
    items: list[BatchItemInput] = strawberry.field(description="At most 1000 per call.")
    idempotency_key: str


@strawberry.input
class CancelBatchInput:
    batch_id: strawberry.ID


@strawberry.type
class Consensus:
    answer: Optional[JSON]
    confidence: float = strawberry.field(description="0..1")
    method: AggregationMethod
    answers: int

    @classmethod
    def from_row(cls, row: Any) -> "Consensus":
        return cls(answer=row.answer, confidence=row.confidence,
                   method=AggregationMethod(row.method), answers=row.answers)


@strawberry.type
class BatchResult:
    task: Task
    consensus: Optional[Consensus]


@strawberry.type
class WorkerQuality:
    gold_answered: int
    gold_correct: int
    accuracy: Optional[float] = strawberry.field(description="Null before the first gold "
                                                 "answer.")
    blocked: bool
    row: strawberry.Private[Any]

    @strawberry.field
    async def worker(self, info: strawberry.Info) -> Worker:
        return Worker.from_row(await ctx(info).loaders.workers.load(self.row.worker_id))


@strawberry.type
class WorkerQualitySummary:
    accepted: int
    rejected: int
    gold_answered: int
    gold_correct: int
    gold_accuracy: Optional[float] = strawberry.field(description="Null before the first "
                                                      "gold answer.")


async def worker_quality_summary(info: strawberry.Info, worker_id: UUID | None
                                 ) -> Optional[WorkerQualitySummary]:
    """Worker.quality: null for another worker's key."""
    context = ctx(info)
    viewer = context.need_viewer()
    if worker_id is None or (viewer.role == Role.WORKER and viewer.subject_id != worker_id):
        return None
    stats = await context.loaders.worker_stats.load(worker_id)
    answered, correct = await context.loaders.gold_totals.load(worker_id) or (0, 0)
    return WorkerQualitySummary(
        accepted=stats.accepted if stats else 0, rejected=stats.rejected if stats else 0,
        gold_answered=answered, gold_correct=correct,
        gold_accuracy=correct / answered if answered else None)


def sees_batch(viewer: Viewer, row: Any) -> bool:
    """A batch is read by whoever may see its items: its requester's keys, ADMIN and
    FINANCE, and workers (who need its instructions and answer schema)."""
    return viewer.role == Role.WORKER or visibility.sees_task(viewer, row)


@strawberry.type
class Batch(Node):
    title: str
    instructions: str
    status: BatchStatus
    answer_schema: JSON
    reward: Money
    overlap: int
    aggregation: AggregationMethod
    item_count: int
    completed_count: int = strawberry.field(description="Items whose consensus is known.")
    created_at: datetime
    row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> "Batch":
        return cls(
            id=strawberry.ID(to_global_id("Batch", row.id)), title=row.title,
            instructions=row.instructions, status=BatchStatus(row.status),
            answer_schema=row.answer_schema,
            reward=Money(amount=row.reward_amount, currency=row.currency),
            overlap=row.overlap, aggregation=AggregationMethod(row.aggregation),
            item_count=row.item_count, completed_count=row.completed_count,
            created_at=row.created_at, row=row)

    @strawberry.field
    async def requester(self, info: strawberry.Info) -> Requester:
        return await load_requester(info, self.row.requester_id)

    def _check_owner_view(self, info: strawberry.Info, what: str) -> Context:
        context = ctx(info)
        if not visibility.sees_task_work(context.need_viewer(), self.row):
            raise forbidden_field(what)
        return context

    @strawberry.field
    async def tasks(self, info: strawberry.Info, first: Optional[int] = None,
                    after: Optional[str] = None) -> Connection[Task]:
        context = self._check_owner_view(info, "this batch's items")
        size = page_size(first)
        rows = await context.call(context.reads.batch_tasks, self.row.id, size + 1, after)
        return connection(rows, size, Task.from_row)

    @strawberry.field
    async def results(self, info: strawberry.Info, first: Optional[int] = None,
                      after: Optional[str] = None) -> Connection[BatchResult]:
        context = self._check_owner_view(info, "this batch's results")
        size = page_size(first)
        rows = await context.call(context.reads.batch_tasks, self.row.id, size + 1, after,
                                  True)
        found = await context.call(context.reads.consensus, [row.id for row in rows[:size]])

        def result(row: Any) -> BatchResult:
            agreed = found.get(row.id)
            return BatchResult(task=Task.from_row(row),
                               consensus=Consensus.from_row(agreed) if agreed else None)

        return connection(rows, size, result)

    @strawberry.field(description="REQUESTER (owner) and ADMIN.")
    async def worker_quality(self, info: strawberry.Info, first: Optional[int] = None,
                             after: Optional[str] = None) -> Connection[WorkerQuality]:
        context = ctx(info)
        viewer = context.need_viewer()
        if not (viewer.role == Role.ADMIN
                or visibility.owns_requester(viewer, self.row.requester_id)):
            raise forbidden_field("this batch's worker quality")
        size = page_size(first)
        rows = await context.call(context.reads.batch_worker_quality, self.row.id, size + 1,
                                  after)
        return connection(rows, size, lambda row: WorkerQuality(
            gold_answered=row.gold_answered, gold_correct=row.gold_correct,
            accuracy=row.accuracy, blocked=row.blocked, row=row))


async def load_batch(context: Context, batch_id: UUID) -> Optional[Batch]:
    row = await context.loaders.batches.load(batch_id)
    if row is None or not sees_batch(context.need_viewer(), row):
        return None
    return Batch.from_row(row)


async def assignments_shown_to_workers(info: strawberry.Info, row: Any) -> int:
    batch = await ctx(info).loaders.batches.load(row.batch_id)
    return min(row.assignments, batch.overlap) if batch else row.assignments


async def task_batch(info: strawberry.Info, row: Any) -> Optional[Batch]:
    """Task.batch."""
    if getattr(row, "batch_id", None) is None:
        return None
    return await load_batch(ctx(info), row.batch_id)


async def task_consensus(info: strawberry.Info, row: Any) -> Optional[Consensus]:
    """Task.consensus: the item's requester, ADMIN and FINANCE (a worker about to answer
    must not copy it)."""
    context = ctx(info)
    if getattr(row, "batch_id", None) is None:
        return None
    if not visibility.sees_task_work(context.need_viewer(), row):
        return None
    found = await context.loaders.consensus.load(row.id)
    return Consensus.from_row(found) if found else None


@strawberry.type
class CreateBatchPayload:
    batch: Optional[Batch] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AddBatchItemsPayload:
    batch: Optional[Batch] = None
    added: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelBatchPayload:
    batch: Optional[Batch] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def spec_of(input: CreateBatchInput) -> BatchSpec:
    reward = DomainMoney.of(input.reward.amount, input.reward.currency, field="reward")
    quality = input.quality
    rules = QualityRules() if quality is None else QualityRules(
        quality.gold_ratio, quality.min_gold_answers, quality.min_gold_accuracy)
    return BatchSpec(
        title=input.title, instructions=input.instructions, answer_schema=input.answer_schema,
        answer_pointer=input.answer_pointer, reward=reward, overlap=input.overlap,
        required_skills=tuple(input.required_skills or ()),
        claim_timeout_seconds=(3600 if input.claim_timeout_seconds is None
                               else input.claim_timeout_seconds),
        auto_approve_after_seconds=input.auto_approve_after_seconds, quality=rules,
        aggregation=DomainAggregation((input.aggregation or DomainAggregation.MAJORITY_VOTE
                                       ).value))


def items_of(input: AddBatchItemsInput) -> list[BatchItem]:
    # A goldAnswer given (even JSON null, which the domain refuses) makes a control item.
    return [BatchItem(payload=item.payload,
                      gold_answer=None if item.gold_answer is strawberry.UNSET
                      else item.gold_answer,
                      is_gold=item.gold_answer is not strawberry.UNSET)
            for item in input.items]


def batch_shown(index: int | None = None) -> Shown:
    async def show(done: Done[Any]) -> Optional[Batch]:
        return await load_batch(done.context,
                                done.value if index is None else done.value[index])

    return show


@strawberry.type
class BatchMutations:
    @strawberry.mutation(description="REQUESTER.")
    async def create_batch(self, info: strawberry.Info,
                           input: CreateBatchInput) -> CreateBatchPayload:
        def command(caller: Caller) -> UUID:
            return caller.marketplace.create_batch(caller.subject_id, spec_of(input),
                                                   input.idempotency_key)

        return await run_mutation(info, "createBatch", command, CreateBatchPayload,
                                  roles=REQUESTER, batch=batch_shown())

    @strawberry.mutation(description="REQUESTER (owner): escrow for the items is reserved "
                         "from its balance.")
    async def add_batch_items(self, info: strawberry.Info,
                              input: AddBatchItemsInput) -> AddBatchItemsPayload:
        def command(caller: Caller) -> tuple[UUID, int]:
            batch_id = decode_one(input.batch_id, "Batch", "batchId")
            return batch_id, caller.marketplace.add_batch_items(
                batch_id, caller.subject_id, input.idempotency_key, items_of(input))

        return await run_mutation(info, "addBatchItems", command, AddBatchItemsPayload,
                                  roles=REQUESTER, batch=batch_shown(0), added=returned(1))

    @strawberry.mutation(description="REQUESTER (owner): cancels open items and refunds "
                         "their escrow.")
    async def cancel_batch(self, info: strawberry.Info,
                           input: CancelBatchInput) -> CancelBatchPayload:
        def command(caller: Caller) -> UUID:
            batch_id = decode_one(input.batch_id, "Batch", "batchId")
            caller.marketplace.cancel_batch(batch_id, caller.subject_id)
            return batch_id

        return await run_mutation(info, "cancelBatch", command, CancelBatchPayload,
                                  roles=REQUESTER, batch=batch_shown())


@strawberry.type
class BatchQueries:
    @strawberry.field(description="A requester's own batches; ADMIN sees all.")
    async def batches(self, info: strawberry.Info, first: Optional[int] = None,
                      after: Optional[str] = None) -> Connection[Batch]:
        context = ctx(info)
        viewer = context.need_viewer()
        size = page_size(first)
        if viewer.role == Role.REQUESTER:
            owner = viewer.subject_id
        elif viewer.sees_everything:
            owner = None
        else:
            raise ClientError("batches are listed for their requester, ADMIN and FINANCE",
                              "FORBIDDEN")
        rows = await context.call(context.reads.batch_list, owner, size + 1, after)
        return connection(rows, size, Batch.from_row)


