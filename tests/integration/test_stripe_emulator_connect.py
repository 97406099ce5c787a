"""The emulator as a Stripe Connect stand-in: accounts that need onboarding, Account Links
and the hosted onboarding page, state that survives a restart, 409 for an idempotency key
still in flight, and webhooks retried until acknowledged."""

from __future__ import annotations

import ast
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onboarding_form import read_form

import taskmarket.stripe_emulator as emulator_package
from taskmarket.stripe_emulator import EmulatorConfig, Faults, serve_app, start_emulator

WHSEC = "whsec_connect_test"





def onboarding_link(client, account_id: str) -> str:
    return client.v1.account_links.create({
        "account": account_id, "type": "account_onboarding",
        "return_url": "https://app.example/payouts/done",
        "refresh_url": "https://app.example/payouts/again"}).url


def submit_onboarding(url: str) -> httpx.Response:
    """What a person does: open the link, submit the form as filled in."""
    page = httpx.get(url)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    form = read_form(page.text)
    assert form.method == "post"
    return httpx.post(urljoin(url, form.action), data=form.fields)


@pytest.fixture
def emu(tmp_path):
    running = start_emulator(config=EmulatorConfig(state_path=tmp_path / "stripe.sqlite3"))
    yield running
    running.stop()


def test_an_account_needs_onboarding_and_the_page_completes_it(emu):
    client = emu.stripe_client(max_network_retries=0)
    account = client.v1.accounts.create({"type": "express",
                                         "capabilities": {"transfers": {"requested": "true"}}})
    assert account.capabilities.transfers == "inactive" and not account.payouts_enabled
    assert account.requirements.currently_due
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create({"amount": 100, "currency": "usd",
                                    "destination": account.id})
    assert refused.value.code == "insufficient_capabilities_for_transfer"

    url = onboarding_link(client, account.id)
    done = submit_onboarding(url)
    assert done.status_code == 303
    assert done.headers["location"] == "https://app.example/payouts/done"

    ready = client.v1.accounts.retrieve(account.id)
    assert ready.capabilities.transfers == "active" and ready.payouts_enabled
    assert ready.requirements.currently_due == []
    updates = [e for e in emu.state.events() if e["type"] == "account.updated"]
    assert [e["data"]["object"]["id"] for e in updates] == [account.id]
    assert client.v1.transfers.create({"amount": 100, "currency": "usd",
                                       "destination": account.id}).amount == 100

    # The link was used: opening it again sends the person to refresh_url.
    again = httpx.get(url)
    assert again.status_code == 303
    assert again.headers["location"] == "https://app.example/payouts/again"


def test_an_expired_link_redirects_to_refresh_url(emu):
    client = emu.stripe_client(max_network_retries=0)
    account = client.v1.accounts.create({"type": "express"})
    url = onboarding_link(client, account.id)
    token = url.rsplit("/", 1)[1]
    emu.state.store.account_links[token]["expires_at"] = int(time.time()) - 1
    assert httpx.get(url).headers["location"] == "https://app.example/payouts/again"
    assert httpx.post(url, data={"full_name": "x"}).status_code == 303
    assert not client.v1.accounts.retrieve(account.id).payouts_enabled


def test_account_links_check_their_input(emu):
    client = emu.stripe_client(max_network_retries=0)
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        onboarding_link(client, "acct_nobody")
    assert unknown.value.code == "resource_missing"
    account = client.v1.accounts.create({"type": "express"})
    with pytest.raises(stripe.InvalidRequestError) as bad_url:
        client.v1.account_links.create({"account": account.id, "type": "account_onboarding",
                                        "return_url": "javascript:alert(1)",
                                        "refresh_url": "https://app.example/r"})
    assert bad_url.value.param == "return_url"


