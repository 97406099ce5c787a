"""Retried requests are safe: an idempotency key replays the first result and writes nothing."""

import pytest

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import DomainError, Money
from taskmarket.domain.task import TaskSpec

SPEC = TaskSpec("Translate", "into French", Money(300, "USD"), assignments=2,
                payload={"text": "hello"}, required_skills=("french",))


def events_written(app):
    return app.recorder.max_notification_id() or 0


def refused(command, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        command(*args, **kwargs)
    return caught.value.code


@pytest.fixture
def requester(app):
    requester = app.create_requester("Acme")
    app.deposit_funds(requester, 2_000, "USD", "wire-1", idempotency_key="dep-1")
    return requester


def test_a_deposit_retried_with_its_key_is_credited_once(app, requester):
    before = events_written(app)
    assert app.deposit_funds(requester, 2_000, "USD", "wire-1", idempotency_key="dep-1") is False
    assert events_written(app) == before
    assert app.get_requester(requester).balance == 2_000


def test_a_deposit_key_reused_for_different_money_is_refused(app, requester):
    before = events_written(app)
    assert refused(app.deposit_funds, requester, 2_001, "USD", "wire-1",
                   idempotency_key="dep-1") == "IDEMPOTENCY_KEY_REUSED"
    assert refused(app.deposit_funds, requester, 2_000, "USD", "wire-2",
                   idempotency_key="dep-1") == "IDEMPOTENCY_KEY_REUSED"
    assert refused(app.deposit_funds, requester, 9, "USD", "wire-1",
                   idempotency_key="dep-2") == "DUPLICATE_REFERENCE"
    assert events_written(app) == before
    assert app.get_requester(requester).balance == 2_000


def test_a_deposit_key_survives_in_the_store_not_in_memory(app, requester, database):
    """Keys are events: a freshly started application still knows them."""
    restarted = build_marketplace(database)
    try:
        assert restarted.deposit_funds(requester, 2_000, "USD", "wire-1",
                                       idempotency_key="dep-1") is False
        assert refused(restarted.deposit_funds, requester, 1, "USD", "wire-1",
                       idempotency_key="dep-1") == "IDEMPOTENCY_KEY_REUSED"
    finally:
        restarted.close()


def test_a_task_posted_again_with_its_key_returns_the_same_task_and_reserves_once(app, requester):
    task = app.post_task(requester, SPEC, idempotency_key="post-1")
    before = events_written(app)
    assert app.post_task(requester, SPEC, idempotency_key="post-1") == task
    assert events_written(app) == before
    funds = app.get_requester(requester)
    assert (funds.balance, funds.escrow) == (1_400, 600)


def test_a_post_key_reused_for_a_different_task_is_refused(app, requester):
    app.post_task(requester, SPEC, idempotency_key="post-1")
    before = events_written(app)
    other = TaskSpec("Translate", "into German", Money(300, "USD"), assignments=2)
    assert refused(app.post_task, requester, other,
                   idempotency_key="post-1") == "IDEMPOTENCY_KEY_REUSED"
    assert events_written(app) == before


def test_the_same_post_key_of_two_requesters_makes_two_tasks(app, requester):
    other = app.create_requester("Globex")
    app.deposit_funds(other, 600, "USD", "wire-9")
    first = app.post_task(requester, SPEC, idempotency_key="post-1")
    assert app.post_task(other, SPEC, idempotency_key="post-1") != first


def test_a_post_refused_for_funds_writes_nothing_and_the_key_stays_free(app, requester):
    big = TaskSpec("Translate", "a book", Money(1_500, "USD"), assignments=2)
    before = events_written(app)
    assert refused(app.post_task, requester, big,
                   idempotency_key="post-big") == "INSUFFICIENT_FUNDS"
    assert events_written(app) == before
    app.deposit_funds(requester, 1_000, "USD", "wire-2")
    assert app.post_task(requester, big, idempotency_key="post-big")
    assert app.get_requester(requester).escrow == 3_000


def test_a_bonus_retried_with_its_key_pays_once(app, requester):
    worker = app.register_worker("Ada")
    payout = app.pay_bonus(requester, worker, 100, "USD", "bonus-1")
    before = events_written(app)
    assert app.pay_bonus(requester, worker, 100, "USD", "bonus-1") == payout
    assert events_written(app) == before
    assert refused(app.pay_bonus, requester, worker, 101, "USD",
                   "bonus-1") == "IDEMPOTENCY_KEY_REUSED"
    assert app.get_requester(requester).spent == 100


def test_an_admin_key_bound_to_someone_is_refused_as_bad_input(app):
    requester = app.create_requester("Acme")
    head = app.recorder.max_notification_id()
    with pytest.raises(DomainError) as refused:
        app.issue_api_key("ADMIN", "ops", requester)
    assert refused.value.code == "INVALID_INPUT"
    assert app.recorder.max_notification_id() == head
