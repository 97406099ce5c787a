"""Stripe's v1 resources as the emulator answers them: each handler takes a Call (the
decoded form parameters and the request's context) and returns the JSON object."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from starlette.requests import Request

from .errors import ApiError, invalid_param, missing_param
from .state import EmulatorState

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
