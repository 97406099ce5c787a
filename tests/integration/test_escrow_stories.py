"""Where a requester's money goes as its tasks live and die, through the Marketplace on PostgreSQL."""

import pytest

from taskmarket.domain import DomainError, Money, PayoutStatus, TaskStatus
from taskmarket.domain.ids import payout_id_for_submission
from taskmarket.domain.task import TaskSpec


def refused(command, *args):
    with pytest.raises(DomainError) as caught:
        command(*args)
    return caught.value.code


def balances(app, requester):
    funds = app.get_requester(requester)
    return funds.balance, funds.escrow, funds.spent


@pytest.fixture
def market(app):
    requester = app.create_requester("Acme")
    app.deposit_funds(requester, 1_000, "USD", "wire-1")
    task = app.post_task(requester, TaskSpec("Label", "boxes", Money(100, "USD"), assignments=4))
    workers = [app.register_worker(name) for name in ("Ada", "Bob", "Cy")]
    return requester, task, workers


def test_cancelling_returns_unclaimed_slots_now_and_the_rest_as_they_free_up(app, market):
    requester, task, (ada, bob, cy) = market
    ada_claim = app.claim_task(task, ada)
    bob_claim = app.claim_task(task, bob)
    cy_work = app.submit_work(task, app.claim_task(task, cy), cy, {"boxes": []})
    assert balances(app, requester) == (600, 400, 0)

    assert app.cancel_task(task, requester) == 1
    assert balances(app, requester) == (700, 300, 0)
    app.release_claim(task, ada_claim, ada)
    assert balances(app, requester) == (800, 200, 0)
    app.review_submission(task, cy_work, requester, "REJECT", "no boxes")
    assert balances(app, requester) == (900, 100, 0)
    bob_work = app.submit_work(task, bob_claim, bob, {"boxes": [1]})  # mid-work: still paid
    payout = app.review_submission(task, bob_work, requester, "ACCEPT")
    assert balances(app, requester) == (900, 0, 100)
    assert app.get_payout(payout).worker_id == bob
    assert app.get_task(task).status == TaskStatus.CANCELLED


def test_accepting_work_spends_one_slot_and_requests_exactly_one_payout(app, market):
    requester, task, (ada, _, _) = market
    work = app.submit_work(task, app.claim_task(task, ada), ada, {"boxes": [1]})
    payout = app.review_submission(task, work, requester, "ACCEPT", "great")
    assert payout == payout_id_for_submission(work)
    assert app.get_payout(payout).status == PayoutStatus.REQUESTED
    assert app.get_payout(payout).amount == 100
    assert balances(app, requester) == (600, 300, 100)
    assert refused(app.review_submission, task, work, requester, "ACCEPT") == "ALREADY_REVIEWED"


def test_refused_commands_leave_the_money_where_it_was(app, market):
    requester, task, (ada, _, _) = market
    work = app.submit_work(task, app.claim_task(task, ada), ada, {"boxes": [1]})
    before = app.recorder.max_notification_id()
    euro_task = TaskSpec("Label", "boxes", Money(100, "EUR"))
    too_big = TaskSpec("Label", "boxes", Money(100, "USD"), assignments=7)
    assert refused(app.post_task, requester, euro_task) == "CURRENCY_MISMATCH"
    assert refused(app.post_task, requester, too_big) == "INSUFFICIENT_FUNDS"
    assert refused(app.review_submission, task, work, requester, "MAYBE") == "INVALID_INPUT"
    assert refused(app.deposit_funds, requester, 0, "USD", "wire-0") == "INVALID_INPUT"
    assert refused(app.deposit_funds, requester, 10.5, "USD", "wire-0") == "INVALID_INPUT"
    assert refused(app.deposit_funds, requester, 10, "EUR", "wire-0") == "CURRENCY_MISMATCH"
    assert app.recorder.max_notification_id() == before
    assert balances(app, requester) == (600, 400, 0)


def test_a_revoked_key_no_longer_authenticates(app, market):
    requester, _, _ = market
    key_id, secret = app.issue_api_key("REQUESTER", "acme backend", requester)
    assert app.authenticate(secret).subject_id == requester
    app.revoke_api_key(key_id)
    assert app.authenticate(secret) is None
    assert app.authenticate("tm_requester_guess") is None
