"""The `taskmarket` command as an operator uses it: serve, issue keys, restart, migrate."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from taskmarket.bootstrap import build_marketplace
from taskmarket.database import Database

SCRIPT = shutil.which("taskmarket", path=str(Path(sys.executable).parent))
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "taskmarket.cli"]


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "TASKMARKET_DATA_DIR")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def taskmarket(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=60,
                          env=env or clean_env())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postmasters(pgdata: Path) -> list[psutil.Process]:
    """PostgreSQL servers running on ``pgdata`` (the postmaster is the one given -D)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "-D" in cmdline and Path(cmdline[cmdline.index("-D") + 1]) == pgdata:
            found.append(process)
    return found


class Server:
    """`taskmarket serve` in a child process, stopped the way an operator would."""

    def __init__(self, data_dir: Path):
        self.port = free_port()
        self.process = subprocess.Popen(
            [*COMMAND, "serve", "--port", str(self.port), "--data-dir", str(data_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=clean_env())

    def wait_healthy(self, seconds: float = 30) -> httpx.Response:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stderr.read().decode()
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"no answer on /healthz within {seconds} s")

    def stop(self) -> int:
        """SIGTERM, then the exit status; the server's log is printed if the test fails."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=30)
        print(self.process.stderr.read().decode(errors="replace")[-4000:])
        self.process.stderr.close()
        return status


def database_of(pgdata: Path) -> Database:
    """The running embedded server's socket, read from its postmaster.pid."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    return Database(host=lines[4], port=int(lines[3]), user="postgres", password="",
                    dbname="taskmarket")


def wait_until(condition, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture
def data_dir():
    # Outside pytest's temp root, which a concurrently starting pytest re-chmods to 0700,
    # locking the embedded server's OS user out of its files.
    root = Path(tempfile.mkdtemp(prefix="taskmarket-cli-test-"))
    yield root / "data"
    for process in postmasters((root / "data" / "pgdata").resolve()):
        process.terminate()  # only if a test failed half-way: never leave a server behind
        process.wait(timeout=30)
    shutil.rmtree(root, ignore_errors=True)


def test_serve_issue_a_key_restart_and_the_key_still_works(data_dir):
    pgdata = (data_dir / "pgdata").resolve()
    server = Server(data_dir)
    try:
        assert server.wait_healthy().status_code == 200

        issued = taskmarket("keys", "create", "--role", "ADMIN", "--name", "ops",
                            "--data-dir", str(data_dir))
        assert issued.returncode == 0, issued.stderr
        secret = issued.stdout.strip().splitlines()[-1]
        assert secret.startswith("tm_admin_")
        assert len(postmasters(pgdata)) == 1  # the CLI joined the server, started none

        no_worker = taskmarket("keys", "create", "--role", "WORKER", "--name", "ada",
                               "--data-dir", str(data_dir))
        unknown_role = taskmarket("keys", "create", "--role", "BOSS", "--name", "x",
                                  "--data-dir", str(data_dir))
        for refused in (no_worker, unknown_role):
            assert refused.returncode != 0
            assert refused.stderr.strip()
            assert "tm_" not in refused.stdout
        assert "worker" in no_worker.stderr.lower()
        assert server.wait_healthy().status_code == 200  # the CLI leaving kept it up
    finally:
        assert server.stop() == 0
    assert wait_until(lambda: not postmasters(pgdata)), "PostgreSQL outlived serve"

    server = Server(data_dir)
    try:
        assert server.wait_healthy().status_code == 200
        marketplace = build_marketplace(database_of(pgdata))
        try:
            key = marketplace.authenticate(secret)
            assert key is not None and (key.role.value, key.name) == ("ADMIN", "ops")
        finally:
            marketplace.close()
    finally:
        assert server.stop() == 0
    assert wait_until(lambda: not postmasters(pgdata)), "PostgreSQL outlived serve"


def test_migrate_with_database_url_uses_that_server_and_starts_none(pg_server, tmp_path):
    target = pg_server.with_dbname("cli_migrate_target")
    env = {**clean_env(), "DATABASE_URL": target.url}
    try:
        migrated = taskmarket("migrate", "--data-dir", str(tmp_path / "data"), env=env)
        assert migrated.returncode == 0, migrated.stderr
        assert "up to date" in migrated.stdout
        assert not (tmp_path / "data" / "pgdata").exists()
        with target.connect() as conn:
            tables = {row[0] for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert "taskmarket_events" in tables
    finally:
        with pg_server.with_dbname("postgres").connect(autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS cli_migrate_target WITH (FORCE)")
