"""One poll of the event log's head per process, shared by every live subscription.

Idle subscribers wait on a condition instead of each querying the database; the poll
runs only while someone is waiting.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)


class LogWatcher:
    def __init__(self, reads: Any, interval: float = 0.1):
        self.reads = reads
        self.interval = interval
        self.head = 0
        self._changed: asyncio.Condition | None = None
        self._poller: asyncio.Task[None] | None = None
        self._waiting = 0

    async def wait_past(self, position: int, timeout: float) -> bool:
        """Wait until the log's head is past ``position``; False after ``timeout``."""
        if self.head > position:
            return True
        if self._changed is None:
            self._changed = asyncio.Condition()
        self._waiting += 1
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        try:
            async with self._changed:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.head > position), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._waiting -= 1

    async def _poll(self) -> None:
        while self._waiting > 0:
            try:
                head = await run_in_threadpool(self.reads.event_log_head)
            except Exception:  # a database blip: subscribers keep waiting, we retry
                log.warning("could not read the event log head", exc_info=True)
                head = self.head
            if head != self.head:
                assert self._changed is not None
                async with self._changed:
                    self.head = head
                    self._changed.notify_all()
            await asyncio.sleep(self.interval)
