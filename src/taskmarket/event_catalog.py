"""Every event type the domain can record, and the data fields each one carries.

One list for whoever must know them all: the docs generator, the presenter's test, and
the webhook catalog (which picks the deliverable ones).
"""

from __future__ import annotations

import dataclasses

from eventsourcing.domain import Aggregate, _created_event_classes

from .domain import ApiKey, Payout, Requester, Task, Worker
from .domain.webhook import WebhookEndpoint
from .events import _ENVELOPE, _is_private, camel

AGGREGATES = (Requester, Worker, Task, Payout, ApiKey, WebhookEndpoint)


def own_event_classes(aggregate: type) -> list[type]:
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


def all_event_classes() -> list[type]:
    return [cls for aggregate in AGGREGATES for cls in own_event_classes(aggregate)]


def data_fields(cls: type) -> dict[str, str]:
    """The public ``data`` fields of an event class (camelCase) and their Python types."""
    return {camel(field.name): str(field.type) for field in dataclasses.fields(cls)
            if field.name not in _ENVELOPE and not _is_private(field.name)}
