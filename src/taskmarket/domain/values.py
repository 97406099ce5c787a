"""Checks of the text and JSON that commands take, done once at the boundary.

Whatever a command accepts ends up in events, and from there in every read model, the
event log, webhooks and exports. So accepted text must be something PostgreSQL ``text``
and ``jsonb`` can hold (no NUL, no lone surrogate: both make a projection fail on every
retry), and accepted JSON must survive the round trip through ``jsonb`` and our JSON
writer unchanged: bounded depth and size, finite numbers, integers within 64 bits.

Numbers: ``jsonb`` keeps a number as an exact decimal and hands it back without an
exponent, so ``1e300`` comes back as a 301-digit integer that no 64-bit writer takes.
A number (integer or not) must therefore lie strictly within ±2**63: that bound keeps
integers within a signed 64-bit range and keeps every float below it lossless too.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import DomainError

NAME_LENGTH = 200
TITLE_LENGTH = 200
SKILL_LENGTH = 64
REFERENCE_LENGTH = 200
IDEMPOTENCY_KEY_LENGTH = 255
INSTRUCTIONS_LENGTH = 20_000
FEEDBACK_LENGTH = 5_000
JSON_BYTES = 256 * 1024
JSON_DEPTH = 32
NUMBER_BOUND = 2**63  # exclusive: integers are signed 64-bit, floats stay below it too


def invalid(field: str, message: str) -> DomainError:
    return DomainError("INVALID_INPUT", message, [field])


def unstorable(text: str) -> str | None:
    """Why PostgreSQL text cannot hold ``text`` (None when it can)."""
    if "\x00" in text:
        return "must not contain the NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates)"
    return None


def clean_text(text: str, max_length: int) -> str:
    """Text from a system we do not control (a payment provider's error, a webhook
    receiver's answer) made storable: unstorable characters replaced, cut to length."""
    text = text.replace("\x00", "\ufffd")
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    return text[:max_length]


def check_text(value: Any, field: str, max_length: int, *, required: bool = True,
               strip: bool = True) -> str:
    """Text a column can hold, at most ``max_length`` characters, stripped by default.

    ``required``: refuse empty (after stripping) text. Raises INVALID_INPUT naming ``field``.
    """
    if not isinstance(value, str):
        raise invalid(field, f"{field} must be text")
    text = value.strip() if strip else value
    if required and not text:
        raise invalid(field, f"{field} is required")
    if len(text) > max_length:
        raise invalid(field, f"{field} is at most {max_length} characters")
    problem = unstorable(text)
    if problem:
        raise invalid(field, f"{field} {problem}")
    return text


def check_optional_text(value: Any, field: str, max_length: int) -> str | None:
    """None, or text as given (not stripped, may be empty) that passes ``check_text``."""
    if value is None:
        return None
    return check_text(value, field, max_length, required=False, strip=False)


def check_idempotency_key(value: Any, field: str = "idempotencyKey") -> str | None:
    """An idempotency key as given (None or empty: none), or INVALID_INPUT."""
    if value is None or value == "":
        return None
    return check_text(value, field, IDEMPOTENCY_KEY_LENGTH, strip=False)


def check_json(value: Any, field: str, max_bytes: int = JSON_BYTES,
               max_depth: int = JSON_DEPTH) -> Any:
    """A JSON value every read model can store and give back unchanged.

    Objects have text keys; strings and keys pass ``unstorable``; numbers are finite and
    within ±2**63; nesting is at most ``max_depth``; the encoding at most ``max_bytes``.
    """
    _walk(value, field, max_depth, 0)
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise invalid(field, f"{field} is larger than {max_bytes // 1024} KiB")
    return value


def _walk(value: Any, field: str, max_depth: int, depth: int) -> None:
    if depth > max_depth:
        raise invalid(field, f"{field} is nested deeper than {max_depth} levels")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        _check_json_text(value, field)
    elif isinstance(value, int):
        if not -NUMBER_BOUND < value < NUMBER_BOUND:
            raise invalid(field, f"{field} has an integer outside the signed 64-bit range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise invalid(field, f"{field} has a number that is not finite (NaN, Infinity)")
        if not -NUMBER_BOUND < value < NUMBER_BOUND:
            raise invalid(field, f"{field} has a number beyond ±2^63")
    elif isinstance(value, (list, tuple)):
        for item in value:
            _walk(item, field, max_depth, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise invalid(field, f"{field} has an object key that is not text")
            _check_json_text(key, field)
            _walk(item, field, max_depth, depth + 1)
    else:
        raise invalid(field, f"{field} must be JSON")


def _check_json_text(text: str, field: str) -> None:
    problem = unstorable(text)
    if problem:
        raise invalid(field, f"text in {field} {problem}")
