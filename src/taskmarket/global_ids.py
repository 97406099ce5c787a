"""Relay global IDs: opaque base64 of "<Type>:<part>[:<part>]", for every edge (API, webhooks, CLI).

Claims and submissions live inside their task's aggregate, so their IDs carry the task's
id too: a mutation that names a claim can load the task that holds it.
"""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from .domain import DomainError

# How many UUID parts each type's global id holds.
PARTS = {
    "Requester": 1, "Worker": 1, "Task": 1, "Claim": 2, "Submission": 2, "Payout": 1,
    "ApiKey": 1, "WebhookEndpoint": 1, "WebhookDelivery": 1, "Batch": 1, "ReconciliationRun": 1,
}


def to_global_id(type_name: str, *parts: object) -> str:
    raw = ":".join([type_name, *(str(part) for part in parts)])
    return base64.b64encode(raw.encode()).decode()


def parse_global_id(global_id: str) -> tuple[str, list[str]]:
    """The type name and the raw parts of a global id; INVALID_INPUT when malformed."""
    try:
        raw = base64.b64decode(str(global_id).encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise DomainError("INVALID_INPUT", f"malformed id {global_id!r}") from None
    type_name, _, rest = raw.partition(":")
    if not rest:
        raise DomainError("INVALID_INPUT", f"malformed id {global_id!r}")
    return type_name, rest.split(":")


def decode_id(global_id: str, expected: str, field: str) -> tuple[UUID, ...]:
    """The UUID parts of a global id of type ``expected``.

    A malformed id, a raw UUID or the id of another type is INVALID_INPUT naming the
    field: a wrong kind of id is the caller's mistake, never an empty answer.
    """
    try:
        type_name, parts = parse_global_id(global_id)
    except DomainError as error:
        raise DomainError(error.code, error.message, [field]) from None
    if type_name != expected:
        raise DomainError("INVALID_INPUT", f"expected a {expected} id, got "
                          f"{_article(type_name)} id", [field])
    if len(parts) != PARTS.get(type_name, 1):
        raise DomainError("INVALID_INPUT", f"malformed id {global_id!r}", [field])
    try:
        return tuple(UUID(part) for part in parts)
    except ValueError:
        raise DomainError("INVALID_INPUT", f"malformed id {global_id!r}", [field]) from None


def _article(type_name: str) -> str:
    if type_name in PARTS:
        return ("an " if type_name[0] in "AEIOU" else "a ") + type_name
    return "an unknown kind of"


def decode_one(global_id: str, expected: str, field: str) -> UUID:
    return decode_id(global_id, expected, field)[0]
