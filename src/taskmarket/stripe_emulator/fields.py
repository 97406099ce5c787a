"""Stripe-like object ids and the ``created[gt]=...`` range filters of list calls."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


_COMPARE = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}


def in_range(value: int, bounds: dict[str, int]) -> bool:
    return all(_COMPARE[op](value, bound) for op, bound in bounds.items())
