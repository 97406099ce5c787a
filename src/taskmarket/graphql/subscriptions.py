"""The events subscription: replay from a position, then follow the log live.

Both phases read the same way, "the visible events after the last one delivered", so
there is no seam between replay and live where an event could be skipped or repeated.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Optional

import strawberry

from ..metrics import SUBSCRIPTIONS_ACTIVE
from .context import ctx
from .events import event_scope, parse_position
from .types import Event

BATCH = 100
# Scan again now and then even without news from the watcher (belt and braces).
# A revoked key's subscriptions are ended by its socket (graphql/ws.py), not from here.
WAKE_SECONDS = 1.0


@strawberry.type(name="Subscription")
class Subscriptions:
    @strawberry.subscription(description="Events after a position (from the start when "
                             "omitted), then live ones, in log order.")
    async def events(self, info: strawberry.Info, after: Optional[str] = None,
                     types: Optional[list[str]] = None) -> AsyncGenerator[Event, None]:
        context = ctx(info)
        scope = event_scope(context.need_viewer())
        SUBSCRIPTIONS_ACTIVE.inc()
        try:
            watcher = context.services.watcher
            position = parse_position(after)
            while True:
                # Every event up to this head is in the log before the scan starts, so an
                # exhausted scan has seen them all, even those the filters skipped.
                head_before = watcher.head
                rows, scanned = await context.call(scope.scan, context.reads, position, BATCH,
                                                   types)
                for row in rows:
                    yield Event.from_row(row)
                position = scanned
                if len(rows) < BATCH:
                    await watcher.wait_past(max(position, head_before), timeout=WAKE_SECONDS)
        finally:  # the client went away (the task is cancelled) or the stream failed
            SUBSCRIPTIONS_ACTIVE.dec()
