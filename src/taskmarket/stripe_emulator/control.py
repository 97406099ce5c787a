"""JSON control endpoints under ``/_emulator/`` (no auth): faults, reset,
inspection, account invalidation and onboarding, webhook target and platform balance."""

from __future__ import annotations

import json
from dataclasses import asdict
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .errors import ApiError
from .faults import Faults
from .state import EmulatorState


def _state(request: Request) -> EmulatorState:
    return request.app.state.emulator


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


async def _apply_posted(request: Request,
                        apply: Callable[[dict[str, Any]], None]) -> JSONResponse | None:
    """Apply a POST's JSON body; the 400 answer when ``apply`` (or the body) refuses it
    with a ValueError, else None (and for any other method)."""
    if request.method != "POST":
        return None
    try:
        apply(await _body(request))
    except ValueError as exc:
        return _bad(str(exc))
    return None


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": "invalid_request_error", "message": message}}, status_code=400)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def faults(request: Request) -> JSONResponse:
    state = _state(request)
    if request.method == "POST":
        try:
            state.set_faults(Faults.from_dict(await _body(request)))
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
    return JSONResponse(state.faults.to_dict())


async def reset(request: Request) -> JSONResponse:
    _state(request).reset()
    return JSONResponse({"ok": True})


async def transfers(request: Request) -> JSONResponse:
    return JSONResponse({"data": _state(request).transfers()})


async def accounts(request: Request) -> JSONResponse:
    return JSONResponse({"data": _state(request).store.all_accounts()})


def _account_change(request: Request, change: Callable[[str], dict]) -> JSONResponse:
    """Apply ``change`` to the account the path names; Stripe's error body when refused."""
    try:
        account = change(request.path_params["account_id"])
    except ApiError as err:
        return JSONResponse(err.body(), status_code=err.status)
    return JSONResponse(account)


async def invalidate_account(request: Request) -> JSONResponse:
    return _account_change(request, _state(request).invalidate_account)


async def onboard_account(request: Request) -> JSONResponse:
    """Complete an account's onboarding without the page (tests, scripts)."""
    return _account_change(request, _state(request).complete_onboarding)


async def require_information(request: Request) -> JSONResponse:
    """Stripe wants more from the holder: transfers to the account stop until onboarding."""
    return _account_change(request, _state(request).require_information)


async def events(request: Request) -> JSONResponse:
    return JSONResponse({"data": _state(request).events()})


async def webhooks(request: Request) -> JSONResponse:
    state = _state(request)

    def configure(data: dict[str, Any]) -> None:
        url, secret = data.get("url"), data.get("secret")
        if url is not None and not isinstance(url, str) or secret is not None and not isinstance(secret, str):
            raise ValueError("url and secret must be strings (or null)")
        state.configure_webhooks(url, secret)
        if isinstance(data.get("api_version"), str):
            state.config.api_version = data["api_version"]

    if refused := await _apply_posted(request, configure):
        return refused
    sender = state.webhooks
    return JSONResponse({"url": sender.url, "secret": sender.secret, "api_version": state.config.api_version,
                         "deliveries": [asdict(d) for d in list(sender.deliveries)],
                         "pending": [{"event": d["event"]["id"], "attempts": d["attempts"],
                                      "next_attempt_at": d["next_attempt_at"]}
                                     for d in state.store.pending_deliveries()]})


async def balance(request: Request) -> JSONResponse:
    state = _state(request)

    def set_balance(data: dict[str, Any]) -> None:
        available = data.get("available")
        if available is not None and (not isinstance(available, int) or isinstance(available, bool)):
            raise ValueError("available must be an integer amount or null (unlimited)")
        state.set_platform_balance(available)

    if refused := await _apply_posted(request, set_balance):
        return refused
    return JSONResponse({"available": state.store.balance})


async def transfer_behind_the_back(request: Request) -> JSONResponse:
    """Make a transfer at "Stripe" that the platform did not ask for (no webhook is sent):
    what reconciliation exists to find. Body: amount, currency, destination, metadata,
    created (unix seconds, optional)."""
    try:
        data = await _body(request)
        transfer = _state(request).store.create_transfer(
            amount=int(data["amount"]), currency=str(data.get("currency", "usd")).lower(),
            destination=str(data["destination"]), metadata=dict(data.get("metadata") or {}),
            transfer_group=data.get("transfer_group"), created=data.get("created"))
    except (ValueError, TypeError, KeyError) as exc:
        return _bad(f"bad transfer: {exc}")
    except ApiError as err:
        return JSONResponse(err.body(), status_code=err.status)
    return JSONResponse(transfer)


async def silent_reversal(request: Request) -> JSONResponse:
    """Reverse (part of) a transfer and lose its ``transfer.reversed`` webhook: the event
    is recorded (``GET /v1/events`` lists it), never delivered."""
    state = _state(request)
    try:
        data = await _body(request)
        reversal, transfer = state.store.create_reversal(
            request.path_params["transfer_id"], amount=data.get("amount"))
        state.store.record_event("transfer.reversed", transfer,
                                 api_version=state.config.api_version, request_id=None,
                                 idempotency_key=None)
    except ValueError as exc:
        return _bad(str(exc))
    except ApiError as err:
        return JSONResponse(err.body(), status_code=err.status)
    return JSONResponse(reversal)


async def adjust_transfer(request: Request) -> JSONResponse:
    """Change a transfer's amount, currency or destination in place (for tests of
    reconciliation: Stripe's record disagreeing with ours)."""
    try:
        data = await _body(request)
        transfer = _state(request).store.adjust_transfer(
            request.path_params["transfer_id"],
            **{k: v for k, v in data.items() if k in ("amount", "currency", "destination")})
    except ValueError as exc:
        return _bad(str(exc))
    except ApiError as err:
        return JSONResponse(err.body(), status_code=err.status)
    return JSONResponse(transfer)


def control_routes() -> list[Route]:
    return [
        Route("/_emulator/health", health, methods=["GET"]),
        Route("/_emulator/faults", faults, methods=["GET", "POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/transfers", transfers, methods=["GET"]),
        Route("/_emulator/transfers", transfer_behind_the_back, methods=["POST"]),
        Route("/_emulator/transfers/{transfer_id}/reversals", silent_reversal, methods=["POST"]),
        Route("/_emulator/transfers/{transfer_id}/adjust", adjust_transfer, methods=["POST"]),
        Route("/_emulator/accounts", accounts, methods=["GET"]),
        Route("/_emulator/accounts/{account_id}/invalidate", invalidate_account, methods=["POST"]),
        Route("/_emulator/accounts/{account_id}/onboard", onboard_account, methods=["POST"]),
        Route("/_emulator/accounts/{account_id}/require_information", require_information,
              methods=["POST"]),
        Route("/_emulator/events", events, methods=["GET"]),
        Route("/_emulator/webhooks", webhooks, methods=["GET", "POST"]),
        Route("/_emulator/balance", balance, methods=["GET", "POST"]),
    ]
