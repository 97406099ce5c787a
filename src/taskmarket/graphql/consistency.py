"""Read-your-writes without making every mutation wait for every projection.

A mutation answers from what its command saved (the aggregate state) and hands the
client the log position of its last event: the ``X-Taskmarket-Position`` response header
and ``extensions.position`` in the body. A request that then passes that position in
``X-Taskmarket-After-Position`` reads the read models only once they have applied the log
up to it. Within a mutation's own request, any field of the payload that reads a read
model (``claim { task { openSlots } }``) waits for the request's own position first, so a
payload still shows its effect; a payload that reads none (``claim { id status }``) waits
for nothing.

Positions are the event store's notification ids, the unit the projections track.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..projections.failures import ProjectionStalled
from .errors import ServiceError

log = logging.getLogger("taskmarket.consistency")

POSITION_HEADER = "X-Taskmarket-Position"
AFTER_POSITION_HEADER = "X-Taskmarket-After-Position"
MAX_POSITION = 2**63 - 1  # the event store's notification ids are bigint


def parse_after_position(value: str | None) -> int | None:
    """The position a request asks to read after; ValueError for anything but 0..2^63-1."""
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit() or not text.isascii() or len(text) > 19:
        raise ValueError(f"{AFTER_POSITION_HEADER} must be a log position (a whole number)")
    position = int(text)
    if position > MAX_POSITION:
        raise ValueError(f"{AFTER_POSITION_HEADER} is beyond any log position")
    return position


class ReadsAfter:
    """The read models as a request sees them: every call first waits (once) until the
    projections have applied the log up to the position the request depends on.

    Calls run in worker threads (``run_in_threadpool``), so the wait blocks a thread,
    never the event loop.
    """

    def __init__(self, reads: Any, timeout: float):
        self._reads = reads
        self._timeout = timeout
        self._wanted = 0
        self._reached = 0
        self._lock = threading.Lock()

    @property
    def wanted(self) -> int:
        return self._wanted

    def require(self, position: int) -> None:
        """Reads from now on show the log at least up to ``position``."""
        if position > self._wanted:
            self._wanted = position

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._reads, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.wait()
            return attribute(*args, **kwargs)

        return call

    def wait(self) -> None:
        wanted = self._wanted
        if wanted <= self._reached:
            return
        with self._lock:  # concurrent loaders of one request wait once, together
            if wanted <= self._reached:
                return
            try:
                reached = self._reads.wait_for(wanted, self._timeout)
            except ProjectionStalled as stalled:
                # A read model that cannot apply events will not get there: say so at
                # once (a mutation's own command was recorded all the same).
                stall = stalled.stall
                raise ServiceError(
                    f"the command was recorded (log position {wanted}), but the read "
                    f"model '{stall.projection}' is stalled at position {stall.position} "
                    "and will not show it until an operator repairs it",
                    "PROJECTION_STALLED", projection=stall.projection,
                    position=stall.position) from None
            if reached:
                self._reached = wanted
            else:
                log.warning("projections did not reach %s in time", wanted)
