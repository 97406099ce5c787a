"""API keys this process has seen, checked against the log's revocations per request.

Authenticating a request used to load the key's aggregate from the event store: a
thread-pool trip, a pool checkout, a query and a replay per request. ``KnownKeys`` keeps
the keys it has authenticated (a bounded LRU) and, before answering any request from it,
reads what the log gained since its last look: one statement on the event loop's own
connection, ``max(notification_id)`` and the ids of revoked keys above the last position,
in one snapshot. Requests arriving while a read is in flight share the next one.

Why a revocation still takes effect at once, from any process: a request is answered from
the cache only after a read that *started after the request arrived*. A revocation whose
response its client has seen committed before that, so that read's snapshot holds it
(the log is gap-free and made visible in id order: ``persistence/recorder.py``), and the
key is refused. Revoked ids are kept (they are few), so a load that raced a read cannot
put a revoked key back. A key first met is loaded as before, after such a read, so a
revocation older than the first read is seen by the load itself. When the read fails
(the database is away), the request falls back to the load, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic
from psycopg import sql
from starlette.concurrency import run_in_threadpool

from ..database import Database
from ..domain.apikey import ApiKey, hash_secret
from ..domain.ids import api_key_id

log = logging.getLogger(__name__)
REVOKED_TOPIC = get_topic(ApiKey.Revoked)
MAX_KEYS = 10_000


class KnownKeys:
    def __init__(self, database: Database, marketplace: Any, max_keys: int = MAX_KEYS):
        self.database = database
        self.marketplace = marketplace
        self.max_keys = max_keys
        self._live: OrderedDict[UUID, ApiKey] = OrderedDict()
        self._revoked: set[UUID] = set()
        self._position: int | None = None   # log position of the last read; None: none yet
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._running: asyncio.Future[None] | None = None
        self._next: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        recorder = marketplace.recorder
        table = sql.SQL("{schema}.{table}").format(
            schema=sql.Identifier(recorder.datastore.schema),
            table=sql.Identifier(recorder.events_table_name))
        self._head = sql.SQL("SELECT max(notification_id) FROM {table}").format(table=table)
        self._since = sql.SQL(
            "SELECT max(notification_id), "
            "array_agg(originator_id) FILTER (WHERE topic = %s) "
            "FROM {table} WHERE notification_id > %s").format(table=table)

    async def authenticate(self, secret: str) -> ApiKey | None:
        """The live key for a presented secret, or None (as Marketplace.authenticate)."""
        if not secret:
            return None
        try:
            await self._read_after_now()
        except Exception:  # noqa: BLE001 - the load below answers (or fails) as before
            log.warning("could not read key revocations; loading the key", exc_info=True)
            return await run_in_threadpool(self.marketplace.authenticate, secret)
        key_id = api_key_id(hash_secret(secret))
        if key_id in self._revoked:
            self._live.pop(key_id, None)
            return None
        key = self._live.get(key_id)
        if key is not None:
            self._live.move_to_end(key_id)
            return key
        key = await run_in_threadpool(self.marketplace.authenticate, secret)
        if key is not None and key.id not in self._revoked:
            self._live[key.id] = key
            if len(self._live) > self.max_keys:
                self._live.popitem(last=False)
        return key

    # --- reading the log ---------------------------------------------------------------
    async def _read_after_now(self) -> None:
        """Return once a read that started after this call has finished."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests): what the old one held is gone
            self._loop, self._conn, self._running, self._next = loop, None, None, None
        if self._running is None:
            self._running = loop.create_future()
            waiting = self._running
            self._start(waiting)
        else:  # the read in flight may have begun before this request: wait for the next
            if self._next is None:
                self._next = loop.create_future()
            waiting = self._next
        await asyncio.shield(waiting)

    def _start(self, done: asyncio.Future[None]) -> None:
        # Kept until it ends (asyncio holds tasks weakly).
        self._task = asyncio.get_running_loop().create_task(self._read(done))

    async def _read(self, done: asyncio.Future[None]) -> None:
        try:
            await self._read_revocations()
        except Exception as error:  # handed to every waiter, who falls back to a load
            await self._close()
            done.set_exception(error)
            done.exception()  # retrieved here too: no "never retrieved" warning
        except BaseException:  # cancelled (the loop is closing)
            done.cancel()
            raise
        else:
            done.set_result(None)
        finally:
            following, self._next = self._next, None
            self._running = following
            if following is not None:
                self._start(following)

    async def _read_revocations(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self.database.conninfo,
                                                               autocommit=True)
        if self._position is None:
            # The first read only fixes the position: a key is loaded after it, and the
            # load itself sees every revocation before it.
            cursor = await self._conn.execute(self._head, prepare=True)
            row = await cursor.fetchone()
            self._position = (row[0] if row else None) or 0
            return
        cursor = await self._conn.execute(self._since, (REVOKED_TOPIC, self._position),
                                          prepare=True)
        row = await cursor.fetchone()
        head, revoked = (row[0], row[1]) if row else (None, None)
        for key_id in revoked or ():
            self._revoked.add(key_id)
            self._live.pop(key_id, None)
        if head is not None:
            self._position = max(self._position, head)

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass

    async def close(self) -> None:
        await self._close()
