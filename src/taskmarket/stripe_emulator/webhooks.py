"""Signed webhook delivery (``Stripe-Signature: t=...,v1=...``) on a background thread."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

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
    """Queues events and POSTs them, signed, from one daemon thread, in order.

    Delivery failures are logged and recorded in :attr:`deliveries`, never raised.
    """

    def __init__(self, url: str | None = None, secret: str | None = None, timeout: float = 5.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.deliveries: deque[Delivery] = deque(maxlen=1000)  # most recent attempts
        self._queue: queue.Queue[tuple[dict[str, Any], str, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def configure(self, url: str | None, secret: str | None = None) -> str | None:
        """Point deliveries at ``url`` (``None`` disables them). Returns the secret in use,
        generating a ``whsec_`` one when a URL is given without a secret."""
        if url is not None and not secret:
            secret = self.secret or new_webhook_secret()
        self.url, self.secret = url, secret
        return secret

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.secret)

    def send(self, event: dict[str, Any]) -> None:
        """Enqueue ``event`` for the currently configured endpoint; returns at once."""
        url, secret = self.url, self.secret
        if not (url and secret):
            return
        self._ensure_thread()
        self._queue.put((event, url, secret))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event was attempted. Returns False on timeout."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=self.timeout + 1)
        self._thread = None

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="stripe-emulator-webhooks", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                item = self._queue.get()
                try:
                    if item is None:
                        return
                    self._deliver(client, *item)
                finally:
                    self._queue.task_done()

    def _deliver(self, client: httpx.Client, event: dict[str, Any], url: str, secret: str) -> None:
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
        except Exception as exc:  # never let a bad endpoint kill the sender thread
            error = f"{type(exc).__name__}: {exc}"
        if error:
            log.warning("webhook %s (%s) to %s failed: %s", event.get("id"), event.get("type"), url, error)
        self.deliveries.append(Delivery(event["id"], event.get("type", ""), url, status, error))
