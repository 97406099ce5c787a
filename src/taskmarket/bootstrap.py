"""The composition root: builds every service from settings, and the processes' parts.

`cli.py` (serve, worker, the commands), `web.py` and `database_setup.py` ask this module
for what they run; nothing below it (application, read models, jobs, webhooks, GraphQL)
builds its own collaborators or imports this module. Builders of heavy adapters (Dramatiq,
the webhook engine, the GraphQL services, even the database driver) import them when
called, so the CLI starts quickly; none of those modules imports this one back
(tests/unit/test_import_contracts.py).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .application import Marketplace
from .clock import utc_now
from .domain import DomainError
from .settings import Settings

if TYPE_CHECKING:
    from .database import Database

log = logging.getLogger(__name__)

POOL = {
    "POSTGRES_POOL_SIZE": "8",
    "POSTGRES_MAX_OVERFLOW": "32",
    "POSTGRES_CONNECT_TIMEOUT": "10",
    "POSTGRES_LOCK_TIMEOUT": "0",
}
# Concurrent saves share one locked transaction: gap-free log, ~N saves per lock (see module).
EVENT_STORE = {
    "APPLICATION_RECORDER_TOPIC": "taskmarket.persistence.recorder:GroupCommitRecorder",
    # The library's JSON, the same bytes, written by orjson (persistence/transcoder.py).
    "TRANSCODER_TOPIC": "taskmarket.persistence.transcoder:OrjsonJSONTranscoder",
    # Tasks and requesters (the long-lived kinds) load from a snapshot + the tail; other
    # kinds and a claim's worker + task replay in one query (Marketplace._load).
    "IS_SNAPSHOTTING_ENABLED": "y",
}


# --- the application and the read side ----------------------------------------------
def build_marketplace(database: Database, clock: Callable[[], datetime] = utc_now,
                      **env: str) -> Marketplace:
    """The event-sourced application on ``database`` (its tables are created if missing),
    with what it reaches past the event store: open tasks to claim (a read-model query),
    the webhook tables, and the check of a webhook URL's destination."""
    from .persistence.mapping import event_mapper
    from .projections.open_tasks import OpenTasks
    from .webhooks.records import WebhookRecords
    from .webhooks.targets import check_target

    settings = {**database.eventsourcing_env(), **POOL, **EVENT_STORE, **env}
    return Marketplace(env=settings, clock=clock,
                       task_candidates=OpenTasks(database, event_mapper(settings)),
                       webhook_records=WebhookRecords(database),
                       check_webhook_target=check_target)


def build_read_models(database: Database):
    """The query API over the projections' tables (its own small connection pool)."""
    from .projections.reads import ReadModels

    return ReadModels.from_database(database)


def build_projection_runner(database: Database, names: list[str] | None = None,
                            marketplace: Marketplace | None = None):
    """The runner of the projections ``names`` (all by default); ``.catch_up()`` once, or
    follow the log (``run_forever``, ``start_in_thread``)."""
    from .projections.runner import ProjectionRunner

    mapper = marketplace.mapper if marketplace is not None else None
    return ProjectionRunner(database, names, mapper=mapper)


def start_projections(database: Database, marketplace: Marketplace | None = None,
                      names: list[str] | None = None):
    """Keep the read models up to date in a background thread; ``.stop()`` ends it."""
    return build_projection_runner(database, names, marketplace).start_in_thread()


def start_webhooks(database: Database, marketplace: Marketplace):
    """Deliver webhooks from background threads; ``.stop()`` ends them."""
    from .webhooks.engine import WebhookEngine

    engine = WebhookEngine(database, marketplace)
    engine.start()
    return engine


# --- Stripe and the jobs -------------------------------------------------------------
def build_broker(database: Database, redis_url: str | None = None):
    """Dramatiq's broker: Redis when configured, else the queue in PostgreSQL."""
    from .jobs.broker import build_broker as build

    return build(database, redis_url)


def build_stripe(settings: Settings, *, start_emulator: bool):
    """The Stripe gateway (real with STRIPE_API_KEY, else the emulator) and webhook secret."""
    from .jobs.runtime import connect_stripe

    return connect_stripe(settings.stripe_api_key, settings.stripe_webhook_secret,
                          settings.data_dir, start_emulator=start_emulator)


def reconciler_factory(marketplace: Marketplace, reads, settings: Settings | None = None):
    """A function that builds the Stripe reconciler when first called: with STRIPE_API_KEY
    real Stripe, else the emulator that `taskmarket serve` started (or STRIPE_API_BASE)."""
    from .finance.reconcile import Reconciler

    @functools.cache
    def build():
        chosen = settings or Settings.from_env()
        try:
            stripe_setup = build_stripe(chosen, start_emulator=False)
        except RuntimeError as error:
            raise DomainError("NOT_CONFIGURED", str(error)) from None
        return Reconciler(marketplace, reads, lambda: stripe_setup.gateway.client)

    return build


