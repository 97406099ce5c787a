"""Running the workers' parts in a process: Stripe, Dramatiq worker, dispatcher, sweeper.

What a process runs is chosen and built by the composition root (bootstrap.py), which
calls ``start_background`` with what it built."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dramatiq

from ..application import Marketplace
from ..database import Database
from ..finance.reconcile import Reconciler
from ..finance.schedule import DailyReconciliation
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
                     payout_worker: type[PayoutWorker] = PayoutWorker,
                     reconciler: Callable[[], Reconciler] | None = None) -> Background:
    """Start what this process runs: dispatcher + sweeper (+ the daily reconciliation with
    ``reconciler``, built on first use) and/or a Dramatiq worker."""
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
        ]
        if reconciler is not None:
            daily = DailyReconciliation(reconciler, marketplace.clock)
            background.threads.append(threading.Thread(
                target=daily.run, args=(background.stop_event,),
                name="taskmarket-reconciliation", daemon=True))
        for thread in background.threads:
            thread.start()
    if run_worker:
        broker.emit_after("process_boot")
        background.worker = dramatiq.Worker(broker, worker_threads=worker_threads,
                                            worker_timeout=100)
        background.worker.start()
    return background
