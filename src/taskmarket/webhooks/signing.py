"""Delivery signatures, Stripe's scheme: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>``.

The timestamp is inside the MAC, so a receiver that rejects old timestamps also rejects a
captured delivery replayed later by someone else.
"""

from __future__ import annotations

import hashlib
import hmac

from ..domain.apikey import hash_secret as secret_hash
from ..domain.webhook import new_secret

__all__ = ["new_secret", "secret_hash", "sign", "verify"]

SIGNATURE_HEADER = "Taskmarket-Signature"
EVENT_ID_HEADER = "Taskmarket-Event-Id"
DEFAULT_TOLERANCE = 300


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The Taskmarket-Signature header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: int,
           tolerance: int = DEFAULT_TOLERANCE) -> bool:
    """True when one v1 signature in ``header`` matches and its timestamp is recent."""
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
