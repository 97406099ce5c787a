"""Starlette routes speaking Stripe's v1 wire format (form bodies in, JSON out)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .control import control_routes
from .onboarding import onboarding_routes
from .errors import ApiError, invalid_param, missing_param
from .faults import Fault, drop_connection
from .forms import decode_form, fingerprint
from .state import EmulatorConfig, EmulatorState
from .fields import new_id
from .store import IdempotentResponse

_INTEGER = re.compile(r"^-?\d+$")
_CURRENCY = re.compile(r"^[a-z]{3}$")


@dataclass
class Call:
    """What a v1 handler gets: decoded params plus request context."""

    request: Request
    state: EmulatorState
    params: dict[str, Any]
    request_id: str
    idempotency_key: str | None

    def emit(self, event_type: str, obj: dict[str, Any]) -> None:
        """Record an event and hand it to the webhook sender (non-blocking)."""
        self.state.emit(event_type, obj, request_id=self.request_id,
                        idempotency_key=self.idempotency_key)


Handler = Callable[[Call], dict[str, Any]]


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


# -- parameter helpers --------------------------------------------------------

def _only(params: dict[str, Any], allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise ApiError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def _int(params: dict[str, Any], name: str, *, required: bool = False, minimum: int | None = None,
         maximum: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise missing_param(name)
        return None
    if not isinstance(raw, str) or not _INTEGER.match(raw):
        raise invalid_param(name, f"Invalid integer: {raw}", "parameter_invalid_integer")
    value = int(raw)
    if minimum is not None and value < minimum:
        raise invalid_param(name, f"This value must be greater than or equal to {minimum}.",
                            "parameter_invalid_integer")
    if maximum is not None and value > maximum:
        raise invalid_param(name, f"This value must be less than or equal to {maximum}.",
                            "parameter_invalid_integer")
    return value


def _str(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise missing_param(name)
        return None
    if not isinstance(raw, str):
        raise invalid_param(name, f"Invalid string: {name} must be a string.")
    return raw


def _metadata(params: dict[str, Any]) -> dict[str, str]:
    raw = params.get("metadata")
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise invalid_param("metadata", "Invalid hash: metadata must be a hash of strings.")
    return raw


def _path(call: Call, name: str) -> str:
    return call.request.path_params[name]


# -- v1 handlers ---------------------------------------------------------------

def create_account(call: Call) -> dict[str, Any]:
    p = call.params
    account_type = _str(p, "type")
    if account_type is None and "controller" not in p:
        raise missing_param("type")
    account_type = account_type or "custom"
    if account_type not in {"standard", "express", "custom"}:
        raise invalid_param("type", "Invalid type: must be one of standard, express, or custom")
    return call.state.store.create_account(
        type=account_type, email=_str(p, "email"), metadata=_metadata(p),
        country=_str(p, "country") or "US", default_currency=(_str(p, "default_currency") or "usd").lower(),
        business_type=_str(p, "business_type"))


def retrieve_account(call: Call) -> dict[str, Any]:
    return call.state.store.get_account(_path(call, "account_id"))


_LINK_TYPES = {"account_onboarding", "account_update"}


def _url_param(params: dict[str, Any], name: str) -> str:
    value = _str(params, name, required=True) or ""
    if not value.startswith(("http://", "https://")) or len(value) > 2048:
        raise invalid_param(name, f"Not a valid URL: {name} must be an http(s) URL.", "url_invalid")
    return value


def create_account_link(call: Call) -> dict[str, Any]:
    p = call.params
    _only(p, {"account", "type", "refresh_url", "return_url", "collect", "collection_options",
              "expand"})
    link_type = _str(p, "type", required=True)
    if link_type not in _LINK_TYPES:
        raise invalid_param("type", "Invalid type: must be one of account_onboarding or "
                            "account_update")
    return call.state.store.create_account_link(
        account=_str(p, "account", required=True) or "", type=link_type or "",
        refresh_url=_url_param(p, "refresh_url"), return_url=_url_param(p, "return_url"),
        base_url=str(call.request.base_url))


_TRANSFER_CREATE = {"amount", "currency", "destination", "transfer_group", "description", "metadata",
                    "source_transaction", "source_type", "expand"}


def create_transfer(call: Call) -> dict[str, Any]:
    p = call.params
    _only(p, _TRANSFER_CREATE)
    amount = _int(p, "amount", required=True, minimum=1)
    currency = (_str(p, "currency", required=True) or "").lower()
    if not _CURRENCY.match(currency):
        raise invalid_param("currency", f"Invalid currency: {currency}.", "invalid_currency")
    transfer = call.state.store.create_transfer(
        amount=amount or 0, currency=currency, destination=_str(p, "destination", required=True) or "",
        transfer_group=_str(p, "transfer_group"), description=_str(p, "description"),
        metadata=_metadata(p), source_transaction=_str(p, "source_transaction"))
    call.emit("transfer.created", transfer)
    return transfer


def retrieve_transfer(call: Call) -> dict[str, Any]:
    return call.state.store.get_transfer(_path(call, "transfer_id"))


def update_transfer(call: Call) -> dict[str, Any]:
    _only(call.params, {"description", "metadata", "expand"})
    transfer = call.state.store.update_transfer(
        _path(call, "transfer_id"), description=_str(call.params, "description"),
        metadata=_metadata(call.params))
    call.emit("transfer.updated", transfer)
    return transfer


def list_transfers(call: Call) -> dict[str, Any]:
    p = call.params
    limit = _int(p, "limit", minimum=1, maximum=100) or 10
    page, has_more = call.state.store.list_transfers(
        limit=limit, starting_after=_str(p, "starting_after"), ending_before=_str(p, "ending_before"),
        destination=_str(p, "destination"), transfer_group=_str(p, "transfer_group"),
        created=_created(p))
    return {"object": "list", "data": page, "has_more": has_more, "url": "/v1/transfers"}


def _created(params: dict[str, Any]) -> dict[str, int]:
    """``created`` as Stripe takes it: an exact time or ``created[gte|gt|lte|lt]``."""
    raw = params.get("created")
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        exact = _int(params, "created")
        return {"gte": exact, "lte": exact}
    if not isinstance(raw, dict) or set(raw) - {"gt", "gte", "lt", "lte"}:
        raise invalid_param("created", "Invalid created: use created[gt|gte|lt|lte].")
    return {op: _int(raw, op) for op in raw}


def create_reversal(call: Call) -> dict[str, Any]:
    p = call.params
    _only(p, {"amount", "description", "metadata", "refund_application_fee", "expand"})
    reversal, transfer = call.state.store.create_reversal(
        _path(call, "transfer_id"), amount=_int(p, "amount", minimum=1),
        description=_str(p, "description"), metadata=_metadata(p))
    call.emit("transfer.reversed", transfer)
    return reversal


def list_reversals(call: Call) -> dict[str, Any]:
    transfer_id = _path(call, "transfer_id")
    limit = _int(call.params, "limit", minimum=1, maximum=100) or 10
    data, has_more = call.state.store.list_reversals_page(
        transfer_id, limit=limit, starting_after=_str(call.params, "starting_after"))
    return {"object": "list", "data": data, "has_more": has_more,
            "url": f"/v1/transfers/{transfer_id}/reversals"}


def list_events(call: Call) -> dict[str, Any]:
    p = call.params
    limit = _int(p, "limit", minimum=1, maximum=100) or 10
    page, has_more = call.state.store.list_events(
        limit=limit, starting_after=_str(p, "starting_after"), type=_str(p, "type"),
        created=_created(p))
    return {"object": "list", "data": page, "has_more": has_more, "url": "/v1/events"}


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
