"""Signed webhook delivery (``Stripe-Signature: t=...,v1=...``) on a background thread."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from .store import Store

log = logging.getLogger(__name__)


def sign_payload(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """Build a ``Stripe-Signature`` header: HMAC-SHA256 of ``"{t}.{payload}"`` keyed by the secret."""
    body = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    ts = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode("utf-8"), f"{ts}.{body}".encode("utf-8"), hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


@dataclass(frozen=True)
class Delivery:
    event_id: str
    event_type: str
    url: str
    status_code: int | None  # None when the request itself failed
    error: str | None


class WebhookSender:
    """POSTs events, signed, from one daemon thread, oldest first.

    An event stays pending (in the store, so on disk when the store is) until its endpoint
    answers 2xx; until then it is sent again after ``retry_seconds``, doubling each time
    up to an hour apart, for ``retry_for_seconds`` after the first attempt, as Stripe
    retries. Failures are logged and recorded in :attr:`deliveries`, never raised.
    """

    MAX_RETRY_DELAY = 3600.0

    def __init__(self, url: str | None = None, secret: str | None = None, timeout: float = 5.0,
                 *, store: Store | None = None, retry_seconds: float = 5.0,
                 retry_for_seconds: float = 3 * 24 * 3600) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.store = store if store is not None else Store()
        self.retry_seconds = retry_seconds
        self.retry_for_seconds = retry_for_seconds
        self.deliveries: deque[Delivery] = deque(maxlen=1000)  # most recent attempts
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def configure(self, url: str | None, secret: str | None = None) -> str | None:
        """Point deliveries at ``url`` (``None`` disables them). Returns the secret in use,
        generating a ``whsec_`` one when a URL is given without a secret. Deliveries still
        pending (from before a restart) go to the new URL."""
        if url is not None and not secret:
            secret = self.secret or new_webhook_secret()
        with self._cond:
            self.url, self.secret = url, secret
            self._cond.notify_all()
        if self.enabled and self.store.next_delivery() is not None:
            self._ensure_thread()
        return secret

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.secret)

    def send(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for the configured endpoint; returns at once."""
        if not self.enabled:
            return
        self.store.save_delivery({"event": event, "attempts": 0, "first_attempt_at": None,
                                  "next_attempt_at": time.time()})
        self._ensure_thread()
        with self._cond:
            self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event was attempted at least once. False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.store.has_unattempted_deliveries():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=self.timeout + 1)
        self._thread = None

    def _ensure_thread(self) -> None:
        with self._cond:
            if self._closed:
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="stripe-emulator-webhooks",
                                                daemon=True)
                self._thread.start()

    def _next_due(self) -> dict[str, Any] | float | None:
        """The oldest due delivery, else seconds until the next one (None: nothing pending)."""
        first = self.store.next_delivery()
        if first is None or not self.enabled:
            return None
        wait = first["next_attempt_at"] - time.time()
        return first if wait <= 0 else wait

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                with self._cond:
                    if self._closed:
                        return
                    due = self._next_due()
                    if not isinstance(due, dict):
                        self._cond.wait(1.0 if due is None else min(due, 1.0))
                        continue
                    url, secret = self.url, self.secret
                assert url and secret
                self._attempt(client, due, url, secret)
                with self._cond:
                    self._cond.notify_all()

    def _attempt(self, client: httpx.Client, delivery: dict[str, Any], url: str,
                 secret: str) -> None:
        event = delivery["event"]
        try:
            error = self._deliver(client, event, url, secret)
        except Exception as exc:  # never let a bad endpoint kill the sender thread
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            self.store.finish_delivery(event["id"])
            return
        now = time.time()
        first = delivery["first_attempt_at"] or now
        attempts = delivery["attempts"] + 1
        delay = min(self.retry_seconds * 2 ** (attempts - 1), self.MAX_RETRY_DELAY)
        if now + delay - first > self.retry_for_seconds:
            log.warning("webhook %s (%s): giving up after %d attempts", event.get("id"),
                        event.get("type"), attempts)
            self.store.finish_delivery(event["id"])
            return
        self.store.save_delivery({**delivery, "attempts": attempts, "first_attempt_at": first,
                                  "next_attempt_at": now + delay})

    def _deliver(self, client: httpx.Client, event: dict[str, Any], url: str,
                 secret: str) -> str | None:
        """One attempt; the error, or None when the endpoint acknowledged (2xx)."""
        payload = json.dumps(event, indent=2)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign_payload(payload, secret),
        }
        status: int | None = None
        error: str | None = None
        try:
            response = client.post(url, content=payload.encode("utf-8"), headers=headers)
            status = response.status_code
            if status >= 300:
                error = f"endpoint answered HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error:
            log.warning("webhook %s (%s) to %s failed: %s", event.get("id"), event.get("type"), url, error)
        self.deliveries.append(Delivery(event["id"], event.get("type", ""), url, status, error))
        return error
