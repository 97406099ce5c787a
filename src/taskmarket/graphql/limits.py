"""Limits on what one request may ask, and caches of parsing and validation."""

from __future__ import annotations

import os
from typing import Any

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    MaskErrors, MaxAliasesLimiter, ParserCache, QueryDepthLimiter, ValidationCache,
)

from .errors import should_mask
from .extensions import OperationHooks

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 15
MAX_BODY_BYTES = 512 * 1024  # above the largest legal payload/result (256 KiB) plus room


# The depth and alias rules are built once: the validation cache is keyed by the rule
# classes, and a limiter made per request would make new classes (a miss every time).
LIMIT_RULES = tuple(
    rule for limiter in (QueryDepthLimiter(max_depth=MAX_DEPTH),
                         MaxAliasesLimiter(max_alias_count=MAX_ALIASES))
    for rule in limiter.validation_rules)


def extensions(caches: bool = True) -> list[Any]:
    """Factories: strawberry builds fresh extensions per request (the caches are shared).

    ``caches=False`` leaves parse/validation caching out (benchmarks' baseline only).
    """
    return [
        # The token limit and the depth/alias rules are set here (as strawberry's
        # MaxTokensLimiter and AddValidationRules would), with our other hooks.
        lambda: OperationHooks(max_tokens=MAX_TOKENS, validation_rules=LIMIT_RULES),
        *([lambda: ParserCache(maxsize=512)] if caches else []),
        *([lambda: ValidationCache(maxsize=512)] if caches else []),
        lambda: MaskErrors(should_mask_error=should_mask, error_message="Internal server error."),
    ]


class BodySizeLimit:
    """Answer 413 to an HTTP request whose body is larger than ``limit`` bytes.

    Checks Content-Length first and counts streamed chunks too (chunked uploads have none).
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self.too_large(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self.too_large(scope, receive, send)

    async def too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(f"request body is larger than {self.limit} bytes",
                                     status_code=413)
        await response(scope, receive, send)


class BodyTooLarge(Exception):
    pass


def allowed_origins(env: str = "TASKMARKET_CORS_ORIGINS") -> list[str]:
    """Browser origins allowed to call the API (CORS and WebSocket), comma-separated."""
    return [o.strip() for o in os.environ.get(env, "").split(",") if o.strip()]
