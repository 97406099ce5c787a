"""Re-sends work that is due and owed but quiet: a lost message delays work, never loses it.

A payout REQUESTED with no attempt for ``resend_after`` seconds, a lease past its expiry, an
auto-approval past its delay: each is sent again. Actors are idempotent, so a message that
was merely slow costs one extra no-op.
"""

from __future__ import annotations

import logging
import threading

from ..clock import utc_now
from .actors import Actors
from .broker import enqueue_all
from .dispatcher import work_message
from .schedule import WorkStore

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(self, work: WorkStore, actors: Actors, *, grace_seconds: float = 1.0,
                 resend_after_seconds: float = 120.0):
        self.work = work
        self.actors = actors
        self.grace_seconds = grace_seconds
        self.resend_after_seconds = resend_after_seconds

    def sweep(self) -> int:
        """Send every overdue piece of work once; how many were sent."""
        overdue = self.work.claim_overdue(self.grace_seconds, self.resend_after_seconds)
        now = utc_now()
        enqueue_all(self.actors.pay_payout.broker,
                    [work_message(self.actors, work, now) for work in overdue])
        if overdue:
            log.info("sweeper re-sent %d overdue messages", len(overdue))
        return len(overdue)

    def run(self, stop: threading.Event, interval_seconds: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.sweep()
            except Exception:
                log.exception("sweep failed; trying again")
            stop.wait(interval_seconds)
