"""Which event types a webhook can subscribe to.

Only events of the aggregates a requester owns are deliverable: its tasks (claims and
submissions included), its own account and the payouts it funds. Webhook endpoints and
API keys are configuration and credentials, never delivered, whatever their owner.
"""

from __future__ import annotations

from functools import cache

from eventsourcing.domain import Aggregate, _created_event_classes

from ..domain import Payout, Requester, Task
from ..event_visibility import EventVisibility
from ..events import event_type

DELIVERABLE_AGGREGATES = (Task, Requester, Payout)


def _own_event_classes(aggregate: type) -> list[type]:
    """The events an aggregate can record: its decorated ones and its one created event.

    eventsourcing also generates base classes (``Task.Event``, an unused ``Task.Created``)
    that are never recorded; they are left out.
    """
    prefix = aggregate.__name__ + "."
    created = set(_created_event_classes.get(aggregate, []))
    found = []
    for value in vars(aggregate).values():
        if not (isinstance(value, type) and issubclass(value, Aggregate.Event)
                and value.__qualname__.startswith(prefix)):
            continue
        if value.__name__ == "Event":
            continue
        if issubclass(value, Aggregate.Created) and value not in created:
            continue
        found.append(value)
    return found


@cache
def deliverable_types() -> frozenset[str]:
    """Public type names (``TaskPosted``...) of every deliverable event."""
    return frozenset(event_type(cls.__qualname__) for aggregate in DELIVERABLE_AGGREGATES
                     for cls in _own_event_classes(aggregate))


@cache
def _types_of_kind() -> dict[str, frozenset[str]]:
    return {aggregate.__name__: frozenset(event_type(cls.__qualname__)
                                          for cls in _own_event_classes(aggregate))
            for aggregate in DELIVERABLE_AGGREGATES}


def visible_types(visibility: EventVisibility) -> frozenset[str]:
    """The deliverable types an endpoint with ``visibility`` may receive (and ask for)."""
    return frozenset().union(*(types for kind, types in _types_of_kind().items()
                               if kind not in visibility.hidden_kinds))
