"""Brings a database up to date: the event store's tables and the app's own migrations."""

from __future__ import annotations

from .bootstrap import build_marketplace
from .database import Database
from .jobs.broker import init_postgres_queue
from .migrations import apply_migrations


def prepare_database(database: Database) -> None:
    """Create the event store tables and apply pending migrations (idempotent)."""
    app = build_marketplace(database)  # eventsourcing creates its tables on construction
    app.close()
    apply_migrations(database)
    init_postgres_queue(database)  # the PostgreSQL broker's queue tables (dramatiq-postgres)
