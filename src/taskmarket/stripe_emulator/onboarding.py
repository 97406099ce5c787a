"""The hosted onboarding page an Account Link points at (Stripe's Connect onboarding).

``GET /connect/onboarding/{token}`` shows one HTML form; submitting it (POST) completes the
account's onboarding, emits ``account.updated`` and redirects to the link's ``return_url``.
A used or expired link redirects to its ``refresh_url``, as Stripe's do.
"""

from __future__ import annotations

import html
import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .state import EmulatorState

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Set up payouts (Stripe emulator)</title></head>
<body>
<main>
<h1>Set up payouts</h1>
<p>Test mode: this page stands in for Stripe's hosted onboarding of account
<code>{account}</code>. No real information is needed.</p>
{error}
<form method="post" action="{action}">
  <label>Legal name <input name="full_name" value="Test Worker" required></label>
  <label>Date of birth <input name="dob" value="1990-01-01" required></label>
  <label>Bank account (routing, account) <input name="bank_account"
         value="110000000 000123456789" required></label>
  <label><input type="checkbox" name="tos" value="accepted" checked required>
         I accept the Stripe Connected Account Agreement</label>
  <button type="submit">Agree and submit</button>
</form>
</main>
</body>
</html>
"""


def _state(request: Request) -> EmulatorState:
    return request.app.state.emulator


def _page(account: str, action: str, error: str = "", status: int = 200) -> HTMLResponse:
    shown = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    return HTMLResponse(_PAGE.format(account=html.escape(account), action=html.escape(action),
                                     error=shown), status_code=status)


def _not_found() -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>Link not found</title><h1>This link is not "
                        "valid.</h1>", status_code=404)


async def onboarding_page(request: Request) -> Response:
    state = _state(request)
    token = request.path_params["token"]
    link = state.store.account_link(token)
    if link is None:
        return _not_found()
    if link["used"] or link["expires_at"] < time.time():
        return RedirectResponse(link["refresh_url"], status_code=303)
    if request.method == "GET":
        return _page(link["account"], request.url.path)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    missing = [name for name in ("full_name", "dob", "bank_account", "tos")
               if not (form.get(name) or [""])[0].strip()]
    if missing:
        return _page(link["account"], request.url.path,
                     f"Please fill in: {', '.join(missing)}", status=400)
    used = state.store.use_account_link(token)
    if used is None:  # used or expired by a concurrent submission meanwhile
        return RedirectResponse(link["refresh_url"], status_code=303)
    state.complete_onboarding(used["account"])
    return RedirectResponse(used["return_url"], status_code=303)


def onboarding_routes() -> list[Route]:
    return [Route("/connect/onboarding/{token}", onboarding_page, methods=["GET", "POST"])]
