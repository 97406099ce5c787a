"""The emulator's hosted onboarding page in a real browser (Debian's headless Chromium,
driven by Playwright): the worker submits the form and lands on the platform's return
URL, and the account can receive transfers."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from taskmarket.stripe_emulator import EmulatorConfig, serve_app, start_emulator

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install "
    "chromium); .ci/run installs it so CI runs this test")


@pytest.fixture
def platform():
    """The platform's own pages Stripe sends the worker back to."""

    async def page(request):
        return HTMLResponse(f"<h1>{request.url.path.strip('/')}</h1>")

    server = serve_app(Starlette(routes=[Route("/{name}", page)]))
    yield server.url
    server.stop()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


def test_a_worker_completes_onboarding_in_chromium(tmp_path, platform, browser):
    emulator = start_emulator(config=EmulatorConfig(state_path=tmp_path / "s.sqlite3"))
    try:
        stripe = emulator.stripe_client(max_network_retries=0)
        account = stripe.v1.accounts.create({"type": "express"}).id
        link = stripe.v1.account_links.create({
            "account": account, "type": "account_onboarding",
            "return_url": f"{platform}/payouts-ready",
            "refresh_url": f"{platform}/payouts-again"}).url

        page = browser.new_page()
        page.goto(link)
        assert page.get_by_role("heading").inner_text() == "Set up payouts"
        page.get_by_label("Legal name").fill("Ada Lovelace")
        page.get_by_role("button", name="Agree and submit").click()
        page.wait_for_url(f"{platform}/payouts-ready")
        assert page.get_by_role("heading").inner_text() == "payouts-ready"

        enabled = stripe.v1.accounts.retrieve(account)
        assert enabled.capabilities.transfers == "active" and enabled.payouts_enabled
        # The link was used up: opening it again goes to the refresh URL.
        page.goto(link)
        page.wait_for_url(f"{platform}/payouts-again")
    finally:
        emulator.stop()