def test_state_survives_a_restart(tmp_path):
    path = tmp_path / "stripe.sqlite3"
    first = start_emulator(config=EmulatorConfig(state_path=path, platform_balance=10_000))
    client = first.stripe_client(max_network_retries=0)
    account = client.v1.accounts.create({"type": "express"}).id
    first.state.complete_onboarding(account)
    transfer = client.v1.transfers.create({"amount": 700, "currency": "usd",
                                           "destination": account}, {"idempotency_key": "k1"})
    client.v1.transfers.reversals.create(transfer.id, {"amount": 200})
    first.stop()

    second = start_emulator(config=EmulatorConfig(state_path=path, platform_balance=10_000))
    try:
        client = second.stripe_client(max_network_retries=0)
        assert client.v1.accounts.retrieve(account).payouts_enabled
        assert [t.id for t in client.v1.transfers.list({"destination": account}).data] == [
            transfer.id]
        assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 200
        assert second.state.store.balance == 10_000 - 700 + 200
        replay = client.v1.transfers.create({"amount": 700, "currency": "usd",
                                             "destination": account}, {"idempotency_key": "k1"})
        assert replay.id == transfer.id and len(second.state.transfers()) == 1
        assert [e["type"] for e in second.state.events()] == [
            "account.updated", "transfer.created", "transfer.reversed"]
    finally:
        second.stop()


def test_with_a_state_file_memory_holds_only_the_recent_objects(tmp_path, monkeypatch):
    """What grows with use lives in the file: memory keeps a few recent objects, yet every
    transfer, reversal, event and idempotency key is still there as Stripe would have it."""
    from taskmarket.stripe_emulator import documents

    monkeypatch.setattr(documents, "CACHE_SIZE", 4)
    running = start_emulator(config=EmulatorConfig(state_path=tmp_path / "stripe.sqlite3"))
    try:
        client = running.stripe_client(max_network_retries=0)
        account = client.v1.accounts.create({"type": "express"}).id
        running.state.complete_onboarding(account)
        made = [client.v1.transfers.create(
            {"amount": 100 + n, "currency": "usd", "destination": account,
             "transfer_group": f"g{n % 2}"}, {"idempotency_key": f"k{n}"}) for n in range(12)]
        store = running.state.store
        for kind in (store.transfers, store.events, store._idempotent):
            assert kind.in_memory <= 4
        replay = client.v1.transfers.create(
            {"amount": 100, "currency": "usd", "destination": account, "transfer_group": "g0"},
            {"idempotency_key": "k0"})
        assert replay.id == made[0].id and replay.last_response.headers.get(
            "Idempotent-Replayed") == "true"
        assert client.v1.transfers.retrieve(made[0].id).amount == 100
        client.v1.transfers.reversals.create(made[1].id, {"amount": 50})
        assert client.v1.transfers.retrieve(made[1].id).amount_reversed == 50
        listed = client.v1.transfers.list({"transfer_group": "g1", "limit": 100}).data
        assert [t.id for t in listed] == [t.id for t in reversed(made) if int(t.amount) % 2]
        assert len(running.state.transfers()) == 12
        assert [e["type"] for e in running.state.events()] == (
            ["account.updated"] + ["transfer.created"] * 12 + ["transfer.reversed"])
    finally:
        running.stop()


def test_an_idempotency_key_in_flight_gets_409(emu):
    client = emu.stripe_client(max_network_retries=0)
    account = client.v1.accounts.create({"type": "express"}).id
    emu.state.complete_onboarding(account)
    emu.state.set_faults(Faults(latency_ms=400))

    def create():
        try:
            return client.v1.transfers.create(
                {"amount": 500, "currency": "usd", "destination": account},
                {"idempotency_key": "same-key"}).id
        except stripe.StripeError as error:  # the SDK raises 409s as APIError
            return error

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(create)
        time.sleep(0.1)  # the first is inside its 400 ms of latency
        second = pool.submit(create)
        outcomes = [first.result(), second.result()]
    made = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, stripe.StripeError)]
    assert len(made) == 1 and len(refused) == 1
    assert refused[0].http_status == 409
    assert refused[0].json_body["error"]["code"] == "idempotency_key_in_use"
    # Once the first finished, the key replays its transfer.
    emu.state.set_faults()
    assert create() == made[0]
    assert len(emu.state.transfers()) == 1


