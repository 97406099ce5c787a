"""Versioned, forward-only SQL migrations for the tables the app owns, applied with yoyo.

Files in ``sql/`` are named ``NNNN_what.sql`` and applied in order. yoyo records what was applied;
we also record each file's checksum and refuse to run when an applied file was edited,
since its change would silently never reach existing databases.
Ranges: 0001-0049 read models, 0050-0079 workers, 0080-0099 webhooks.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from yoyo import get_backend, read_migrations

from ..database import Database

HERE = Path(__file__).parent / "sql"
log = logging.getLogger(__name__)
CHECKSUMS = "taskmarket_migration_checksums"


class EditedMigrationError(RuntimeError):
    """An already-applied migration file no longer matches what was applied."""


def yoyo_url(database: Database) -> str:
    auth = database.user + (f":{database.password}" if database.password else "")
    return (f"postgresql+psycopg://{auth}@/{database.dbname}"
            f"?host={database.host}&port={database.port}")


def _checksums() -> dict[str, str]:
    return {path.stem: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(HERE.glob("*.sql"))}


def _check_unedited(conn, files: dict[str, str]) -> None:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {CHECKSUMS} "
                 "(migration_id text PRIMARY KEY, sha256 text NOT NULL)")
    for migration_id, recorded in conn.execute(
            f"SELECT migration_id, sha256 FROM {CHECKSUMS}").fetchall():
        if migration_id in files and files[migration_id] != recorded:
            raise EditedMigrationError(
                f"migration {migration_id} was edited after it was applied; "
                "add a new migration instead")


def apply_migrations(database: Database) -> list[str]:
    """Apply pending migrations; returns the ids applied now (logged as one line: yoyo's
    own step-by-step records stay at DEBUG)."""
    steps = logging.getLogger("yoyo")
    if not steps.isEnabledFor(logging.DEBUG):
        steps.setLevel(logging.WARNING)
    files = _checksums()
    with database.connect(autocommit=True) as conn:
        # One migrator at a time across processes (serve and the CLI may start together).
        conn.execute("SELECT pg_advisory_lock(hashtext('taskmarket-migrations'))")
        try:
            _check_unedited(conn, files)
            backend = get_backend(yoyo_url(database))
            pending = backend.to_apply(read_migrations(str(HERE)))
            applied = [m.id for m in pending]
            backend.apply_migrations(pending)
            backend.connection.close()
            with conn.transaction():
                for migration_id, digest in files.items():
                    conn.execute(
                        f"INSERT INTO {CHECKSUMS} VALUES (%s, %s) "
                        "ON CONFLICT (migration_id) DO NOTHING", (migration_id, digest))
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
            return applied
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('taskmarket-migrations'))")
