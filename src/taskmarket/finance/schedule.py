"""The daily reconciliation the workers run: yesterday (UTC), once, by whichever process
gets there first (the run's id is derived from the day, so a second one is refused)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from uuid import UUID

from ..domain.reconciliation import daily_run_id
from .reconcile import Reconciler

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 600.0


class DailyReconciliation:
    def __init__(self, reconciler: Callable[[], Reconciler], clock: Callable[[], datetime]):
        self.reconciler = reconciler
        self.clock = clock

    def run_due(self) -> UUID | None:
        """Reconcile yesterday unless that was done; the new run's id, or None."""
        today = datetime.combine(self.clock().date(), time(0), tzinfo=timezone.utc)
        yesterday = today - timedelta(days=1)
        reconciler = self.reconciler()
        if reconciler.app.exists(daily_run_id(yesterday)):
            return None
        return reconciler.reconcile(yesterday, today, run_id=daily_run_id(yesterday))

    def run(self, stop: threading.Event, interval: float = CHECK_EVERY_SECONDS) -> None:
        """Check every ``interval`` seconds, the first time one interval after start (a
        process that starts and stops quickly never reconciles)."""
        while not stop.wait(interval):
            try:
                self.run_due()
            except Exception:  # noqa: BLE001 - Stripe or the database down: try later
                log.exception("daily reconciliation failed; trying again later")
