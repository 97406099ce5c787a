"""The delivery loop: threads that claim due endpoints and POST their events in order.

Why threads claiming rows with ``FOR UPDATE SKIP LOCKED`` rather than one Dramatiq message
per delivery: order per endpoint is the hard requirement, and it needs exactly one sender
per endpoint at a time plus a cursor that only moves past delivered events. A leased
cursor row gives both directly, across any number of processes, with retries scheduled
in the same row (``next_attempt_at``). With a message queue the order would have to be
rebuilt on top (one in-flight message per endpoint, requeue on failure), and the broker's
own retry and backoff would fight the cursor. The loop needs nothing but PostgreSQL.

A tick: lease one due endpoint, read its next events from the event log, POST them one by
one (each result committed to the delivery log at once), stop at the first failure and
schedule the retry with backoff, or disable the endpoint once the policy gives up.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from uuid import UUID, uuid4

import httpx
import psycopg

from ..database import Database
from ..domain.values import clean_text
from ..domain.webhook import MAX_REASON_LENGTH
from ..metrics import WEBHOOK_ENDPOINTS_DISABLED
from ..projections.rows import EventRow
from . import feed, store
from .deliverer import Outcome, post_event
from .policy import DeliveryPolicy
from .ssrf import guarded_client
from .sync import endpoint_sync

log = logging.getLogger(__name__)


class WebhookEngine:
    def __init__(self, database: Database, marketplace: Any,
                 policy: DeliveryPolicy | None = None, client: httpx.Client | None = None):
        self.database = database
        self.marketplace = marketplace
        self.policy = policy or DeliveryPolicy.from_env()
        self.client = client or guarded_client(self.policy.allow_private, self.policy.timeout)
        self.owner = uuid4()
        self.endpoint_sync = endpoint_sync(database, marketplace.mapper)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- running ----------------------------------------------------------------------
    def start(self) -> None:
        for number in range(self.policy.workers):
            thread = threading.Thread(target=self._run, name=f"webhooks-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("webhook delivery started with %d threads", self.policy.workers)

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        self.client.close()

    def _run(self) -> None:
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = self.connect()
                if not self.work(conn):
                    self._stop.wait(self.policy.poll_interval)
            except psycopg.Error:
                log.exception("webhook delivery: database error; retrying")
                conn = None
                self._stop.wait(1.0)
            except Exception:  # one bad endpoint must not stop delivery for all
                log.exception("webhook delivery: unexpected error")
                self._stop.wait(1.0)
        if conn is not None:
            conn.close()

    def connect(self) -> psycopg.Connection:
        """A connection for delivery bookkeeping, committing without waiting for the disk.

        A crash can lose the last few commits of the delivery log and cursor, together
        (they share transactions): the events after the surviving cursor are then sent
        again, which at-least-once delivery allows and receivers dedupe by event id.
        Nothing can be skipped, since the cursor never gets ahead of what was logged.
        """
        conn = self.database.connect(autocommit=True)
        conn.execute("SET synchronous_commit = off")
        return conn

    def run_until_idle(self, max_rounds: int = 10_000) -> int:
        """Deliver everything due now, in this thread (tests, benchmarks); POSTs made."""
        with self.connect() as conn:
            made = 0
            for _ in range(max_rounds):
                done = self.work(conn)
                if not done:
                    return made
                made += done
            return made

    def work(self, conn: psycopg.Connection) -> int:
        """One round: sync endpoint changes, serve one endpoint and one redelivery."""
        self.endpoint_sync.step(conn, skip_locked=True)
        made = 0
        state = store.claim_due_endpoint(conn, self.owner, self.policy.lease, feed.head(conn))
        if state is not None:
            made += max(1, self.tick(conn, state))
        redelivery = store.claim_due_redelivery(conn, self.policy.lease)
        if redelivery is not None:
            self.redeliver(conn, redelivery)
            made += 1
        return made

    # --- one endpoint -----------------------------------------------------------------
    def tick(self, conn: psycopg.Connection, state: store.EndpointState) -> int:
        """POST the endpoint's next events in order; how many POSTs were made."""
        try:
            return self._tick(conn, state)
        finally:
            store.drop_lease(conn, state)

    def _tick(self, conn: psycopg.Connection, state: store.EndpointState) -> int:
        head = feed.head(conn)
        events = feed.events_for(conn, state, state.cursor, self.policy.batch)
        secret = store.secret_for(conn, state.endpoint_id, state.secret_hash)
        if secret is None:
            self._give_up(conn, state, "the endpoint's signing secret is missing; rotate it")
            return 0
        started, posted = time.monotonic(), 0
        for event in events:
            delivery_id = store.stream_delivery_id(state.endpoint_id, state.generation,
                                                   event.position)
            outcome = post_event(self.client, state.url, secret, event, delivery_id)
            posted += 1
            if not outcome.delivered:
                self._failed(conn, state, event, delivery_id, outcome)
                return posted
            if not store.record_delivered(conn, state, event, delivery_id,
                                          outcome.status_code, outcome.latency_ms):
                return posted  # the endpoint changed under us: stop this batch
            if time.monotonic() - started > self.policy.tick_budget:
                store.finish(conn, state, None, due_now=True)
                return posted
        caught_up = head if len(events) < self.policy.batch else None
        store.finish(conn, state, caught_up, due_now=len(events) >= self.policy.batch)
        return posted

    def _failed(self, conn: psycopg.Connection, state: store.EndpointState,
                event: EventRow, delivery_id: UUID, outcome: Outcome) -> None:
        delay = self.policy.retry_delay(state.consecutive_failures + 1)
        with conn.transaction():
            counted = store.record_failure(conn, state, delay)
            store.record_stream_attempt(conn, state, event, delivery_id, outcome.status_code,
                                        outcome.latency_ms, outcome.error, False,
                                        delay if counted else None)
        if counted is None:
            return
        failures, failing_for = counted
        reason = self.policy.gives_up(failures, failing_for)
        if reason:
            self._give_up(conn, state, f"{reason}; last: {outcome.describe()} "
                                       f"delivering position {event.position}")

    def _give_up(self, conn: psycopg.Connection, state: store.EndpointState,
                 reason: str) -> None:
        store.stop_for_good(conn, state)
        self.marketplace.disable_webhook_endpoint(
            state.endpoint_id, clean_text(reason, MAX_REASON_LENGTH))
        WEBHOOK_ENDPOINTS_DISABLED.inc()
        log.warning("webhook endpoint %s disabled: %s", state.endpoint_id, reason)

    # --- manual redelivery ------------------------------------------------------------
    def redeliver(self, conn: psycopg.Connection, delivery: store.Delivery) -> None:
        state = store.endpoint_state(conn, delivery.endpoint_id)
        event = feed.event_at(conn, delivery.position)
        secret = state and store.secret_for(conn, state.endpoint_id, state.secret_hash)
        if state is None or event is None or secret is None:
            store.record_attempt(conn, delivery.id, None, 0, "event or secret missing",
                                 False, None)
            return
        if not feed.shows(state, event):  # the endpoint's key may no longer read it
            store.record_attempt(conn, delivery.id, None, 0,
                                 "the endpoint's key may not read this event", False, None)
            return
        outcome = post_event(self.client, state.url, secret, event, delivery.id)
        retry_in = None
        if not outcome.delivered and delivery.attempts + 1 < self.policy.max_failures:
            retry_in = self.policy.retry_delay(delivery.attempts + 1)
        store.record_attempt(conn, delivery.id, outcome.status_code, outcome.latency_ms,
                             outcome.error, outcome.delivered, retry_in)
