"""Running the workers' parts in a process: Stripe, Dramatiq worker, dispatcher, sweeper."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import dramatiq

from ..application import Marketplace
from ..database import Database
from .actors import Actors, PayoutWorker, Services, register_actors
from .dispatcher import Dispatcher
from .schedule import WorkStore, open_pool
from .stripe_gateway import StripeGateway
from .sweeper import Sweeper

log = logging.getLogger(__name__)

EMULATOR_URL_FILE = "stripe-emulator.url"
EMULATOR_STATE_FILE = "stripe-emulator.sqlite3"  # accounts, transfers... across restarts
# Well above the actors' longest retry backoff (30 s): a payout whose attempts are merely
# backing off touches its row often enough that the sweeper leaves it alone.
RESEND_AFTER_SECONDS = 120.0


@dataclass
class StripeSetup:
    gateway: StripeGateway
    webhook_secret: str | None
    emulator: object | None = None  # a RunningEmulator when we started one
    url_file: Path | None = None  # where worker processes find that emulator

    def close(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()
        if self.url_file is not None:
            self.url_file.unlink(missing_ok=True)  # workers must not pay into a dead one


def connect_stripe(api_key: str | None, webhook_secret: str | None, data_dir: Path | None,
                   *, start_emulator: bool) -> StripeSetup:
    """Real Stripe with an API key; otherwise the emulator (ours, or one serve started)."""
    if api_key:
        log.info("Stripe: live API (STRIPE_API_KEY is set)")
        return StripeSetup(StripeGateway.connect(api_key), webhook_secret)
    base = os.environ.get("STRIPE_API_BASE")
    url_file = data_dir / EMULATOR_URL_FILE if data_dir else None
    if not base and not start_emulator and url_file and url_file.exists():
        base = url_file.read_text().strip()
    if base:
        log.info("Stripe: emulator at %s (STRIPE_API_KEY is unset)", base)
        return StripeSetup(StripeGateway.connect(None, base), webhook_secret)
    if not start_emulator:
        raise RuntimeError("STRIPE_API_KEY is unset and no Stripe emulator is running: "
                           "start `taskmarket serve` first or set STRIPE_API_BASE")
    from ..stripe_emulator import EmulatorConfig, start_emulator as start

    state_path = data_dir / EMULATOR_STATE_FILE if data_dir else None
    emulator = start(config=EmulatorConfig(state_path=state_path))
    log.warning("Stripe: STRIPE_API_KEY is unset, so payouts go to the in-process Stripe "
                "emulator at %s (no real money moves)", emulator.url)
    if url_file is not None:
        # With DATABASE_URL nothing else creates the data dir.
        url_file.parent.mkdir(parents=True, exist_ok=True)
        url_file.write_text(emulator.url)
    return StripeSetup(StripeGateway.connect(None, emulator.url), webhook_secret, emulator,
                       url_file)


def build_services(database: Database, marketplace: Marketplace,
                   gateway: StripeGateway) -> Services:
    return Services(marketplace, gateway, WorkStore(open_pool(database)))


@dataclass
class Background:
    """The worker-side threads of one process; ``stop()`` ends them all."""

    broker: dramatiq.Broker
    actors: Actors
    services: Services
    worker: dramatiq.Worker | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=10)
        if self.worker is not None:
            self.worker.stop(timeout=10_000)
        self.broker.close()
        self.services.work.pool.close()


def start_background(database: Database, marketplace: Marketplace, broker: dramatiq.Broker,
                     gateway: StripeGateway, *, dispatch: bool = True,
                     run_worker: bool = True, worker_threads: int = 4,
                     sweep_interval: float = 1.0, resend_after: float = RESEND_AFTER_SECONDS,
                     payout_worker: type[PayoutWorker] = PayoutWorker) -> Background:
    """Start what this process runs: dispatcher + sweeper and/or a Dramatiq worker."""
    services = build_services(database, marketplace, gateway)
    actors = register_actors(broker, services, payout_worker(services))
    background = Background(broker, actors, services)
    if dispatch:
        dispatcher = Dispatcher(marketplace, services.work, actors)
        sweeper = Sweeper(services.work, actors, resend_after_seconds=resend_after)
        background.threads = [
            threading.Thread(target=dispatcher.run, args=(database, background.stop_event),
                             name="taskmarket-dispatcher", daemon=True),
            threading.Thread(target=sweeper.run, args=(background.stop_event, sweep_interval),
                             name="taskmarket-sweeper", daemon=True),
            daily_reconciliation_thread(database, marketplace, gateway, background.stop_event),
        ]
        for thread in background.threads:
            thread.start()
    if run_worker:
        broker.emit_after("process_boot")
        background.worker = dramatiq.Worker(broker, worker_threads=worker_threads,
                                            worker_timeout=100)
        background.worker.start()
    return background


def daily_reconciliation_thread(database: Database, marketplace: Marketplace,
                                gateway: StripeGateway,
                                stop: threading.Event) -> threading.Thread:
    """Reconciles yesterday with Stripe once a day (its read models opened on first use)."""
    import functools

    from ..bootstrap import build_read_models
    from ..finance.reconcile import Reconciler
    from ..finance.schedule import DailyReconciliation

    @functools.cache
    def reconciler() -> Reconciler:
        return Reconciler(marketplace, build_read_models(database), lambda: gateway.client)

    daily = DailyReconciliation(reconciler, marketplace.clock)
    return threading.Thread(target=daily.run, args=(stop,), name="taskmarket-reconciliation",
                            daemon=True)


def start_for_serve(database: Database, marketplace: Marketplace, settings, public_url: str,
                    *, run_worker: bool = True) -> tuple[Background, StripeSetup]:
    """What `taskmarket serve` runs next to the API: the outbox, the sweeper and (unless
    workers run separately) a Dramatiq worker; plus the Stripe emulator without a key."""
    from ..bootstrap import build_broker

    stripe_setup = stripe_for_serve(settings, public_url)
    broker = build_broker(database, settings.redis_url)
    background = start_background(database, marketplace, broker, stripe_setup.gateway,
                                  run_worker=run_worker)
    return background, stripe_setup


def stripe_for_serve(settings, public_url: str) -> StripeSetup:
    """Stripe as `taskmarket serve` connects it: without a key, the emulator it starts,
    told to send its webhooks to this server (the secret it signs them with is kept)."""
    from ..bootstrap import build_stripe

    stripe_setup = build_stripe(settings, start_emulator=True)
    if stripe_setup.emulator is not None:
        secret = stripe_setup.emulator.state.configure_webhooks(
            f"{public_url}/webhooks/stripe", settings.stripe_webhook_secret)
        stripe_setup.webhook_secret = secret
    return stripe_setup


def run_worker_process(data_dir: Path, threads: int, log_level: str | None = None,
                       on_running=None) -> None:
    """One `taskmarket worker` process: Dramatiq worker threads until SIGTERM/SIGINT."""
    import signal

    from ..bootstrap import build_broker, build_marketplace, build_stripe, start_webhooks
    from ..database import open_database
    from ..logs import configure_logging
    from ..settings import Settings

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
