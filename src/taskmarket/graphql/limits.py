"""Limits on what one request may ask, and caches of parsing and validation."""

from __future__ import annotations

import os
from typing import Any

from graphql import GraphQLError, SelectionSetNode, ValidationRule, Visitor, visit
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


def empty_selection_set(document) -> SelectionSetNode | None:
    """The first ``{ }`` in the document: the grammar forbids it, graphql-core's parser
    lets it through, and strawberry's depth limiter fails on it (``max()`` of nothing)."""
    found: list[SelectionSetNode] = []

    class Finder(Visitor):
        def enter_selection_set(self, node, *_):
            if not node.selections:
                found.append(node)
                return self.BREAK
            return None

    visit(document, Finder())
    return found[0] if found else None


def refusing_empty_selection_sets(rule: type[ValidationRule]) -> type[ValidationRule]:
    """``rule``, except that a document with an empty selection set gets a GraphQL error
    saying so instead of reaching it."""

    class Checked(rule):  # type: ignore[misc, valid-type]
        def __init__(self, context):
            empty = empty_selection_set(context.document)
            if empty is None:
                super().__init__(context)
                return
            ValidationRule.__init__(self, context)
            context.report_error(GraphQLError(
                "Syntax Error: a selection set must select at least one field.", empty))

    Checked.__name__ = Checked.__qualname__ = f"{rule.__name__}RefusingEmptySelections"
    return Checked


# The depth and alias rules are built once: the validation cache is keyed by the rule
# classes, and a limiter made per request would make new classes (a miss every time).
LIMIT_RULES = (
    *(refusing_empty_selection_sets(rule)
      for rule in QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules),
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules)


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
