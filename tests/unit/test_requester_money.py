"""A requester's money: deposits, escrow for posted tasks, refunds and spending (no database)."""

from uuid import uuid4

import pytest
from eventsourcing.application import Application

from taskmarket.domain import DomainError, Money, Requester


def funded(amount=1_000, currency="USD"):
    requester = Requester(name="Acme")
    requester.deposit(Money.of(amount, currency), "wire-1")
    return requester


def code_of(call, *args):
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value.code


@pytest.mark.parametrize("amount, currency", [
    (0, "USD"), (-100, "USD"), (10.0, "USD"), (12.5, "USD"), (True, "USD"), ("100", "USD"),
    (None, "USD"), (100, "US"), (100, "US1"), (100, ""), (100, None),
    (100, "DOLLARS"),
])
def test_bad_money_is_refused(amount, currency):
    assert code_of(Money.of, amount, currency) == "INVALID_INPUT"


def test_an_amount_past_a_graphql_int_is_too_large():
    assert Money.of(2**31 - 1, "USD").amount == 2_147_483_647
    assert code_of(Money.of, 2**31, "USD") == "AMOUNT_TOO_LARGE"
    assert code_of(Money.of, 10**13, "USD") == "AMOUNT_TOO_LARGE"


def test_good_money_is_integer_minor_units_with_an_upper_case_code():
    assert Money.of(250, "eur") == Money(250, "EUR")


def test_a_deposit_credits_the_balance():
    requester = funded(1_000)
    assert (requester.balance, requester.escrow, requester.deposited) == (1_000, 0, 1_000)
    assert requester.currency == "USD"


def test_the_same_deposit_key_with_the_same_input_writes_nothing():
    requester = funded()
    money = Money.of(500, "USD")
    assert requester.deposit(money, "wire-2", "key-2") is True
    version = requester.version
    assert requester.deposit(money, "wire-2", "key-2") is False
    assert requester.version == version
    assert requester.balance == 1_500


def test_a_deposit_replayed_by_reference_alone_is_credited_once():
    requester = funded(1_000)
    assert requester.deposit(Money.of(1_000, "USD"), "wire-1") is False
    assert requester.balance == 1_000


def test_the_same_deposit_key_with_different_input_is_refused():
    requester = funded()
    requester.deposit(Money.of(500, "USD"), "wire-2", "key-2")
    version = requester.version
    assert code_of(requester.deposit, Money.of(501, "USD"), "wire-2",
                   "key-2") == "IDEMPOTENCY_KEY_REUSED"
    assert code_of(requester.deposit, Money.of(500, "USD"), "wire-3",
                   "key-2") == "IDEMPOTENCY_KEY_REUSED"
    assert requester.version == version


def test_a_reference_already_deposited_under_another_key_is_refused():
    requester = funded()
    assert code_of(requester.deposit, Money.of(7, "USD"), "wire-1",
                   "another-key") == "DUPLICATE_REFERENCE"
    assert requester.balance == 1_000


def test_a_deposit_needs_a_reference():
    assert code_of(Requester(name="Acme").deposit, Money.of(5, "USD"), "  ") == "INVALID_INPUT"


@pytest.mark.parametrize("reference", [None, 42, ["wire-1"]])
def test_a_reference_that_is_not_text_is_refused(reference):
    requester = Requester(name="Acme")
    assert code_of(requester.deposit, Money.of(5, "USD"), reference) == "INVALID_INPUT"
    assert requester.balance == 0


def test_one_currency_per_requester():
    requester = funded(currency="USD")
    assert code_of(requester.deposit, Money.of(5, "EUR"), "wire-eur") == "CURRENCY_MISMATCH"
    assert code_of(requester.reserve, uuid4(), Money.of(5, "EUR")) == "CURRENCY_MISMATCH"
    assert code_of(requester.pay_bonus, uuid4(), Money.of(5, "EUR")) == "CURRENCY_MISMATCH"
    assert requester.balance == 1_000


def test_posting_beyond_the_balance_is_refused_and_writes_nothing():
    requester = funded(1_000)
    version = requester.version
    assert code_of(requester.reserve, uuid4(), Money.of(1_001, "USD")) == "INSUFFICIENT_FUNDS"
    assert code_of(requester.pay_bonus, uuid4(), Money.of(1_001, "USD")) == "INSUFFICIENT_FUNDS"
    assert requester.version == version and requester.balance == 1_000


def test_escrow_moves_from_balance_and_back_or_out_and_money_is_conserved():
    requester = funded(1_000)
    task = uuid4()
    requester.reserve(task, Money.of(600, "USD"))  # 3 slots of 200
    assert (requester.balance, requester.escrow) == (400, 600)
    requester.consume(task, uuid4(), 200)  # one slot accepted
    requester.release(task, 200, 1)  # one slot refunded on cancel
    requester.pay_bonus(uuid4(), Money.of(50, "USD"))
    assert (requester.balance, requester.escrow, requester.spent) == (550, 200, 250)
    assert requester.deposited == requester.balance + requester.escrow + requester.spent
    assert requester.is_conserved


def test_releasing_nothing_writes_nothing():
    requester = funded()
    version = requester.version
    requester.release(uuid4(), 0, 0)
    assert requester.version == version


def test_a_requester_rebuilt_from_stored_events_equals_the_original():
    requester = funded(1_000)
    requester.deposit(Money.of(5, "USD"), "wire-2", "key-2")
    task = uuid4()
    requester.reserve(task, Money.of(600, "USD"))
    requester.consume(task, uuid4(), 200)
    requester.release(task, 400, 2)
    store = Application()  # the in-memory (POPO) event store
    store.save(requester)
    assert vars(store.repository.get(requester.id)) == vars(requester)
