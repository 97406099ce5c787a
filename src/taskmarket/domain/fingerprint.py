"""A stable digest of a command's input, to tell a replay from a reused idempotency key."""

from __future__ import annotations

import hashlib
import json


def fingerprint(**fields: object) -> str:
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
