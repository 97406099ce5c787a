"""What the domain records: each aggregate's event classes, and which a webhook may carry.

Only events of the aggregates a requester owns are deliverable: its tasks (claims and
submissions included), its own account and the payouts it funds. Webhook endpoints and
API keys are configuration and credentials, never delivered, whatever their owner.
"""

from __future__ import annotations

from functools import cache

from eventsourcing.domain import Aggregate

from .apikey import ApiKey
from .batch import Batch, BatchWorker
from .payout import Payout
from .reconciliation import ReconciliationRun
from .requester import Requester
from .task import Task
from .webhook import WebhookEndpoint
from .worker import Worker

AGGREGATES: tuple[type, ...] = (Requester, Worker, Task, Payout, ApiKey, WebhookEndpoint,
                                Batch, BatchWorker, ReconciliationRun)
DELIVERABLE_AGGREGATES: tuple[type, ...] = (Task, Requester, Payout)


def recorded_event_classes(aggregate: type) -> list[type]:
    """The event classes an aggregate records: its decorated events and its created event.

    eventsourcing also gives every aggregate class an ``Event`` base and a default
    ``Created`` event; the default is never recorded when ``__init__`` is decorated with
    another name (``Task.Posted``), so it is left out then (and kept when it is the one).
    """
    prefix = aggregate.__name__ + "."
    own = [value for value in vars(aggregate).values()
           if isinstance(value, type) and issubclass(value, Aggregate.Event)
           and value.__qualname__.startswith(prefix) and value.__name__ != "Event"]
    created = [cls for cls in own if issubclass(cls, Aggregate.Created)]
    if len(created) > 1:
        own = [cls for cls in own if not (cls in created and cls.__name__ == "Created")]
    return own


def public_name(event_class: type) -> str:
    """``Task.Claimed`` -> ``TaskClaimed`` (taskmarket.events names events the same way)."""
    return event_class.__qualname__.replace(".", "")


@cache
def deliverable_types() -> frozenset[str]:
    """Public type names (``TaskPosted``...) of every event a webhook may carry."""
    return frozenset().union(*_deliverable_types_by_kind().values())


@cache
def _deliverable_types_by_kind() -> dict[str, frozenset[str]]:
    return {aggregate.__name__: frozenset(public_name(cls)
                                          for cls in recorded_event_classes(aggregate))
            for aggregate in DELIVERABLE_AGGREGATES}


def deliverable_types_except(hidden_kinds: frozenset[str]) -> frozenset[str]:
    """The deliverable types of every aggregate kind (``Task``...) not in ``hidden_kinds``."""
    return frozenset().union(*(types for kind, types in _deliverable_types_by_kind().items()
                               if kind not in hidden_kinds))
