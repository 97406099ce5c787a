"""Opaque keyset cursors: the sort key of the last row seen, base64 wrapped.

A cursor names a place in one ordering (e.g. tasks newest first); passing it as ``after``
returns the rows strictly past it in that ordering. Rows inserted or changed meanwhile
never shift a page, as offsets would.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from uuid import UUID

from ..domain.errors import DomainError


def encode(*values: object) -> str:
    parts = [v.isoformat() if isinstance(v, datetime) else str(v) for v in values]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid() -> DomainError:
    return DomainError("INVALID_INPUT", "not a valid cursor", ["after"])


def decode(cursor: str | None, *types: type) -> tuple | None:
    """The values of a cursor as ``types`` (datetime, UUID, int, str); None for no cursor."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(parts, list) or len(parts) != len(types):
            raise ValueError
        return tuple(_parse(kind, part) for kind, part in zip(types, parts))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise _invalid() from None


def _parse(kind: type, text: str) -> object:
    if not isinstance(text, str):
        raise ValueError
    if kind is datetime:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise ValueError
        return value
    if kind is UUID:
        return UUID(text)
    if kind is int:
        return int(text)
    return text


def position_cursor(position: int) -> str:
    """Event cursors are the plain log position, as the contract says."""
    return str(position)


def decode_position(cursor: str | int | None) -> int:
    if cursor is None or cursor == "":
        return 0
    try:
        value = int(cursor)
    except (TypeError, ValueError):
        raise _invalid() from None
    if value < 0:
        raise _invalid()
    return value
