"""Revoked API keys stop at once on open WebSockets.

Revoking a key is an event in the log (``ApiKeyRevoked``), and every append to the event
store NOTIFYs the store's channel. While any socket of this process is open, one task
LISTENs on that channel and, on each wake-up, reads the revocations appended since its
last look straight from the event store (not from a projection, which can lag or stall).
So a key revoked through any process, another server or the CLI, is heard here within a
database round trip, and no timer is involved.

Why the position is fixed before a socket authenticates: a revocation committed after the
authentication is then always after the position, so it cannot fall between the two.
When no socket is open, nothing is read at all; the next socket starts from the head.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Protocol
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic
from psycopg import sql
from starlette.concurrency import run_in_threadpool

from ..database import Database
from ..domain.apikey import ApiKey

log = logging.getLogger(__name__)
REVOKED_TOPIC = get_topic(ApiKey.Revoked)
BATCH = 500


class Session(Protocol):
    async def key_revoked(self) -> None: ...


class KeyRevocations:
    """Which keys were revoked while sockets were open, and the sockets of each key."""

    def __init__(self, database: Database, marketplace: Any):
        self.database = database
        self.marketplace = marketplace
        self._holders = 0                  # sockets opening or open
        self._sessions: dict[UUID, set[Session]] = {}
        self._revoked: set[UUID] = set()
        self._position = 0
        self._follower: asyncio.Task[None] | None = None
        self._endings: set[asyncio.Task[None]] = set()  # kept until done (asyncio's advice)
        self._entering: asyncio.Lock | None = None

    # --- sockets ------------------------------------------------------------------------
    async def enter(self) -> None:
        """A socket is about to authenticate: fix the position, make sure we follow."""
        if self._entering is None:
            self._entering = asyncio.Lock()
        # One at a time: a second socket must not authenticate before the position that
        # the first one's reset reads, nor reset it after the first one authenticated.
        async with self._entering:
            if self._holders == 0:
                self._position = await run_in_threadpool(self._head)
                self._revoked.clear()
            self._holders += 1
        if self._follower is None or self._follower.done():
            self._follower = asyncio.create_task(self._follow())

    def attach(self, key_id: UUID, session: Session) -> None:
        self._sessions.setdefault(key_id, set()).add(session)

    def leave(self, key_id: UUID | None, session: Session) -> None:
        self._holders -= 1
        sessions = self._sessions.get(key_id) if key_id else None
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._sessions[key_id]

    def is_revoked(self, key_id: UUID) -> bool:
        return key_id in self._revoked

    # --- following the event store -----------------------------------------------------
    def _head(self) -> int:
        return self.marketplace.recorder.max_notification_id() or 0

    def _revocations_after(self, position: int) -> tuple[list[UUID], int]:
        recorder = self.marketplace.recorder
        head = recorder.max_notification_id() or 0
        keys: list[UUID] = []
        while position < head:
            found = recorder.select_notifications(position, BATCH, stop=head,
                                                  topics=[REVOKED_TOPIC],
                                                  inclusive_of_start=False)
            keys.extend(n.originator_id for n in found)
            if len(found) < BATCH:
                break
            position = found[-1].id
        return keys, max(head, position)

    async def _follow(self) -> None:
        while True:
            try:
                await self._listen()
                return
            except Exception:  # noqa: BLE001 - a database blip must not end the follow
                # (the store's own errors are not psycopg's). The position is kept, so
                # nothing appended meanwhile is passed over.
                log.warning("could not follow key revocations; retrying", exc_info=True)
                await asyncio.sleep(1.0)

    async def _listen(self) -> None:
        channel = self.marketplace.recorder.events_table_name
        async with await psycopg.AsyncConnection.connect(self.database.conninfo,
                                                         autocommit=True) as conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            while True:
                # Read first: a revocation appended before LISTEN took effect is caught.
                if self._holders > 0:
                    await self._catch_up()
                async for _ in conn.notifies(stop_after=1):
                    pass

    async def _catch_up(self) -> None:
        keys, self._position = await run_in_threadpool(self._revocations_after,
                                                       self._position)
        self._revoke(keys)

    def _revoke(self, keys: Iterable[UUID]) -> None:
        for key_id in keys:
            self._revoked.add(key_id)
            for session in list(self._sessions.get(key_id, ())):
                ending = asyncio.create_task(session.key_revoked())
                self._endings.add(ending)
                ending.add_done_callback(self._endings.discard)
