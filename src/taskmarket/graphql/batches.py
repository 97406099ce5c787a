"""Batches: createBatch, addBatchItems, cancelBatch and the batches list (the types:
batch_types.py)."""

from __future__ import annotations

from typing import Any, Optional
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from ..domain import Money as DomainMoney, Role
from ..domain.batch import AggregationMethod as DomainAggregation
from ..domain.batch import BatchItem, BatchSpec, QualityRules
from ..global_ids import decode_one
from .auth import REQUESTER
from .batch_types import AggregationMethod, Batch, load_batch
from .context import ctx
from .errors import ClientError, UserError
from .mutation import Caller, Done, Shown, run_mutation, returned
from .pagination import Connection, connection, page_size
from .types import MoneyInput


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


