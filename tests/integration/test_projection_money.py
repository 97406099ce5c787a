"""Balances, payouts, the double-entry ledger and worker stats, as finance sees them."""

from __future__ import annotations

from collections import defaultdict

from projection_harness import BusyMarket, catch_up, reads  # noqa: F401  (reads: fixture)

from taskmarket.domain import Money
from taskmarket.domain.task import TaskSpec


def accepted_payout(app, requester, worker, reward=300, title="job"):
    task = app.post_task(requester, TaskSpec(title, "do", Money(reward, "USD")))
    claim = app.claim_task(task, worker)
    submission = app.submit_work(task, claim, worker, {"done": True})
    return task, submission, app.review_submission(task, submission, requester, "ACCEPT")


def test_payout_history_tracks_requests_failures_retries_and_transfers(app, database, reads):
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 10_000, "USD", "wire-1")
    ada = app.register_worker("Ada", [], "acct_ada")
    bo = app.register_worker("Bo", [], "acct_bo")
    _, submission, paid = accepted_payout(app, acme, ada, 300, "first")
    _, _, failing = accepted_payout(app, acme, bo, 200, "second")
    bonus = app.pay_bonus(acme, ada, 50, "USD", "thanks-1")
    app.record_payout_failure(paid, "rate_limited", retryable=True)
    app.record_payout_paid(paid, "tr_123")
    app.record_payout_failure(failing, "account_closed", retryable=False)
    catch_up(database)

    done = reads.payouts([paid])[paid]
    assert (done.status, done.stripe_transfer_id, done.attempts, done.failure_reason) == (
        "PAID", "tr_123", 2, None)
    assert (done.worker_id, done.submission_id, done.amount, done.currency, done.kind) == (
        ada, submission, 300, "USD", "submission")
    assert done.paid_at is not None and done.paid_at >= done.requested_at
    failed = reads.payouts([failing])[failing]
    assert (failed.status, failed.failure_reason, failed.attempts) == (
        "FAILED", "account_closed", 1)
    assert [p.id for p in reads.payout_history(None, None, 10)] == [bonus, failing, paid]
    assert [p.id for p in reads.payout_history(ada, None, 10)] == [bonus, paid]
    assert [p.id for p in reads.payout_history(None, "FAILED", 10)] == [failing]

    app.retry_payout(failing)
    catch_up(database)
    retried = reads.payouts([failing])[failing]
    assert (retried.status, retried.failure_reason, retried.retries) == ("REQUESTED", None, 1)
    assert reads.payout_history(None, "FAILED", 10) == []


def test_balances_and_ledger_agree_with_the_requesters_account(app, database, reads):
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 5_000, "USD", "wire-1")
    ada = app.register_worker("Ada", [], "acct_ada")
    _, _, payout = accepted_payout(app, acme, ada, 1_000)
    open_task = app.post_task(acme, TaskSpec("open", "do", Money(400, "USD"), assignments=2))
    app.cancel_task(open_task, acme)
    app.pay_bonus(acme, ada, 25, "USD", "bonus-1")
    app.record_payout_paid(payout, "tr_1")
    app.record_transfer_reversal(payout, "tr_1", 100)
    catch_up(database)

    account = app.get_requester(acme)
    row = reads.requesters([acme])[acme]
    assert (row.balance, row.escrow, row.spent, row.deposited, row.currency) == (
        account.balance, account.escrow, account.spent, 5_000, "USD")
    assert (row.balance, row.escrow, row.spent) == (3_975, 0, 1_025)
    assert reads.ledger_balance(f"requester:{acme}:available") == row.balance
    assert reads.ledger_balance(f"requester:{acme}:escrow") == row.escrow
    assert reads.ledger_balance("external:deposits") == -5_000
    assert reads.ledger_balance(f"worker:{ada}:payable") == 25  # the bonus is not paid yet
    assert reads.ledger_balance("stripe:paid_out") == 900
    assert reads.ledger_balance("platform:reversed_transfers") == 100
    assert reads.ledger_totals() == {"USD": 0}

    entries = reads.ledger(f"requester:{acme}", 100)
    assert [e.event_type for e in entries][:2] == ["RequesterFundsDeposited",
                                                    "RequesterEscrowReserved"]
    assert sum(e.amount for e in entries) == row.balance + row.escrow
    pairs = defaultdict(int)
    for entry in reads.ledger("", 1000):
        pairs[entry.position] += entry.amount
    assert set(pairs.values()) == {0}  # every money event books a balanced pair


def test_worker_stats_count_reviews_and_earnings(app, database, reads):
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 10_000, "USD", "wire-1")
    ada = app.register_worker("Ada", [])
    _, _, first = accepted_payout(app, acme, ada, 300, "one")
    accepted_payout(app, acme, ada, 200, "two")
    task = app.post_task(acme, TaskSpec("three", "do", Money(100, "USD")))
    claim = app.claim_task(task, ada)
    submission = app.submit_work(task, claim, ada, {"x": 1})
    app.review_submission(task, submission, acme, "REQUEST_REVISION")
    submission = app.submit_work(task, claim, ada, {"x": 2})
    app.review_submission(task, submission, acme, "REJECT")
    app.record_payout_paid(first, "tr_1")
    catch_up(database)

    stats = reads.worker_stats([ada])[ada]
    assert (stats.submitted, stats.accepted, stats.rejected, stats.revisions_requested) == (
        4, 2, 1, 1)
    assert stats.earned == {"USD": 500} and stats.paid == {"USD": 300}
    idle = app.register_worker("Idle", [])
    catch_up(database)
    assert reads.worker_stats([idle])[idle].accepted == 0


def test_a_busy_market_keeps_the_ledger_balanced_and_money_conserved(database, reads):
    market = BusyMarket(database, seed=11)
    try:
        market.setup()
        market.run(400)
        catch_up(database, batch_size=97)  # many batches, ending mid-command
        app = market.app
        assert set(reads.ledger_totals().values()) == {0}
        assert set(reads.ledger_totals()) == {"USD", "EUR"}
        rows = reads.requesters([r for r, _ in market.requesters])
        for requester, _ in market.requesters:
            row, account = rows[requester], app.get_requester(requester)
            assert row.deposited == row.balance + row.escrow + row.spent
            assert (row.balance, row.escrow, row.spent, row.deposited) == (
                account.balance, account.escrow, account.spent, account.deposited)
            assert reads.ledger_balance(f"requester:{requester}:available") == row.balance
            assert reads.ledger_balance(f"requester:{requester}:escrow") == row.escrow
        for task_id, _ in market.tasks:
            task, row = app.get_task(task_id), reads.tasks([task_id])[task_id]
            assert (row.status, row.open_slots, row.accepted) == (
                task.status.value, task.open_slots, task.accepted)
        for payout_id in market.payouts:
            payout, row = app.get_payout(payout_id), reads.payouts([payout_id])[payout_id]
            assert (row.status, row.attempts, row.stripe_transfer_id) == (
                payout.status.value, payout.attempts, payout.transfer_id)
    finally:
        market.close()
