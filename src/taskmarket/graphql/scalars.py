"""Scalars of the contract's scalars.graphql section, mapped in the schema's config."""

from __future__ import annotations

from typing import NewType

import strawberry

BigInt = NewType("BigInt", int)


def _parse_big_int(value: object) -> int:
    text = str(value)
    if not text.lstrip("-").isdigit() or text.count("-") > 1:
        raise ValueError(f"BigInt must be a string of decimal digits, got {value!r}")
    return int(text)


SCALAR_MAP = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="An integer of any size, as a JSON string of decimal digits (leading "
                    "'-' when negative).",
        serialize=lambda value: str(int(value)), parse_value=_parse_big_int),
}
