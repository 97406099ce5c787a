"""One POST of one event to one endpoint: the body, the signature, the outcome."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from uuid import UUID

import httpx

from ..global_ids import to_global_id
from ..metrics import WEBHOOK_ATTEMPTS, WEBHOOK_LATENCY
from ..presented_events import present_data
from ..projections.rows import EventRow
from .signing import EVENT_ID_HEADER, SIGNATURE_HEADER, sign
from .ssrf import AddressRefused
from .store import event_id

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "taskmarket-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None
    latency_ms: int
    error: str | None

    def describe(self) -> str:
        if self.status_code is not None:
            return f"HTTP {self.status_code}"
        return self.error or "failed"


def body_of(event: EventRow) -> bytes:
    """The delivery body: the event as GraphQL's Event shows it."""
    return json.dumps({
        "id": event_id(event.position),
        "type": event.type,
        "position": str(event.position),
        "occurredAt": event.occurred_at.isoformat(),
        "aggregateId": to_global_id(event.aggregate_kind, event.aggregate_id),
        "data": present_data(event.aggregate_kind, event.aggregate_id, event.data),
    }, separators=(",", ":")).encode()


def post_event(client: httpx.Client, url: str, secret: str, event: EventRow,
               delivery_id: UUID) -> Outcome:
    """POST ``event`` once; delivered when a 2xx arrives within the client's timeout."""
    body = body_of(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: event_id(event.position),
        SIGNATURE_HEADER: sign(secret, body, int(time.time())),
        "Taskmarket-Delivery-Id": str(delivery_id),
    }
    started = time.perf_counter()
    outcome, label = _send(client, url, body, headers, started)
    WEBHOOK_ATTEMPTS.labels(label).inc()
    WEBHOOK_LATENCY.observe(outcome.latency_ms / 1000)
    return outcome


def _send(client: httpx.Client, url: str, body: bytes, headers: dict[str, str],
          started: float) -> tuple[Outcome, str]:
    try:
        with client.stream("POST", url, content=body, headers=headers) as response:
            _drain(response)
            status = response.status_code
    except AddressRefused as refused:
        return Outcome(False, None, _ms(started), str(refused)), "refused"
    except httpx.TimeoutException:
        return Outcome(False, None, _ms(started), "timed out"), "timeout"
    except httpx.HTTPError as error:
        message = f"{type(error).__name__}: {error}"[:500]
        return Outcome(False, None, _ms(started), message), "connection_error"
    delivered = 200 <= status < 300
    label = "delivered" if delivered else f"http_{status // 100}xx"
    return Outcome(delivered, status, _ms(started), None), label


def _drain(response: httpx.Response) -> None:
    """Read a small reply so the connection can be reused; stop reading a large one."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read > MAX_RESPONSE_BYTES:
            break


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
