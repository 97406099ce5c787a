"""Scalars of the contract's scalars.graphql section."""

from __future__ import annotations

from typing import NewType

import strawberry


def _parse_big_int(value: object) -> int:
    text = str(value)
    if not text.lstrip("-").isdigit() or text.count("-") > 1:
        raise ValueError(f"BigInt must be a string of decimal digits, got {value!r}")
    return int(text)


BigInt = strawberry.scalar(
    NewType("BigInt", int), name="BigInt",
    description="An integer of any size, as a JSON string of decimal digits (leading '-' "
                "when negative).",
    serialize=lambda value: str(int(value)), parse_value=_parse_big_int)
