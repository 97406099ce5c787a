"""The HTTP/WebSocket endpoint: strawberry's ASGI view with API-key authentication.

HTTP requests without a known key get 401 before anything runs (GraphiQL pages for
browsers excepted: they carry no data). On the WebSocket the key arrives in
connection_init; an unknown one closes the socket with 4401.

Bodies that are not a JSON object (malformed, invalid UTF-8, nested too deep, `null`,
`5`) get a 400 with a GraphQL-shaped error. The response's media type is negotiated
(media.py): application/graphql-response+json when the client asks for it.
"""

from __future__ import annotations

import json
import logging
import uuid
from functools import cache
from importlib.resources import files
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from ..logs import request_id
from .auth import Viewer, secret_from_header
from .consistency import AFTER_POSITION_HEADER, parse_after_position
from .context import Context, Services
from .limits import allowed_origins
from .media import GRAPHQL_RESPONSE, failed_before_execution, negotiate
from .ws import KeyBoundTransportWSHandler

log = logging.getLogger("taskmarket.graphql")
UNAUTHORIZED = "Unauthorized: send 'Authorization: Bearer <api key>' with a known key"


CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 405: "METHOD_NOT_ALLOWED",
         404: "NOT_FOUND", 415: "UNSUPPORTED_MEDIA_TYPE"}


NOT_AN_OBJECT = "The request body must be a JSON object"
UNPARSABLE = "Unable to parse request body as JSON"


def error_response(status: int, reason: str, media_type: str = "application/json"
                   ) -> JSONResponse:
    """Transport errors as GraphQL-shaped JSON, so clients parse one format."""
    body = {"errors": [{"message": reason, "extensions": {"code": CODES.get(status, "ERROR")}}]}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers, media_type=media_type)


class AuthAwareWebSocket(ASGIWebSocketAdapter):
    """Reports a refused connection_init as 4401 (strawberry's default is 4403)."""

    async def close(self, code: int, reason: str) -> None:
        if code == 4403 and getattr(self.ws.state, "unauthenticated", False):
            code, reason = 4401, "Unauthorized"
        await super().close(code, reason)


@cache
def graphiql_page() -> str:
    """Our GraphiQL page: assets served from the package (/static), an API-key field."""
    return files("taskmarket.graphql").joinpath("static", "index.html").read_text()


class GraphQLView(GraphQL):
    websocket_adapter_class = AuthAwareWebSocket  # type: ignore[assignment]
    graphql_transport_ws_handler_class = KeyBoundTransportWSHandler

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_page()

    def __init__(self, schema: Any, services: Services, origins: list[str] | None = None):
        if origins is None:  # WebSocket origins: their own list, else the CORS list
            origins = allowed_origins("TASKMARKET_WS_ORIGINS") or allowed_origins()
        # Only the contract's protocol: the legacy graphql-ws one would keep serving a
        # revoked key's socket (its sessions are not bound to their key).
        super().__init__(schema, allowed_origins=origins,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        self.services = services

    def encode_json(self, data: object) -> str:
        # orjson encodes a page of nodes several times faster than json.dumps; what it
        # refuses (integers beyond 64 bits, non-string keys in a JSON payload) still
        # goes out through json. Text, not bytes: WebSocket messages must be text frames.
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    def parse_json(self, data: str | bytes) -> Any:
        """A JSON object, or a 400: never a 500 for what a client sent."""
        try:
            parsed = self.decode_json(data)
        except (ValueError, RecursionError):  # bad JSON or UTF-8; nesting beyond the stack
            raise HTTPException(400, UNPARSABLE) from None
        if not isinstance(parsed, dict):
            raise HTTPException(400, NOT_AN_OBJECT)
        return parsed

    async def process_result(self, request: Any, result: Any) -> Any:
        processed = await super().process_result(request, result)
        if (isinstance(request, Request) and request.state.media_type == GRAPHQL_RESPONSE
                and failed_before_execution(result)):
            processed.pop("data", None)  # the spec: no data entry before execution
            request.state.request_error = True
        return processed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = request.state.media_type = negotiate(request.headers.get("accept"))
        try:
            response = await self.run(request)
        except HTTPException as error:
            status = error.status_code
            if isinstance(error.__cause__, InvalidOperationTypeError) and request.method == "GET":
                status = 405  # the spec: a mutation over GET is 405, and nothing runs
            response = error_response(status, error.reason, media_type)
            if status == 405:
                response.headers["Allow"] = "POST"
        if media_type == GRAPHQL_RESPONSE and response.media_type == "application/json":
            response.headers["content-type"] = GRAPHQL_RESPONSE
            if getattr(request.state, "request_error", False):
                response.status_code = 400
        await response(scope, receive, send)

    async def viewer_for(self, authorization: str | None) -> Viewer | None:
        secret = secret_from_header(authorization)
        if secret is None:
            return None
        if self.services.keys is not None:
            key = await self.services.keys.authenticate(secret)
        else:
            key = await run_in_threadpool(self.services.marketplace.authenticate, secret)
        if key is None:
            return None
        return Viewer(role=key.role, subject_id=key.subject_id, key_name=key.name,
                      key_id=key.id)

    async def get_context(self, request: Request | WebSocket,
                          response: Response | WebSocket) -> Context:
        rid = request_id.get() or uuid.uuid4().hex
        context = Context(self.services, request=request, response=response, request_id=rid)
        if isinstance(request, WebSocket):
            return context  # authenticated by on_ws_connect
        context.viewer = await self.viewer_for(request.headers.get("authorization"))
        if context.viewer is None and not self.is_ide_request(request):
            raise HTTPException(401, UNAUTHORIZED)
        await self.read_after(context, request.headers.get(AFTER_POSITION_HEADER))
        return context

    async def read_after(self, context: Context, header: str | None) -> None:
        """A client that wrote (and got a position back) reads at least up to it."""
        try:
            position = parse_after_position(header)
        except ValueError as error:
            raise HTTPException(400, str(error)) from None
        if position is None:
            return
        head = await run_in_threadpool(self.services.reads.max_position)
        if position > head:
            raise HTTPException(400, f"{AFTER_POSITION_HEADER} {position} is past the end "
                                     f"of the log ({head})")
        context.reads_after.require(position)

    def is_ide_request(self, request: Request) -> bool:
        return self.should_render_graphql_ide(self.request_adapter_class(request))

    async def on_ws_connect(self, context: Context) -> Any:
        params = context.connection_params or {}
        authorization = params.get("authorization") or params.get("Authorization")
        context.viewer = await self.viewer_for(
            authorization if isinstance(authorization, str) else None)
        if context.viewer is None:
            context.request.state.unauthenticated = True
            raise ConnectionRejectionError()
        return await super().on_ws_connect(context)
