"""JSON text of read-model values (event bodies, payloads, results), written with orjson:
UUIDs, datetimes and enums come out as the public event bodies spell them."""

from __future__ import annotations

from typing import Any

import orjson

from ..events import to_json_value


def json_text(value: Any) -> str:
    return orjson.dumps(value, default=to_json_value, option=orjson.OPT_NON_STR_KEYS).decode()
