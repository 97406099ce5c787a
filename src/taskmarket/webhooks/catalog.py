"""Which event types a webhook can subscribe to (the domain decides: domain/catalog.py)."""

from __future__ import annotations

from ..domain.catalog import DELIVERABLE_AGGREGATES, deliverable_types

__all__ = ["DELIVERABLE_AGGREGATES", "deliverable_types"]
