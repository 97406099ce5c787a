"""Fault injection for ``POST /v1/transfers``: injected 5xx errors, 429s,
latency, and "commit then drop" (the transfer is created but the client never
gets a response)."""

from __future__ import annotations

import asyncio
import enum
import random
import threading
from dataclasses import dataclass, field, fields
from typing import Any


class Fault(enum.Enum):
    NONE = "none"
    FAIL = "fail"  # error_status (5xx) api_error; nothing is created
    RATE_LIMIT = "rate_limit"  # 429; nothing is created
    COMMIT_THEN_DROP = "commit_then_drop"  # request is executed, response is lost


@dataclass
class Faults:
    """Probabilities are per request; one random draw decides, so at most one
    fault fires (precedence: failure, rate limit, commit-then-drop).
    ``seed`` makes the sequence of decisions reproducible."""

    failure_rate: float = 0.0
    rate_limit_rate: float = 0.0
    commit_then_drop_rate: float = 0.0
    latency_ms: int = 0
    error_status: int = 500
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for name in ("failure_rate", "rate_limit_rate", "commit_then_drop_rate"):
            rate = float(getattr(self, name))
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
            setattr(self, name, rate)
        if self.failure_rate + self.rate_limit_rate + self.commit_then_drop_rate > 1.0 + 1e-9:
            raise ValueError("failure_rate + rate_limit_rate + commit_then_drop_rate must not exceed 1")
        if not 500 <= int(self.error_status) <= 599:
            raise ValueError(f"error_status must be a 5xx status, got {self.error_status}")
        if int(self.latency_ms) < 0:
            raise ValueError("latency_ms must be >= 0")
        self.error_status, self.latency_ms = int(self.error_status), int(self.latency_ms)
        self._rng = random.Random(self.seed)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Faults":
        allowed = {f.name for f in fields(cls) if f.init}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    @property
    def active(self) -> bool:
        return bool(self.failure_rate or self.rate_limit_rate or self.commit_then_drop_rate)

    def decide(self) -> Fault:
        if not self.active:
            return Fault.NONE
        with self._lock:
            draw = self._rng.random()
        threshold = self.failure_rate
        if draw < threshold:
            return Fault.FAIL
        threshold += self.rate_limit_rate
        if draw < threshold:
            return Fault.RATE_LIMIT
        threshold += self.commit_then_drop_rate
        if draw < threshold:
            return Fault.COMMIT_THEN_DROP
        return Fault.NONE


async def drop_connection(receive: Any, send: Any) -> None:
    """Close the client connection without sending a response.

    Under uvicorn, ``receive`` is a bound method of the per-request cycle,
    which holds the socket transport: closing it makes the client see
    "connection closed without response" (a retryable connection error in
    the stripe SDK). Elsewhere, fall back to sending the status line and then
    abandoning the (chunked) body, which servers answer by closing the
    connection mid-response.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "close"):
        transport.close()
        # Let the server notice the disconnect before the app returns, so it
        # does not try to write its own "500 Internal Server Error".
        for _ in range(3):
            await asyncio.sleep(0)
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
