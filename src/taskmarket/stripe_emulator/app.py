"""Starlette routes speaking Stripe's v1 wire format (form bodies in, JSON out): keys,
idempotency, injected faults and errors around the resource handlers of v1.py."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .control import control_routes
from .onboarding import onboarding_routes
from .errors import ApiError
from .faults import Fault, drop_connection
from .forms import decode_form, fingerprint
from .state import EmulatorConfig, EmulatorState
from .fields import new_id
from .store import IdempotentResponse
from .v1 import (
    Call, Handler, create_account, create_account_link, create_reversal, create_transfer,
    list_events, list_reversals, list_transfers, retrieve_account, retrieve_transfer,
    update_transfer,
)


class _DropConnection(Response):
    """Closes the connection instead of answering (see :func:`drop_connection`)."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await drop_connection(receive, send)


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, indent=2).encode("utf-8")


def _respond(status: int, body: bytes, request_id: str, extra: dict[str, str] | None = None) -> Response:
    headers = {"Request-Id": request_id, **(extra or {})}
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _error(err: ApiError, request_id: str, extra: dict[str, str] | None = None) -> Response:
    return _respond(err.status, _json_bytes(err.body(request_id)), request_id, extra)


def _api_key(request: Request) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    key = ""
    if scheme.lower() == "bearer":
        key = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(credentials).decode("utf-8").split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
    if not key:
        raise ApiError(401, "You did not provide an API key. You need to provide your API key in the "
                       "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                       "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details.")
    if not key.startswith(("sk_test_", "rk_test_")):
        masked = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:]
        raise ApiError(401, f"Invalid API Key provided: {masked}")
    return key


async def _dispatch(request: Request, handler: Handler, *, with_faults: bool = False) -> Response:
    state: EmulatorState = request.app.state.emulator
    request_id = new_id("req_", 14)
    idempotency_key = request.headers.get("idempotency-key") if request.method == "POST" else None
    echo = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    try:
        api_key = _api_key(request)
        raw = await request.body() if request.method == "POST" else request.url.query
        params = decode_form(raw)
        if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
            raise ApiError(400, "Idempotency keys must be between 1 and 255 characters long.")
    except ApiError as err:
        return _error(err, request_id, echo)

    call = Call(request, state, params, request_id, idempotency_key)
    if idempotency_key is None:
        fault = await _injected_fault(state, with_faults, echo, request_id)
        if isinstance(fault, Response):
            return fault
        status, body = _execute(handler, call)
        response = _respond(status, body, request_id)
    else:
        scope = (api_key, request.headers.get("stripe-account", ""), idempotency_key)
        if not state.store.begin_idempotent(scope):
            # Stripe does not queue a second request behind a running one with its key.
            return _error(ApiError(409, "Another request with this idempotency key is still "
                                   "being processed. Wait for it to finish and retry.",
                                   type="idempotency_error", code="idempotency_key_in_use"),
                          request_id, echo)
        try:
            digest = fingerprint(request.method, request.url.path, params)
            saved = state.store.idempotent_response(scope)
            if saved is not None and saved.fingerprint != digest:
                return _error(ApiError(400, "Keys for idempotent requests can only be used with the same "
                                       "parameters they were first used with. Try using a key other than "
                                       f"'{idempotency_key}' if you meant to execute a different request.",
                                       type="idempotency_error"), request_id, echo)
            fault = Fault.NONE
            if saved is not None:
                response = _respond(saved.status, saved.body, request_id, {
                    **echo, "Idempotent-Replayed": "true", "Original-Request": saved.request_id})
            else:
                fault = await _injected_fault(state, with_faults, echo, request_id)
                if isinstance(fault, Response):
                    return fault
                status, body = _execute(handler, call, store_as=(scope, digest))
                response = _respond(status, body, request_id, echo)
        finally:
            state.store.end_idempotent(scope)
    if fault is Fault.COMMIT_THEN_DROP:
        return _DropConnection()
    return response


async def _injected_fault(state: EmulatorState, with_faults: bool,
                          echo: dict[str, str] | None = None,
                          request_id: str = "") -> "Fault | Response":
    """Latency and a drawn fault; a Response when the fault answers instead of the handler."""
    if not with_faults:
        return Fault.NONE
    faults = state.faults
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    fault = faults.decide()
    if fault is Fault.FAIL:
        return _error(ApiError(faults.error_status, "An unknown error occurred (injected by the "
                               "Stripe emulator).", type="api_error"), request_id, echo)
    if fault is Fault.RATE_LIMIT:
        return _error(ApiError(429, "Request rate limit exceeded (injected by the Stripe emulator).",
                               code="rate_limit"), request_id, echo)
    return fault


def _execute(handler: Handler, call: Call,
             store_as: tuple[tuple[str, str, str], str] | None = None) -> tuple[int, bytes]:
    cacheable = True
    try:
        status, body = 200, _json_bytes(handler(call))
    except ApiError as err:
        status, body, cacheable = err.status, _json_bytes(err.body(call.request_id)), err.cacheable
    if store_as is not None and cacheable:
        scope, digest = store_as
        call.state.store.save_idempotent_response(
            scope, IdempotentResponse(digest, status, body, call.request_id))
    return status, body


def _route(handler: Handler, *, with_faults: bool = False) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _dispatch(request, handler, with_faults=with_faults)
    endpoint.__name__ = handler.__name__
    return endpoint


async def unknown_route(request: Request) -> Response:
    request_id = new_id("req_", 14)
    return _error(ApiError(404, f"Unrecognized request URL ({request.method}: {request.url.path}). "
                           "Please see https://stripe.com/docs or we can help at "
                           "https://support.stripe.com/."), request_id)


_ALL_METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH"]


def create_app(config: EmulatorConfig | None = None, *, state: EmulatorState | None = None) -> Starlette:
    """Build the emulator app; its state lives on ``app.state.emulator`` (an :class:`EmulatorState`)."""
    if state is None:
        state = EmulatorState(config)
    elif config is not None:
        raise TypeError("pass either config or state, not both")
    routes = [
        Route("/v1/accounts", _route(create_account), methods=["POST"]),
        Route("/v1/accounts/{account_id}", _route(retrieve_account), methods=["GET"]),
        Route("/v1/account_links", _route(create_account_link), methods=["POST"]),
        *onboarding_routes(),
        Route("/v1/transfers", _route(create_transfer, with_faults=True), methods=["POST"]),
        Route("/v1/transfers", _route(list_transfers), methods=["GET"]),
        Route("/v1/transfers/{transfer_id}", _route(retrieve_transfer), methods=["GET"]),
        Route("/v1/transfers/{transfer_id}", _route(update_transfer), methods=["POST"]),
        Route("/v1/transfers/{transfer_id}/reversals", _route(create_reversal), methods=["POST"]),
        Route("/v1/transfers/{transfer_id}/reversals", _route(list_reversals), methods=["GET"]),
        Route("/v1/events", _route(list_events), methods=["GET"]),
        *control_routes(),
        Route("/{path:path}", unknown_route, methods=_ALL_METHODS),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = state
    return app
