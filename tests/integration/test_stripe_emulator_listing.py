"""The emulator lists transfers by creation time and reversals page by page through the
SDK's auto-pagination, and lets a test change Stripe's books behind the platform's back."""

from __future__ import annotations

import httpx
import pytest
import stripe

from taskmarket.stripe_emulator import EmulatorConfig, start_emulator


@pytest.fixture(scope="module", params=["in memory", "in a state file"])
def emu(request, tmp_path_factory):
    """The emulator as tests start it, and as serve does: its objects in a SQLite file,
    where list calls filter them."""
    path = (tmp_path_factory.mktemp("stripe") / "stripe.sqlite3"
            if request.param == "in a state file" else None)
    running = start_emulator(config=EmulatorConfig(state_path=path))
    yield running
    running.stop()


@pytest.fixture
def client(emu):
    emu.state.reset()
    return stripe.StripeClient("sk_test_listing", base_addresses={"api": emu.url},
                               max_network_retries=0)


def onboarded(emu, client):
    account = client.v1.accounts.create({"type": "custom"})
    emu.state.store.complete_onboarding(account.id)
    return account


def test_transfers_by_created_range_through_auto_pagination(emu, client):
    account = onboarded(emu, client)
    control = httpx.Client(base_url=emu.url)
    for n in range(25):
        made = control.post("/_emulator/transfers", json={
            "amount": 100 + n, "currency": "usd", "destination": account.id,
            "created": 1_700_000_000 + n * 10, "metadata": {"n": str(n)}})
        assert made.status_code == 200, made.text
    page = client.v1.transfers.list({"created": {"gte": 1_700_000_050, "lt": 1_700_000_200},
                                     "limit": 4})
    seen = [t.amount for t in page.auto_paging_iter()]
    assert seen == list(range(119, 104, -1))  # n = 5..19, newest first
    assert emu.state.events() == []  # made behind the platform's back: no webhook events


def test_a_silent_reversal_and_an_adjusted_transfer_show_up_in_the_listings(emu, client):
    account = onboarded(emu, client)
    transfer = client.v1.transfers.create({"amount": 900, "currency": "usd",
                                           "destination": account.id})
    control = httpx.Client(base_url=emu.url)
    for amount in (100, 200, 300):
        assert control.post(f"/_emulator/transfers/{transfer.id}/reversals",
                            json={"amount": amount}).status_code == 200
    reversals = client.v1.transfers.reversals.list(transfer.id, {"limit": 2})
    assert [r.amount for r in reversals.auto_paging_iter()] == [300, 200, 100]
    # Stripe has the events; their webhooks were lost.
    assert [e["type"] for e in emu.state.events()] == ["transfer.created"] + [
        "transfer.reversed"] * 3
    listed = client.v1.events.list({"type": "transfer.reversed", "limit": 2,
                                    "created": {"gte": 0}})
    assert [e.data.object.amount_reversed for e in listed.auto_paging_iter()] == [
        600, 300, 100]

    adjusted = control.post(f"/_emulator/transfers/{transfer.id}/adjust",
                            json={"amount": 950, "destination": "acct_elsewhere"})
    assert adjusted.status_code == 200
    again = client.v1.transfers.retrieve(transfer.id)
    assert (again.amount, again.destination, again.amount_reversed) == (
        950, "acct_elsewhere", 600)
    missing = control.post("/_emulator/transfers/tr_nope/reversals", json={})
    assert missing.status_code == 404
