"""The composition root: builds the application and its collaborators from settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .application import Marketplace
from .clock import utc_now
from .database import Database

POOL = {
    "POSTGRES_POOL_SIZE": "8",
    "POSTGRES_MAX_OVERFLOW": "32",
    "POSTGRES_CONNECT_TIMEOUT": "10",
    "POSTGRES_LOCK_TIMEOUT": "0",
}


def build_marketplace(database: Database, clock: Callable[[], datetime] = utc_now,
                      **env: str) -> Marketplace:
    """The event-sourced application on ``database`` (its tables are created if missing)."""
    settings = {**database.eventsourcing_env(), **POOL, **env}
    return Marketplace(env=settings, clock=clock)


def build_read_models(database: Database):
    """The query API over the projections' tables (its own small connection pool)."""
    from .projections.reads import ReadModels

    return ReadModels.from_database(database)


def start_projections(database: Database, marketplace: Marketplace | None = None,
                      names: list[str] | None = None):
    """Keep the read models up to date in a background thread; ``.stop()`` ends it."""
    from .projections.runner import ProjectionRunner

    mapper = marketplace.mapper if marketplace is not None else None
    return ProjectionRunner(database, names, mapper=mapper).start_in_thread()
