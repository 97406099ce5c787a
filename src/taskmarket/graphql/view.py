"""The HTTP/WebSocket endpoint: strawberry's ASGI view with API-key authentication.

HTTP requests without a known key get 401 before anything runs (GraphiQL pages for
browsers excepted: they carry no data). On the WebSocket the key arrives in
connection_init; an unknown one closes the socket with 4401.
"""

from __future__ import annotations

import json
import logging
import uuid
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
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from ..logs import request_id
from .auth import Viewer, secret_from_header
from .context import Context, Services
from .limits import allowed_origins
from .ws import KeyBoundTransportWSHandler

log = logging.getLogger("taskmarket.graphql")
UNAUTHORIZED = "Unauthorized: send 'Authorization: Bearer <api key>' with a known key"


CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 405: "METHOD_NOT_ALLOWED",
         404: "NOT_FOUND", 415: "UNSUPPORTED_MEDIA_TYPE"}


def error_response(status: int, reason: str) -> JSONResponse:
    """Transport errors as GraphQL-shaped JSON, so clients parse one format."""
    body = {"errors": [{"message": reason, "extensions": {"code": CODES.get(status, "ERROR")}}]}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


class AuthAwareWebSocket(ASGIWebSocketAdapter):
    """Reports a refused connection_init as 4401 (strawberry's default is 4403)."""

    async def close(self, code: int, reason: str) -> None:
        if code == 4403 and getattr(self.ws.state, "unauthenticated", False):
            code, reason = 4401, "Unauthorized"
        await super().close(code, reason)


class GraphQLView(GraphQL):
    websocket_adapter_class = AuthAwareWebSocket  # type: ignore[assignment]
    graphql_transport_ws_handler_class = KeyBoundTransportWSHandler

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:
            response = error_response(error.status_code, error.reason)
        await response(scope, receive, send)

    async def viewer_for(self, authorization: str | None) -> Viewer | None:
        secret = secret_from_header(authorization)
        if secret is None:
            return None
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
        return context

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
