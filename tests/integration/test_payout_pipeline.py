"""Accepted work is paid through Stripe exactly once, whatever Stripe does meanwhile."""

from __future__ import annotations

from workers_harness import (  # noqa: F401  (fixtures)
    accepted_payout, connected_account, emulator, funded_requester, pipeline, post,
    redis_url, wait_until,
)

from taskmarket.domain import PayoutStatus

FAULTS = dict(failure_rate=0.08, rate_limit_rate=0.04, commit_then_drop_rate=0.08, seed=20)


def pay_many(database, emulator, count: int, workers: int, redis=None) -> None:
    reward = 137
    with pipeline(database, emulator, redis_url=redis) as app:
        emulator.state.set_faults(**FAULTS)
        requester = funded_requester(app)
        people = [app.register_worker(f"w{n}", [], connected_account(emulator))
                  for n in range(workers)]
        payouts = []
        for n in range(count // workers):
            task = post(app, requester, reward=reward + n, assignments=workers)
            payouts += [accepted_payout(app, requester, task, worker) for worker in people]

        def all_paid():
            return all(app.get_payout(p).status == PayoutStatus.PAID for p in payouts)

        wait_until(all_paid, timeout=60, interval=0.2, message="every payout PAID")
        transfers = emulator.state.transfers()
        by_payout = {t["metadata"]["payout_id"]: t for t in transfers}
        expected_total = sum(app.get_payout(p).amount for p in payouts)
        assert len(transfers) == count
        assert sorted(by_payout) == sorted(str(p) for p in payouts)
        assert sum(t["amount"] for t in transfers) == expected_total
        for payout_id in payouts:
            assert app.get_payout(payout_id).transfer_id == by_payout[str(payout_id)]["id"]
        emulator.state.set_faults()


def test_200_payouts_under_20_percent_stripe_faults_are_each_paid_once(database, emulator):
    pay_many(database, emulator, count=200, workers=20)


def test_payouts_through_the_redis_broker_are_each_paid_once(database, emulator, redis_url):
    pay_many(database, emulator, count=40, workers=10, redis=redis_url)


def test_a_worker_without_an_account_is_paid_once_one_is_linked(database, emulator):
    with pipeline(database, emulator) as app:
        requester = funded_requester(app)
        worker = app.register_worker("Ada", ["vision"])
        payout = accepted_payout(app, requester, post(app, requester), worker)

        waiting = wait_until(
            lambda: app.get_payout(payout).failure_reason == "NO_PAYOUT_ACCOUNT", timeout=10,
            message="the payout waits for an account")
        assert waiting
        assert app.get_payout(payout).status == PayoutStatus.REQUESTED
        assert emulator.state.transfers() == []

        app.link_payout_account(worker, connected_account(emulator))
        wait_until(lambda: app.get_payout(payout).status == PayoutStatus.PAID, timeout=10,
                   message="paid after linking")
        assert [t["metadata"]["payout_id"] for t in emulator.state.transfers()] == [str(payout)]


def test_an_invalid_account_fails_the_payout_for_finance_and_a_retry_pays_it(
        database, emulator):
    with pipeline(database, emulator) as app:
        requester = funded_requester(app)
        account = connected_account(emulator)
        emulator.state.invalidate_account(account)
        worker = app.register_worker("Ada", [], account)
        payout = accepted_payout(app, requester, post(app, requester), worker)

        wait_until(lambda: app.get_payout(payout).status == PayoutStatus.FAILED, timeout=10,
                   message="permanent failure")
        assert app.get_payout(payout).failure_reason.startswith("ACCOUNT_INVALID")

        fixed = connected_account(emulator)
        app.link_payout_account(worker, fixed)
        app.retry_payout(payout)
        wait_until(lambda: app.get_payout(payout).status == PayoutStatus.PAID, timeout=10,
                   message="paid after finance retried")
        assert [t["destination"] for t in emulator.state.transfers()] == [fixed]
