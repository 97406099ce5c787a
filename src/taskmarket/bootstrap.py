"""The composition root: builds the application and its collaborators from settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .application import Marketplace
from .clock import utc_now
from .database import Database
from .settings import Settings
from .webhooks.records import WebhookRecords
from .jobs.routing import open_task_candidates

POOL = {
    "POSTGRES_POOL_SIZE": "8",
    "POSTGRES_MAX_OVERFLOW": "32",
    "POSTGRES_CONNECT_TIMEOUT": "10",
    "POSTGRES_LOCK_TIMEOUT": "0",
}
# Concurrent saves share one locked transaction: gap-free log, ~N saves per lock (see module).
EVENT_STORE = {
    "APPLICATION_RECORDER_TOPIC": "taskmarket.persistence.recorder:GroupCommitRecorder",
    # Tasks and requesters (the long-lived kinds) load from a snapshot + the tail; other
    # kinds and a claim's worker + task replay in one query (Marketplace._load).
    "IS_SNAPSHOTTING_ENABLED": "y",
}


def build_marketplace(database: Database, clock: Callable[[], datetime] = utc_now,
                      **env: str) -> Marketplace:
    """The event-sourced application on ``database`` (its tables are created if missing)."""
    settings = {**database.eventsourcing_env(), **POOL, **EVENT_STORE, **env}
    marketplace = Marketplace(env=settings, clock=clock)
    marketplace.task_candidates = open_task_candidates(marketplace)
    marketplace.webhook_records = WebhookRecords(database)
    return marketplace


def build_broker(database: Database, redis_url: str | None = None):
    """Dramatiq's broker: Redis when configured, else the queue in PostgreSQL."""
    from .jobs.broker import build_broker as build

    return build(database, redis_url)


def build_stripe(settings: Settings, *, start_emulator: bool):
    """The Stripe gateway (real with STRIPE_API_KEY, else the emulator) and webhook secret."""
    from .jobs.runtime import connect_stripe

    return connect_stripe(settings.stripe_api_key, settings.stripe_webhook_secret,
                          settings.data_dir, start_emulator=start_emulator)


def build_read_models(database: Database):
    """The query API over the projections' tables (its own small connection pool)."""
    from .projections.reads import ReadModels

    return ReadModels.from_database(database)


def start_webhooks(database: Database, marketplace: Marketplace):
    """Deliver webhooks from background threads; ``.stop()`` ends them."""
    from .webhooks.engine import WebhookEngine

    engine = WebhookEngine(database, marketplace)
    engine.start()
    return engine


def start_projections(database: Database, marketplace: Marketplace | None = None,
                      names: list[str] | None = None):
    """Keep the read models up to date in a background thread; ``.stop()`` ends it."""
    from .projections.runner import ProjectionRunner

    mapper = marketplace.mapper if marketplace is not None else None
    return ProjectionRunner(database, names, mapper=mapper).start_in_thread()


def reconciler_factory(marketplace: Marketplace, reads, settings: Settings | None = None):
    """A function that builds the Stripe reconciler when first called: with STRIPE_API_KEY
    real Stripe, else the emulator that `taskmarket serve` started (or STRIPE_API_BASE)."""
    import functools

    from .finance.reconcile import Reconciler

    @functools.cache
    def build():
        chosen = settings or Settings.from_env()
        try:
            stripe_setup = build_stripe(chosen, start_emulator=False)
        except RuntimeError as error:
            from .domain import DomainError
            raise DomainError("NOT_CONFIGURED", str(error)) from None
        return Reconciler(marketplace, reads, lambda: stripe_setup.gateway.client)

    return build