class FlakyReceiver:
    """Answers 500 to the first ``failures`` deliveries, then 200."""

    def __init__(self, failures: int):
        self.failures = failures
        self.seen: list[str] = []
        self.acknowledged: list[str] = []
        self.lock = threading.Lock()

        async def hook(request: Request) -> Response:
            event = stripe.Webhook.construct_event(await request.body(),
                                                   request.headers["stripe-signature"], WHSEC)
            with self.lock:
                self.seen.append(event.id)
                if len(self.seen) <= self.failures:
                    return Response(status_code=500)
                self.acknowledged.append(event.id)
            return Response(status_code=200)

        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])


def wait_until(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_unacknowledged_webhooks_are_sent_again_with_backoff(tmp_path):
    receiver = FlakyReceiver(failures=3)
    server = serve_app(receiver.app)
    config = EmulatorConfig(state_path=tmp_path / "s.sqlite3", webhook_url=server.url + "/hook",
                            webhook_secret=WHSEC, webhook_retry_seconds=0.05)
    emu = start_emulator(config=config)
    try:
        account = emu.stripe_client().v1.accounts.create({"type": "express"}).id
        event = emu.state.complete_onboarding(account)
        event_id = emu.state.events()[-1]["id"]
        assert event["id"] == account
        assert wait_until(lambda: receiver.acknowledged == [event_id])
        assert receiver.seen == [event_id] * 4  # three refusals, then acknowledged
        assert wait_until(lambda: emu.state.store.pending_deliveries() == [])
        failed = [d for d in emu.state.webhooks.deliveries if d.error]
        assert len(failed) == 3
    finally:
        emu.stop()
        server.stop()


def test_retries_are_bounded(tmp_path):
    config = EmulatorConfig(webhook_url="http://127.0.0.1:9/unreachable", webhook_secret=WHSEC,
                            webhook_retry_seconds=0.02, webhook_retry_for_seconds=0.2)
    emu = start_emulator(config=config)
    try:
        account = emu.stripe_client().v1.accounts.create({"type": "express"}).id
        emu.state.complete_onboarding(account)
        assert wait_until(lambda: emu.state.store.pending_deliveries() == [])
        attempts = [d for d in emu.state.webhooks.deliveries if d.error]
        assert 2 <= len(attempts) < 20
    finally:
        emu.stop()


def test_a_pending_webhook_is_delivered_after_a_restart(tmp_path):
    path = tmp_path / "s.sqlite3"
    first = start_emulator(config=EmulatorConfig(
        state_path=path, webhook_url="http://127.0.0.1:9/down", webhook_secret=WHSEC,
        webhook_retry_seconds=30))
    account = first.stripe_client().v1.accounts.create({"type": "express"}).id
    first.state.complete_onboarding(account)
    assert first.state.webhooks.flush(5)
    first.stop()

    receiver = FlakyReceiver(failures=0)
    server = serve_app(receiver.app)
    second = start_emulator(config=EmulatorConfig(state_path=path, webhook_retry_seconds=30))
    try:
        assert len(second.state.store.pending_deliveries()) == 1
        second.state.store.deliveries[next(iter(second.state.store.deliveries))][
            "next_attempt_at"] = 0  # due now rather than in 30 s
        second.state.configure_webhooks(server.url + "/hook", WHSEC)
        assert wait_until(lambda: len(receiver.acknowledged) == 1)
        assert second.state.store.pending_deliveries() == []
    finally:
        second.stop()
        server.stop()


def test_the_emulator_imports_nothing_of_taskmarket():
    """A stand-in for Stripe: it must not know the code that calls it."""
    package = Path(emulator_package.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level > 0 or not (node.module or "").startswith("taskmarket"), (
                    source.name, node.module)
                assert node.level <= 1, (source.name, node.module)  # nothing above the package
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("taskmarket") for a in node.names), source.name
