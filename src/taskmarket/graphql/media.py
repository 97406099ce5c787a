"""Content negotiation of the GraphQL-over-HTTP spec: which media type a response gets.

``application/graphql-response+json`` goes to clients that ask for it; everyone else
(no Accept, ``*/*``, ``application/json``) gets ``application/json`` as before. Only with
the new type do requests that fail before execution (unparsable documents, validation
and variable errors) answer 4xx without a ``data`` entry: a plain-JSON client of the
legacy format expects 200 for those, and the spec keeps that for it.
"""

from __future__ import annotations

from typing import Any

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _preferences(accept: str) -> dict[str, float]:
    """Media range -> quality, from an Accept header (malformed parameters ignored)."""
    found: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        found[media.lower()] = max(found.get(media.lower(), 0.0), quality)
    return found


def negotiate(accept: str | None) -> str:
    """The media type to answer with: the new one only when the client asks for it by
    name at least as strongly as for JSON."""
    if not accept:
        return JSON
    wanted = _preferences(accept)
    new = wanted.get(GRAPHQL_RESPONSE, 0.0)
    json_quality = max(wanted.get(JSON, 0.0), wanted.get("application/*", 0.0),
                       wanted.get("*/*", 0.0))
    return GRAPHQL_RESPONSE if new > 0 and new >= json_quality else JSON


def failed_before_execution(result: Any) -> bool:
    """Whether a result is a request error: no data and only errors without a path
    (syntax, validation, variable coercion), as opposed to a field error."""
    errors = getattr(result, "errors", None)
    if getattr(result, "data", None) is not None or not errors:
        return False
    return all(not getattr(error, "path", None) for error in errors)
