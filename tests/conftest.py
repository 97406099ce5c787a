"""Shared fixtures: one embedded PostgreSQL for the whole session, a fresh database per test.

Each test gets its own database cloned from a template that already has every table, so
tests are isolated and cheap (a file copy), and never use a fake of our own database.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from psycopg import sql

from taskmarket.bootstrap import build_marketplace
from taskmarket.database import Database, start_embedded
from taskmarket.database_setup import prepare_database

TEMPLATE = "taskmarket_template"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Database:
    """The session's PostgreSQL: DATABASE_URL's server if set, else an embedded one."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        server = Database.from_url(url).with_dbname(TEMPLATE)
        server.ensure_exists()
    else:
        # Not under pytest's temp root: every pytest run that starts re-chmods that root to
        # 0700, which locks the server's own OS user out of a running session's data.
        data_dir = Path(tempfile.mkdtemp(prefix="taskmarket-test-pg-"))
        atexit.register(shutil.rmtree, data_dir, True)  # LIFO: runs after the server stops
        server = start_embedded(data_dir, dbname=TEMPLATE)
    prepare_database(server)
    return server


def _drop(admin_conn, name: str) -> None:
    admin_conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)))


@pytest.fixture
def database(pg_server: Database) -> Database:
    """A fresh database with every table, dropped after the test."""
    name = f"test_{os.getpid()}_{next(_counter)}"
    admin = pg_server.with_dbname("postgres")
    with admin.connect(autocommit=True) as conn:
        _drop(conn, name)
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(TEMPLATE)))
    yield pg_server.with_dbname(name)
    with admin.connect(autocommit=True) as conn:
        _drop(conn, name)


@pytest.fixture
def app(database: Database):
    """The marketplace application on the test's database."""
    marketplace = build_marketplace(database)
    yield marketplace
    marketplace.close()
