"""The Stripe emulator, exercised over HTTP with the real ``stripe`` SDK."""

from __future__ import annotations

import json
import random
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from taskmarket.stripe_emulator import EmulatorConfig, Faults, create_app, serve_app, start_emulator

API_KEY = "sk_test_emulator"
WHSEC = "whsec_test_secret"


@pytest.fixture(scope="module")
def emu():
    running = start_emulator()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def clean(emu):
    emu.state.reset()
    emu.state.configure_webhooks(None)
    emu.state.set_platform_balance(None)
    yield


@pytest.fixture
def client(emu) -> stripe.StripeClient:
    """No SDK retries, so injected faults are observed as they happen."""
    return stripe.StripeClient(API_KEY, base_addresses={"api": emu.url}, max_network_retries=0)


@pytest.fixture
def account(client, emu):
    """An account whose holder finished onboarding, so it can receive transfers."""
    made = client.v1.accounts.create(params={"type": "express", "email": "worker@example.com"})
    emu.state.store.complete_onboarding(made.id)
    return client.v1.accounts.retrieve(made.id)


def _transfer(client, destination, amount=1500, key=None, **extra):
    params = {"amount": amount, "currency": "usd", "destination": destination, **extra}
    options = {"idempotency_key": key} if key else None
    return client.v1.transfers.create(params=params, options=options)


