"""`taskmarket serve` on several processes, started and stopped together.

One interpreter shares one GIL, so a single serve process tops out near one core however
many the machine has (issue 14's soak: the server at 94% of a core). With
``--multi-process`` (or ``--api-processes N``) serve is a supervisor and its children:

- **API processes** (``--api-processes``, default: the cores, 2 to 4): each runs the
  GraphQL app under uvicorn on the one listening socket the supervisor bound, so the
  kernel spreads connections over them;
- **the followers** (one process): the projections, the webhook engine, the payout
  dispatcher, the sweeper and the daily reconciliation, i.e. everything that follows the
  log;
- **the Dramatiq worker** (one process, unless ``--no-workers``): payouts, lease expiry.

The supervisor itself holds the data dir's serve lock, the embedded PostgreSQL and (with
no STRIPE_API_KEY) the Stripe emulator, and hands the children their addresses through
the environment (DATABASE_URL, STRIPE_API_BASE, STRIPE_WEBHOOK_SECRET), so no child starts
a server of its own. Reads that must see a write wait on the read models' positions in
PostgreSQL (``X-Taskmarket-After-Position``), which works whichever process wrote them.

SIGTERM or SIGINT to the supervisor stops every child, then the supervisor exits; if a
child dies on its own, the supervisor stops the others and exits with status 1 (a process
manager restarts the whole). A child whose supervisor vanished (SIGKILL) stops by itself.
``serve --single-process`` (the default) keeps everything in one process: on the 2-core
development box, loaded by other jobs, the soak (bench figure 11) ran faster that way
(BENCHMARKS.md, issue 14 item 6), the one process using well under a core.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from pathlib import Path

from .bootstrap import (
    build_marketplace, build_read_models, build_stripe, run_worker_process,
    start_log_followers, stripe_for_serve,
)
from .database import Database
from .logs import configure_logging
from .settings import Settings
from .web import create_app

log = logging.getLogger("taskmarket.serve")

STOP_SECONDS = 20.0  # a child that has not stopped after SIGTERM by then is killed
MAX_DEFAULT_API_PROCESSES = 4
ORPHAN_GRACE_SECONDS = 15.0  # an orphaned child still running after SIGTERM then leaves


def default_api_processes() -> int:
    """One API process per core, at least 2 (one may wait on the database while the
    other runs Python) and at most 4 (PostgreSQL and the followers need cores too)."""
    return max(2, min(MAX_DEFAULT_API_PROCESSES, os.cpu_count() or 1))


@dataclass(frozen=True)
class ServePlan:
    """Which processes serve starts."""

    api_processes: int
    projections: bool = True   # keep the read models up to date (followers process)
    worker: bool = True        # a Dramatiq worker process
    worker_threads: int = 8


READY_SECONDS = 180.0  # children import and connect in parallel; a loaded box is slow


@dataclass(frozen=True)
class ChildSetup:
    """What every child needs to join the supervisor's services."""

    data_dir: Path
    env: dict[str, str]
    log_level: str
    public_url: str
    ready: object = None  # a multiprocessing queue: each child puts its name once running

    def say_ready(self, name: str) -> None:
        if self.ready is not None:
            self.ready.put(name)


def child_env(database_url: str, stripe_setup) -> dict[str, str]:
    """The environment that points a child at the supervisor's database and Stripe."""
    env = {"DATABASE_URL": database_url}
    if stripe_setup.emulator is not None:
        env["STRIPE_API_BASE"] = stripe_setup.emulator.url
    if stripe_setup.webhook_secret:
        env["STRIPE_WEBHOOK_SECRET"] = stripe_setup.webhook_secret
    return env


