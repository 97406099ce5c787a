"""Which event types a webhook can subscribe to (the domain decides: domain/catalog.py)."""

from __future__ import annotations

from ..domain.catalog import DELIVERABLE_AGGREGATES, deliverable_types, deliverable_types_except
from ..event_visibility import EventVisibility

__all__ = ["DELIVERABLE_AGGREGATES", "deliverable_types", "visible_types"]


def visible_types(visibility: EventVisibility) -> frozenset[str]:
    """The deliverable types an endpoint with ``visibility`` may receive (and ask for)."""
    return deliverable_types_except(visibility.hidden_kinds)
