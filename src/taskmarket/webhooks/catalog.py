"""Which event types a webhook can subscribe to.

Only events of the aggregates a requester owns are deliverable: its tasks (claims and
submissions included), its own account and the payouts it funds. Webhook endpoints and
API keys are configuration and credentials, never delivered, whatever their owner.
"""

from __future__ import annotations

from functools import cache

from ..domain import Payout, Requester, Task
from ..event_catalog import own_event_classes
from ..events import event_type

DELIVERABLE_AGGREGATES = (Task, Requester, Payout)


@cache
def deliverable_types() -> frozenset[str]:
    """Public type names (``TaskPosted``...) of every deliverable event."""
    return frozenset(event_type(cls.__qualname__) for aggregate in DELIVERABLE_AGGREGATES
                     for cls in own_event_classes(aggregate))
