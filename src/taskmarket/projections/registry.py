"""Every projection by name. A projection's tables are rebuilt together."""

from __future__ import annotations

from . import (
    api_keys, batches, event_log, ledger, payouts, reconciliations, requesters, tasks,
    webhook_endpoints, workers,
)
from .base import Projection

PROJECTIONS: dict[str, Projection] = {p.name: p for p in (
    event_log.PROJECTION, requesters.PROJECTION, workers.PROJECTION, tasks.PROJECTION,
    payouts.PROJECTION, ledger.PROJECTION, api_keys.PROJECTION,
    batches.PROJECTION, reconciliations.PROJECTION, webhook_endpoints.PROJECTION,
)}


def select(names: list[str] | tuple[str, ...] | None = None) -> list[Projection]:
    """Projections by name (all when None); unknown names raise KeyError naming them."""
    if not names:
        return list(PROJECTIONS.values())
    unknown = [name for name in names if name not in PROJECTIONS]
    if unknown:
        raise KeyError(f"unknown projection(s): {', '.join(unknown)}; "
                       f"known: {', '.join(PROJECTIONS)}")
    return [PROJECTIONS[name] for name in names]
