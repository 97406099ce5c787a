"""Decoding of Stripe's form-encoded request bodies (``metadata[k]=v``, ``expand[]=x``)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import ApiError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def decode_form(body: bytes | str) -> dict[str, Any]:
    """Turn ``a[b]=1&c[]=x&c[]=y`` into ``{"a": {"b": "1"}, "c": ["x", "y"]}``.

    Values stay strings, as Stripe receives them; routes coerce types.
    """
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(raw_key)
        if match is None:
            raise ApiError(400, f"Invalid parameter name: {raw_key}", code="parameter_unknown", param=raw_key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            if part == "":
                part = str(len(node))
            if depth == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise ApiError(400, f"Invalid value for {raw_key}: expected a hash.", param=raw_key)
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    if child == "":  # ``metadata=`` followed by ``metadata[k]=v``
                        child = node[part] = {}
                    else:
                        raise ApiError(400, f"Invalid hash for {raw_key}.", param=raw_key)
                node = child
    return _listify(root)


def _listify(node: Any, key: str = "") -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, k) for k, v in node.items()}
    # Metadata keys are free-form strings, even when they look like indexes.
    if key != "metadata" and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    """Order-insensitive digest of a request, used to detect idempotency-key reuse."""
    canonical = json.dumps([method.upper(), path, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