class Receiver:
    """A loopback Starlette app that records webhook deliveries."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str | None]] = []
        self._cond = threading.Condition()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._cond:
                self.received.append((body, request.headers.get("stripe-signature")))
                self._cond.notify_all()
            return Response(status_code=200)

        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[bytes, str | None]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)


@pytest.fixture(scope="module")
def receiver():
    recv = Receiver()
    server = serve_app(recv.app)
    recv.url = server.url + "/hook"
    yield recv
    server.stop()


# -- happy path -----------------------------------------------------------------

def test_account_transfer_retrieve_and_list(client, account):
    assert account.id.startswith("acct_") and account.type == "express"
    assert client.v1.accounts.retrieve(account.id).email == "worker@example.com"

    first = _transfer(client, account.id, 1000, transfer_group="task_1", metadata={"claim": "c1"},
                      description="payout")
    second = _transfer(client, account.id, 2000, transfer_group="task_1")
    other = _transfer(client, account.id, 3000, transfer_group="task_2")

    assert first.id.startswith("tr_") and first.object == "transfer"
    assert (first.amount, first.currency, first.destination) == (1000, "usd", account.id)
    assert first.metadata.to_dict() == {"claim": "c1"}
    assert first.reversed is False and first.amount_reversed == 0 and first.livemode is False

    fetched = client.v1.transfers.retrieve(first.id)
    assert fetched.to_dict() == first.to_dict()

    listed = client.v1.transfers.list(params={"transfer_group": "task_1"})
    assert [t.id for t in listed.data] == [second.id, first.id]  # newest first
    assert listed.has_more is False and listed.url == "/v1/transfers"
    by_dest = client.v1.transfers.list(params={"destination": account.id, "limit": 2})
    assert [t.id for t in by_dest.data] == [other.id, second.id] and by_dest.has_more is True
    page2 = client.v1.transfers.list(params={"destination": account.id, "starting_after": second.id})
    assert [t.id for t in page2.data] == [first.id]
    all_ids = [t.id for t in client.v1.transfers.list(params={"limit": 1}).auto_paging_iter()]
    assert all_ids == [other.id, second.id, first.id]


def test_module_level_sdk_with_api_base(emu, account, monkeypatch):
    monkeypatch.setattr(stripe, "api_key", API_KEY)
    monkeypatch.setattr(stripe, "api_base", emu.url)
    transfer = stripe.Transfer.create(amount=700, currency="usd", destination=account.id)
    assert stripe.Transfer.retrieve(transfer.id).amount == 700


def test_reversal_marks_transfer_reversed(client, account, emu):
    transfer = _transfer(client, account.id, 1200)
    reversal = client.v1.transfers.reversals.create(transfer.id)
    assert reversal.id.startswith("trr_") and reversal.amount == 1200 and reversal.transfer == transfer.id
    after = client.v1.transfers.retrieve(transfer.id)
    assert after.reversed is True and after.amount_reversed == 1200
    assert [e["type"] for e in emu.state.events()] == ["transfer.created", "transfer.reversed"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(transfer.id)


# -- errors -----------------------------------------------------------------------

def test_missing_or_bad_auth_is_401(emu):
    response = httpx.post(emu.url + "/v1/transfers", data={"amount": "1"})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    bad = stripe.StripeClient("sk_live_nope", base_addresses={"api": emu.url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.transfers.list()


def test_unknown_ids_are_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as acct_err:
        client.v1.accounts.retrieve("acct_missing")
    assert acct_err.value.http_status == 404 and acct_err.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as tr_err:
        client.v1.transfers.retrieve("tr_missing")
    assert tr_err.value.http_status == 404 and tr_err.value.code == "resource_missing"


def test_unknown_destination(client, emu):
    with pytest.raises(stripe.InvalidRequestError) as err:
        _transfer(client, "acct_doesnotexist")
    assert err.value.http_status == 400
    assert err.value.code == "resource_missing" and err.value.param == "destination"
    assert emu.state.transfers() == []


def test_invalid_accounts(client, emu):
    flagged = client.v1.accounts.create(params={"type": "custom", "metadata": {"fail": "invalid"}})
    with pytest.raises(stripe.InvalidRequestError) as err:
        _transfer(client, flagged.id)
    assert err.value.code == "account_invalid" and err.value.param == "destination"

    ok = client.v1.accounts.create(params={"type": "express"})
    emu.state.store.complete_onboarding(ok.id)
    _transfer(client, ok.id)
    assert httpx.post(f"{emu.url}/_emulator/accounts/{ok.id}/invalidate").status_code == 200
    with pytest.raises(stripe.InvalidRequestError) as err2:
        _transfer(client, ok.id)
    assert err2.value.code == "account_invalid"
    assert len(emu.state.transfers()) == 1


def test_balance_insufficient(client, account, emu):
    assert httpx.post(emu.url + "/_emulator/balance", json={"available": 1500}).json() == {"available": 1500}
    _transfer(client, account.id, 1000)
    with pytest.raises(stripe.InvalidRequestError) as err:
        _transfer(client, account.id, 1000)
    assert err.value.code == "balance_insufficient"
    assert emu.state.store.balance == 500


def test_parameter_validation(client, account):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.transfers.create(params={"currency": "usd", "destination": account.id})
    assert missing.value.code == "parameter_missing" and missing.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as zero:
        _transfer(client, account.id, 0)
    assert zero.value.param == "amount"


# -- idempotency ------------------------------------------------------------------

def test_idempotent_replay_is_byte_identical(client, account, emu):
    first = _transfer(client, account.id, key="payout-1")
    again = _transfer(client, account.id, key="payout-1")
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.body == first.last_response.body
    assert len(emu.state.transfers()) == 1

    # Scoped per API key: another key holder gets its own transfer.
    other = stripe.StripeClient("sk_test_other", base_addresses={"api": emu.url}, max_network_retries=0)
    assert _transfer(other, account.id, key="payout-1").id != first.id


def test_idempotency_key_reused_with_different_params(client, account, emu):
    _transfer(client, account.id, 1000, key="payout-2")
    with pytest.raises(stripe.IdempotencyError) as err:
        _transfer(client, account.id, 9999, key="payout-2")
    assert err.value.http_status == 400
    assert err.value.json_body["error"]["type"] == "idempotency_error"
    assert len(emu.state.transfers()) == 1


def test_concurrent_requests_with_same_key_create_one_transfer(client, account, emu):
    emu.state.set_faults(latency_ms=20)  # widen the race window

    def attempt():
        try:
            return _transfer(client, account.id, 500, "race-key").id
        except stripe.APIError as error:  # 409: the key is in use by a running request
            assert error.http_status == 409
            return None

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(lambda _: attempt(), range(20)))
    ids = {o for o in outcomes if o is not None}
    assert len(ids) == 1
    assert [t["id"] for t in emu.state.transfers()] == list(ids)
    assert attempt() in ids  # after the race the key replays the one transfer


# -- fault injection ----------------------------------------------------------------

def test_failure_rate_returns_500_and_creates_nothing(client, account, emu):
    reply = httpx.post(emu.url + "/_emulator/faults", json={"failure_rate": 1.0, "seed": 1})
    assert reply.status_code == 200 and reply.json()["failure_rate"] == 1.0
    with pytest.raises(stripe.APIError) as err:
        _transfer(client, account.id, key="fails")
    assert err.value.http_status == 500
    assert httpx.get(emu.url + "/_emulator/transfers").json()["data"] == []

    emu.state.set_faults()  # an injected 500 is not cached: the same key now succeeds
    assert _transfer(client, account.id, key="fails").id
    assert len(emu.state.transfers()) == 1


def test_rate_limit_and_custom_error_status(client, account, emu):
    emu.state.set_faults(rate_limit_rate=1.0)
    with pytest.raises(stripe.RateLimitError) as limited:
        _transfer(client, account.id)
    assert limited.value.http_status == 429
    emu.state.set_faults(failure_rate=1.0, error_status=503)
    with pytest.raises(stripe.APIError) as unavailable:
        _transfer(client, account.id)
    assert unavailable.value.http_status == 503
    assert emu.state.transfers() == []


def test_bad_fault_settings_are_rejected(emu):
    assert httpx.post(emu.url + "/_emulator/faults", json={"failure_rate": 2}).status_code == 400
    assert httpx.post(emu.url + "/_emulator/faults", json={"nope": 1}).status_code == 400


def test_commit_then_drop(client, account, emu):
    emu.state.set_faults(commit_then_drop_rate=1.0)
    with pytest.raises(stripe.APIConnectionError):
        _transfer(client, account.id, 4200, key="dropped")
    committed = emu.state.transfers()
    assert len(committed) == 1  # the transfer exists although the caller saw an error

    emu.state.set_faults()
    retried = _transfer(client, account.id, 4200, key="dropped")
    assert retried.id == committed[0]["id"]
    assert retried.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(emu.state.transfers()) == 1


def test_sdk_retry_recovers_dropped_response(emu, account):
    # One draw per request: pick a seed whose first request drops and second passes.
    seed = next(s for s in range(1000) if (lambda r: r.random() < 0.5 <= r.random())(random.Random(s)))
    emu.state.set_faults(commit_then_drop_rate=0.5, seed=seed)
    retrying = stripe.StripeClient(API_KEY, base_addresses={"api": emu.url}, max_network_retries=1)
    # No explicit key: the SDK generates one per call and reuses it on its retry.
    transfer = _transfer(retrying, account.id, 800)
    assert transfer.last_response.headers["Idempotent-Replayed"] == "true"
    assert [t["id"] for t in emu.state.transfers()] == [transfer.id]


def test_faults_are_deterministic_with_seed():
    a = Faults(failure_rate=0.3, rate_limit_rate=0.2, commit_then_drop_rate=0.1, seed=7)
    b = Faults(failure_rate=0.3, rate_limit_rate=0.2, commit_then_drop_rate=0.1, seed=7)
    assert [a.decide() for _ in range(50)] == [b.decide() for _ in range(50)]


# -- webhooks ------------------------------------------------------------------------

def test_signed_webhooks(client, account, emu, receiver):
    start = len(receiver.received)
    reply = httpx.post(emu.url + "/_emulator/webhooks", json={"url": receiver.url, "secret": WHSEC})
    assert reply.json()["secret"] == WHSEC

    transfer = _transfer(client, account.id, 900, transfer_group="task_9")
    client.v1.transfers.reversals.create(transfer.id)
    deliveries = receiver.wait_for(start + 2)[start:]

    events = [stripe.Webhook.construct_event(body, sig, WHSEC) for body, sig in deliveries]
    assert [e.type for e in events] == ["transfer.created", "transfer.reversed"]
    created, reversed_ = events
    assert created.id.startswith("evt_") and created.object == "event" and created.livemode is False
    assert created.data.object.id == transfer.id and created.data.object.transfer_group == "task_9"
    assert created.api_version and created.created
    assert reversed_.data.object.reversed is True

    body, sig = deliveries[0]
    tampered = body.replace(b'"amount": 900', b'"amount": 90000')
    assert tampered != body
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, sig, WHSEC)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sig, "whsec_wrong")


def test_webhook_failures_do_not_block_api(client, account, emu):
    # The receiver holds every request until the API call has returned, then fails it. Had
    # the API waited for its webhook, the delivery would have timed out instead.
    release = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def receive_then_fail() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                release.wait(timeout=30)
                conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\n"
                             b"Content-Length: 0\r\nConnection: close\r\n\r\n")

        receiver = threading.Thread(target=receive_then_fail, daemon=True)
        receiver.start()
        emu.state.configure_webhooks(f"http://127.0.0.1:{listener.getsockname()[1]}/hook",
                                     WHSEC)
        _transfer(client, account.id)
        release.set()
        assert emu.state.webhooks.flush(timeout=30)
        receiver.join(timeout=30)
    assert emu.state.webhooks.deliveries[-1].error == "endpoint answered HTTP 500"


# -- control plane and configuration ---------------------------------------------

def test_control_endpoints(client, account, emu):
    transfer = _transfer(client, account.id)
    assert [t["id"] for t in httpx.get(emu.url + "/_emulator/transfers").json()["data"]] == [transfer.id]
    assert httpx.get(emu.url + "/_emulator/events").json()["data"][0]["type"] == "transfer.created"
    assert httpx.post(emu.url + "/_emulator/reset").status_code == 200
    assert emu.state.transfers() == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.retrieve(account.id)


def test_python_config_at_startup(receiver):
    config = EmulatorConfig(platform_balance=100, webhook_url=receiver.url, webhook_secret=WHSEC)
    with start_emulator(config=config) as other:
        c = other.stripe_client(max_network_retries=0)
        acct = c.v1.accounts.create(params={"type": "custom"})
        other.state.store.complete_onboarding(acct.id)
        with pytest.raises(stripe.InvalidRequestError) as err:
            _transfer(c, acct.id, 101)
        assert err.value.code == "balance_insufficient"
        start = len(receiver.received)
        transfer = _transfer(c, acct.id, 100)
        body, sig = receiver.wait_for(start + 1)[start]
        assert stripe.Webhook.construct_event(body, sig, WHSEC).data.object.id == transfer.id
    assert not other.running


def test_create_app_exposes_state():
    app = create_app(EmulatorConfig(faults=Faults(failure_rate=0.5, seed=3)))
    assert app.state.emulator.faults.failure_rate == 0.5
    assert json.loads(json.dumps(app.state.emulator.faults.to_dict()))["seed"] == 3
