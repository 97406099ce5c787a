"""The served schema: the contract's queries, mutations and subscription, merged."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from .batch_types import Batch
from .batches import BatchMutations, BatchQueries
from .books import BooksQueries
from .directory import ApiKeyInfo, DirectoryQueries
from .execution import PlainLeafExecutor, SubscriptionSafeExecutor
from .finance import FinanceQueries
from .funds import FundsMutations
from .limits import extensions
from .payout_accounts import PayoutAccountMutations
from .payouts import PayoutMutations
from .people import PeopleMutations
from .queries import Queries
from .reconciliation import (
    ReconciliationMutations, ReconciliationQueries, ReconciliationRun,
)
from .reviews import ReviewMutations
from .scalars import SCALAR_MAP
from .subscriptions import Subscriptions
from .tasks import TaskMutations
from .payout_types import Payout
from .types import Claim, Requester, Submission, Task, Worker
from .webhook_queries import WebhookQueries
from .webhook_types import WebhookDelivery, WebhookEndpoint
from .webhooks import WebhookMutations
from .work import WorkMutations

Query = merge_types("Query", (Queries, FinanceQueries, WebhookQueries, DirectoryQueries,
                              BatchQueries, BooksQueries, ReconciliationQueries))
Mutation = merge_types("Mutation", (
    PeopleMutations, FundsMutations, TaskMutations, WorkMutations, ReviewMutations,
    PayoutMutations, WebhookMutations, PayoutAccountMutations, BatchMutations,
    ReconciliationMutations,
))


def build_schema(caches: bool = True, plain_leaves: bool = True) -> strawberry.Schema:
    """The schema, reading plain leaf fields directly (graphql/execution.py);
    ``plain_leaves=False`` executes every field through graphql-core's general path (the
    reference the short path is tested against: tests/integration/test_graphql_plain_leaves.py)."""
    return strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscriptions,
        types=[Requester, Worker, Task, Claim, Submission, Payout, WebhookEndpoint,
               WebhookDelivery, ApiKeyInfo, Batch, ReconciliationRun],
        extensions=extensions(caches), config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=PlainLeafExecutor if plain_leaves else SubscriptionSafeExecutor,
    )


schema = build_schema()


def served_sdl() -> str:
    return schema.as_str() + "\n"
