"""Workers' connected accounts: one account however often onboarding is started, an unknown
account refused, and payouts that wait for an ENABLED account and then go out by
themselves, as Stripe's ``account.updated`` events say."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from workers_harness import (  # noqa: F401  (fixtures)
    accepted_payout, connected_account, emulator, funded_requester, pipeline, post, wait_until,
)

from taskmarket.bootstrap import build_read_models, start_projections
from taskmarket.domain import DomainError, PayoutStatus
from taskmarket.payout_accounts import PayoutAccounts
from taskmarket.stripe_webhook import account_updated
from taskmarket.jobs.stripe_gateway import StripeGateway

RETURN, REFRESH = "https://app.example/done", "https://app.example/again"


def test_concurrent_onboarding_makes_one_account(database, emulator):
    with pipeline(database, emulator, run_worker=False, dispatch=False) as app:
        worker = app.register_worker("Ada", [])
        accounts = PayoutAccounts(app, StripeGateway.connect(None, emulator.url))
        with ThreadPoolExecutor(8) as pool:
            links = list(pool.map(
                lambda _: accounts.start_onboarding(worker, RETURN, REFRESH), range(8)))
        made = emulator.state.store.all_accounts()
        assert len(made) == 1
        assert app.get_worker(worker).stripe_account_id == made[0]["id"]
        assert app.get_worker(worker).payout_account_status == "ONBOARDING"
        assert len(set(links)) == 8  # each call gets its own one-time link
        # Once more, later: the same account, a new link.
        assert accounts.start_onboarding(worker, RETURN, REFRESH) not in links
        assert len(emulator.state.store.all_accounts()) == 1


def test_linking_an_account_stripe_does_not_know_is_refused(database, emulator):
    with pipeline(database, emulator, run_worker=False, dispatch=False) as app:
        worker = app.register_worker("Ada", [])
        accounts = PayoutAccounts(app, StripeGateway.connect(None, emulator.url))
        version = app.get_worker(worker).version
        with pytest.raises(DomainError) as refused:
            accounts.link(worker, "acct_madeup123")
        assert refused.value.code == "PAYOUT_ACCOUNT_NOT_FOUND"
        assert app.get_worker(worker).version == version  # nothing written

        real = connected_account(emulator)
        accounts.link(worker, real)
        assert (app.get_worker(worker).stripe_account_id,
                app.get_worker(worker).payout_account_status) == (real, "ENABLED")


def test_disabled_account_makes_payouts_wait_and_enabled_resumes_them(database, emulator):
    reads = build_read_models(database)
    with pipeline(database, emulator) as app:
        projections = start_projections(database, app)  # the webhook finds workers there
        requester = funded_requester(app)
        account = connected_account(emulator)
        worker = app.register_worker("Ada", [], account)
        first = accepted_payout(app, requester, post(app, requester), worker)
        wait_until(lambda: app.get_payout(first).status == PayoutStatus.PAID, timeout=15,
                   message="first payout paid")

        # Stripe needs more from the worker: its account.updated reaches our webhook.
        disabled = emulator.state.require_information(account)
        wait_until(lambda: reads.workers_with_account(account), timeout=15)
        assert account_updated(app, disabled, reads) == "recorded"
        assert app.get_worker(worker).payout_account_status == "DISABLED"

        second = accepted_payout(app, requester, post(app, requester), worker)
        wait_until(lambda: app.get_payout(second).failure_reason == "PAYOUT_ACCOUNT_NOT_READY",
                   timeout=15, message="the payout waits")
        version = app.get_payout(second).version
        assert app.get_payout(second).status == PayoutStatus.REQUESTED
        assert len(emulator.state.transfers()) == 1

        enabled = emulator.state.complete_onboarding(account)
        # (A re-sent payout may have read the account from Stripe first: same outcome.)
        account_updated(app, enabled, reads)
        assert app.get_worker(worker).payout_account_status == "ENABLED"
        wait_until(lambda: app.get_payout(second).status == PayoutStatus.PAID, timeout=15,
                   message="paid once the account is ENABLED, with no retryPayout")
        assert app.get_payout(second).version == version + 1  # just the Paid event
        assert len(emulator.state.transfers()) == 2
        projections.stop()
    reads.close()


def test_a_waiting_payout_writes_its_reason_once(database, emulator):
    from taskmarket.jobs.actors import PayoutWorker, Services
    from taskmarket.jobs.schedule import WorkStore, open_pool

    with pipeline(database, emulator, run_worker=False, dispatch=False) as app:
        requester = funded_requester(app)
        worker = app.register_worker("Ada", [])
        payout = accepted_payout(app, requester, post(app, requester), worker)
        pool = open_pool(database)
        payer = PayoutWorker(Services(app, StripeGateway.connect(None, emulator.url),
                                      WorkStore(pool)))
        outcomes = [payer.pay(payout) for _ in range(5)]
        assert outcomes == ["NO_PAYOUT_ACCOUNT"] * 5
        assert app.get_payout(payout).version == 2  # Requested + one Failed(waiting)
        assert app.get_payout(payout).attempts == 1

        accounts = PayoutAccounts(app, StripeGateway.connect(None, emulator.url))
        accounts.start_onboarding(worker, RETURN, REFRESH)  # ONBOARDING, not payable yet
        outcomes = [payer.pay(payout) for _ in range(5)]
        assert outcomes == ["PAYOUT_ACCOUNT_NOT_READY"] * 5
        assert app.get_payout(payout).version == 3
        emulator.state.store.complete_onboarding(app.get_worker(worker).stripe_account_id)
        assert payer.pay(payout) == "PAID"  # re-read from Stripe once: ENABLED now
        assert app.get_worker(worker).payout_account_status == "ENABLED"
        pool.close()
