"""The batch types: a Batch, its results and consensus, workers' quality; and the fields
other types reach them by (Task.batch, Task.consensus, Worker.quality)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from ..domain import Role
from ..domain.batch import AggregationMethod as DomainAggregation
from ..domain.batch import BatchStatus as DomainBatchStatus
from ..global_ids import to_global_id
from . import visibility
from .context import Context, ctx
from .pagination import Connection, connection, page_size
from .types import Money, Node, Requester, Task, Worker, forbidden_field, load_requester

AggregationMethod = strawberry.enum(DomainAggregation)
BatchStatus = strawberry.enum(DomainBatchStatus)


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
    if row is None or not visibility.sees_batch(context.need_viewer(), row):
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