def bind_socket(host: str, port: int) -> socket.socket:
    """The listening socket every API process accepts on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Starts the children, watches them, stops them together."""

    def __init__(self, plan: ServePlan, setup: ChildSetup, sock: socket.socket):
        self.plan = plan
        self.setup = setup
        self.sock = sock
        self.children: list[multiprocessing.process.BaseProcess] = []
        self._stop = threading.Event()

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.setup = replace(self.setup, ready=context.Queue())
        parts: list[tuple[str, object, tuple]] = [
            ("followers", run_followers, (self.setup, self.plan.projections))]
        if self.plan.worker:
            parts.append(("worker", run_worker, (self.setup, self.plan.worker_threads)))
        parts += [(f"api-{n}", run_api, (self.setup, self.sock))
                  for n in range(self.plan.api_processes)]
        for name, target, args in parts:
            child = context.Process(target=target, args=args, name=f"taskmarket-{name}")
            child.start()
            self.children.append(child)
        log.info("serve: %d processes started (%s)", len(self.children),
                 ", ".join(f"{c.name} pid {c.pid}" for c in self.children))

    def wait_ready(self) -> bool:
        """Until every child says it runs (True), or one dies or time is up (False)."""
        waiting = len(self.children)
        deadline = time.monotonic() + READY_SECONDS
        while waiting and time.monotonic() < deadline and not self._stop.is_set():
            try:
                self.setup.ready.get(timeout=0.5)
                waiting -= 1
            except queue.Empty:
                if any(not child.is_alive() for child in self.children):
                    return False
        return waiting == 0

    def run(self) -> int:
        """Until SIGTERM/SIGINT (0) or a child's death (1); then every child is stopped."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._stop.set())
        status = 0
        sentinels = {child.sentinel: child for child in self.children}
        while not self._stop.is_set():
            ended = wait(list(sentinels), timeout=0.5)
            if ended:
                child = sentinels[ended[0]]
                log.error("serve: %s (pid %s) ended with status %s; stopping the others",
                          child.name, child.pid, child.exitcode)
                status = 1
                break
        self.stop()
        return status

    def stop(self) -> None:
        for child in self.children:
            if child.is_alive():
                child.terminate()  # SIGTERM: each child shuts down cleanly
        for child in self.children:
            child.join(STOP_SECONDS)
            if child.is_alive():
                log.warning("serve: %s (pid %s) did not stop in %.0f s; killing it",
                            child.name, child.pid, STOP_SECONDS)
                child.kill()
                child.join()


# --- the children (module-level functions: spawn imports them by name) ---------------

def _join_supervisor(setup: ChildSetup) -> None:
    """A child's first steps: the supervisor's environment, logging, and a watch on the
    supervisor (a child of a killed supervisor must not serve on alone)."""
    os.environ.update(setup.env)
    configure_logging(setup.log_level)
    supervisor = os.getppid()

    def watch() -> None:
        while True:
            threading.Event().wait(1.0)
            if os.getppid() != supervisor:
                os.kill(os.getpid(), signal.SIGTERM)
                # An orderly stop that hangs (a connection or thread that never ends) must
                # not leave an orphan serving on: after a grace period, leave at once.
                threading.Event().wait(ORPHAN_GRACE_SECONDS)
                os._exit(1)

    threading.Thread(target=watch, name="taskmarket-supervisor-watch", daemon=True).start()


def _wait_for_signal() -> None:
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    done.wait()


def run_api(setup: ChildSetup, sock: socket.socket) -> None:
    """An API process: the GraphQL app on the supervisor's socket, no followers."""
    _join_supervisor(setup)
    import uvicorn

    settings = Settings.from_env(setup.data_dir)
    database = Database.from_url(setup.env["DATABASE_URL"])
    marketplace = build_marketplace(database)
    reads = build_read_models(database)
    stripe_setup = build_stripe(settings, start_emulator=False)
    app = create_app(database, marketplace, reads, settings=settings,
                     stripe_setup=stripe_setup)
    # uvicorn re-raises SIGTERM after its graceful shutdown: make that a normal exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("serve: API process %d ready", os.getpid())
    server = uvicorn.Server(uvicorn.Config(app, log_level="info", log_config=None))
    setup.say_ready("api")
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        reads.close()
        marketplace.close()


def run_followers(setup: ChildSetup, projections: bool) -> None:
    """The log's followers: projections, webhooks, the payout dispatcher, the sweeper and
    the daily reconciliation."""
    _join_supervisor(setup)
    settings = Settings.from_env(setup.data_dir)
    database = Database.from_url(setup.env["DATABASE_URL"])
    marketplace = build_marketplace(database)
    followers = start_log_followers(database, marketplace, settings, projections=projections)
    log.info("serve: followers process %d running (projections %s)", os.getpid(),
             "on" if projections else "off")
    setup.say_ready("followers")
    _wait_for_signal()
    followers.stop()
    marketplace.close()


def run_worker(setup: ChildSetup, threads: int) -> None:
    """The Dramatiq worker, as `taskmarket worker` runs one."""
    _join_supervisor(setup)
    run_worker_process(setup.data_dir, threads, on_running=lambda: setup.say_ready("worker"))


def serve_in_processes(database, settings, host: str, port: int, plan: ServePlan,
                       announce=lambda stripe_setup: None) -> int:
    """`taskmarket serve --multi-process`: the supervisor's part, until told to stop.

    ``database`` is prepared (migrations applied) and stays up while this runs (the
    embedded server belongs to this process). Returns the exit status.
    """
    public_url = f"http://{host}:{port}"
    stripe_setup = stripe_for_serve(settings, public_url)
    sock = bind_socket(host, port)
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    setup = ChildSetup(settings.data_dir, child_env(database.url, stripe_setup), level,
                       public_url)
    supervisor = Supervisor(plan, setup, sock)
    try:
        supervisor.start()
        if not supervisor.wait_ready():
            log.error("serve: not every process started; stopping")
            return 1
        announce(stripe_setup)
        return supervisor.run()
    finally:
        supervisor.stop()
        sock.close()
        stripe_setup.close()