def daily_reconciler(database: Database, marketplace: Marketplace, gateway):
    """The reconciler the daily reconciliation uses, built (read models and all) on first
    use: most processes stop long before their first daily check."""
    from .finance.reconcile import Reconciler

    @functools.cache
    def build():
        return Reconciler(marketplace, build_read_models(database), lambda: gateway.client)

    return build


def start_for_serve(database: Database, marketplace: Marketplace, settings: Settings,
                    public_url: str, *, run_worker: bool = True):
    """What `taskmarket serve` runs next to the API: the outbox, the sweeper, the daily
    reconciliation and (unless workers run separately) a Dramatiq worker; plus the Stripe
    emulator without a key. Returns (background, stripe setup); stop the one, close the
    other."""
    from .jobs.runtime import start_background

    stripe_setup = stripe_for_serve(settings, public_url)
    broker = build_broker(database, settings.redis_url)
    background = start_background(
        database, marketplace, broker, stripe_setup.gateway, run_worker=run_worker,
        reconciler=daily_reconciler(database, marketplace, stripe_setup.gateway))
    return background, stripe_setup


class StartedFollowers:
    """The log's followers one process runs; ``stop()`` ends them, newest first."""

    def __init__(self, *running: Any):
        self.running = [each for each in running if each is not None]

    def stop(self) -> None:
        for each in reversed(self.running):
            each.stop()


def start_log_followers(database: Database, marketplace: Marketplace, settings: Settings,
                        *, projections: bool = True) -> StartedFollowers:
    """What serve's followers process runs: the projections (unless they run elsewhere),
    the outbox, the sweeper, the daily reconciliation and the webhook deliveries; Stripe is
    reached, not started (the supervisor runs the emulator)."""
    from .jobs.runtime import start_background

    gateway = build_stripe(settings, start_emulator=False).gateway
    runner = start_projections(database, marketplace) if projections else None
    background = start_background(
        database, marketplace, build_broker(database, settings.redis_url), gateway,
        run_worker=False, reconciler=daily_reconciler(database, marketplace, gateway))
    return StartedFollowers(runner, background, start_webhooks(database, marketplace))


def stripe_for_serve(settings: Settings, public_url: str):
    """Stripe as `taskmarket serve` connects it: without a key, the emulator it starts,
    told to send its webhooks to this server (the secret it signs them with is kept)."""
    stripe_setup = build_stripe(settings, start_emulator=True)
    if stripe_setup.emulator is not None:
        secret = stripe_setup.emulator.state.configure_webhooks(
            f"{public_url}/webhooks/stripe", settings.stripe_webhook_secret)
        stripe_setup.webhook_secret = secret
    return stripe_setup


def run_worker_process(data_dir: Path, threads: int, log_level: str | None = None,
                       on_running: Callable[[], None] | None = None) -> None:
    """One `taskmarket worker` process: Dramatiq worker threads until SIGTERM/SIGINT."""
    import signal

    from .database import open_database
    from .jobs.runtime import start_background
    from .logs import configure_logging

    if log_level:  # a spawned child starts with no logging configuration
        configure_logging(log_level)

    settings = Settings.from_env(data_dir)
    database = open_database(settings.data_dir, settings.database_url)
    marketplace = build_marketplace(database)
    stripe_setup = build_stripe(settings, start_emulator=False)
    broker = build_broker(database, settings.redis_url)
    background = start_background(database, marketplace, broker, stripe_setup.gateway,
                                  dispatch=False, worker_threads=threads)
    webhooks = start_webhooks(database, marketplace)  # more senders; leases keep order
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    log.info("worker process %d running %d threads", os.getpid(), threads)
    if on_running is not None:  # serve's supervisor waits for its processes to run
        on_running()
    done.wait()
    webhooks.stop()
    background.stop()
    marketplace.close()


# --- the web app ---------------------------------------------------------------------
def build_web_services(database: Database, marketplace: Marketplace, reads,
                       settings: Settings | None = None, stripe_setup=None):
    """What the GraphQL API needs: the application, the read models, the revocation
    follower, the keys already seen, payout accounts when this process has a Stripe
    connection (``stripe_setup``) and the reconciler (built on first use)."""
    from .graphql.context import Services
    from .graphql.known_keys import KnownKeys
    from .graphql.revocation import KeyRevocations
    from .payout_accounts import PayoutAccounts

    payout_accounts = (PayoutAccounts(marketplace, stripe_setup.gateway)
                       if stripe_setup is not None else None)
    return Services(marketplace, reads, payout_accounts=payout_accounts,
                    revocations=KeyRevocations(database, marketplace),
                    keys=KnownKeys(database, marketplace),
                    reconciler_factory=reconciler_factory(marketplace, reads, settings))
