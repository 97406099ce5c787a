"""Text and JSON a command takes must be storable by every read model (no database).

Each case is what an attacker sent: a NUL byte, a lone surrogate, a number past 64 bits,
1e300 (which jsonb hands back as a 301-digit integer), NaN, deep nesting.
"""

import pytest

from taskmarket.domain import DomainError, Money, Requester
from taskmarket.domain.money import currency_exponent
from taskmarket.domain.task import TaskSpec
from taskmarket.domain.values import check_json, check_text, clean_text
from taskmarket.domain.webhook import check_url
from taskmarket.domain.worker import Worker, normalize_skills


def nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def refusal(call, *args, **kwargs) -> tuple[str, list[str] | None]:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value.code, caught.value.field


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "a\ud800b", "\udfff"])
def test_text_postgresql_cannot_hold_is_refused_naming_the_field(text):
    assert refusal(check_text, text, "title", 200) == ("INVALID_INPUT", ["title"])


def test_text_is_stripped_bounded_and_required():
    assert check_text("  Acme  ", "name", 10) == "Acme"
    assert refusal(check_text, "   ", "name", 10) == ("INVALID_INPUT", ["name"])
    assert refusal(check_text, "x" * 11, "name", 10) == ("INVALID_INPUT", ["name"])
    assert refusal(check_text, 5, "name", 10) == ("INVALID_INPUT", ["name"])
    assert check_text("\U0001f600 \uffff é", "name", 10) == "\U0001f600 \uffff é"


@pytest.mark.parametrize("value", [
    123456789012345678901234567890, 1e300, -1e300, 2**63, -(2**63), float("nan"),
    float("inf"), {"a": "\x00"}, {"\x00": 1}, ["\ud800"], {1: "a"}, {"a": object()},
    nested(40),
])
def test_json_a_read_model_cannot_carry_is_refused(value):
    assert refusal(check_json, value, "result") == ("INVALID_INPUT", ["result"])


@pytest.mark.parametrize("value", [
    None, True, 0, 2**63 - 1, -(2**63) + 1, 1.5, 1e18, -0.25, 5e-324, "héllo \U0001f600",
    {"nested": [1, {"x": None}]}, [], {},
])
def test_json_every_read_model_carries_is_accepted_as_is(value):
    assert check_json(value, "payload") is value


def test_json_is_bounded_in_size():
    assert refusal(check_json, "x" * (256 * 1024), "payload") == ("INVALID_INPUT",
                                                                   ["payload"])


def test_text_from_outside_systems_is_cleaned_not_refused():
    assert clean_text("bad\x00byte \ud800", 100) == "bad\ufffdbyte ?"
    assert clean_text("x" * 50, 10) == "x" * 10


@pytest.mark.parametrize("field, spec", [
    ("title", dict(title="a\x00b")),
    ("instructions", dict(instructions="do \x00 it")),
    ("payload", dict(payload={"image": "a\x00.png"})),
    ("payload", dict(payload=123456789012345678901234567890)),
    ("requiredSkills", dict(required_skills=("lab\x00el",))),
])
def test_a_task_spec_refuses_each_bad_field(field, spec):
    base = dict(title="Label", instructions="do it", reward=Money.of(100, "USD"))
    assert refusal(TaskSpec(**{**base, **spec}).validate) == ("INVALID_INPUT", [field])


def test_people_and_deposits_refuse_nul():
    assert refusal(Worker.register, "Wan\x00da") == ("INVALID_INPUT", ["name"])
    assert refusal(Worker.register, "Wanda", ["ok", "b\x00d"]) == ("INVALID_INPUT",
                                                                   ["skills"])
    assert refusal(Requester.open, "Ac\x00me") == ("INVALID_INPUT", ["name"])
    acme = Requester.open("Acme")
    assert refusal(acme.deposit, Money.of(5, "USD"), "wire\x00") == ("INVALID_INPUT",
                                                                      ["reference"])
    assert refusal(acme.deposit, Money.of(5, "USD"), "wire", "k\x00") == (
        "INVALID_INPUT", ["idempotencyKey"])
    assert refusal(check_url, "https://example.com/\x00") == ("INVALID_INPUT", ["url"])
    assert normalize_skills([" Label ", "label"]) == ["label"]


@pytest.mark.parametrize("code", ["ZZZ", "BTC", "XXX", "XTS", "XAU", "DEM", "usdx"])
def test_currencies_outside_iso_4217_in_use_are_refused(code):
    assert refusal(Money.of, 100, code) == ("INVALID_INPUT", ["currency"])


def test_the_minor_unit_comes_from_the_currency_list():
    assert Money.of(100, "usd").exponent == 2
    assert Money.of(100, "JPY").exponent == 0
    assert currency_exponent("BHD") == 3
    assert Money.of(100, "XOF").currency == "XOF"


def test_a_requester_never_holds_more_than_a_graphql_int():
    acme = Requester.open("Acme")
    acme.deposit(Money.of(2_000_000_000, "USD"), "wire-1")
    assert refusal(acme.deposit, Money.of(2_000_000_000, "USD"), "wire-2") == (
        "AMOUNT_TOO_LARGE", ["amount"])
    assert (acme.balance, acme.escrow) == (2_000_000_000, 0)


def test_a_task_escrow_past_a_graphql_int_is_too_large():
    spec = TaskSpec(title="Big", instructions="", reward=Money.of(2_000_000_000, "USD"),
                    assignments=2)
    assert refusal(spec.validate) == ("AMOUNT_TOO_LARGE", ["reward"])


@pytest.mark.parametrize("account", ["acct_1\n", "acct_" + "x" * 300, "acct_\x00", None])
def test_a_payout_account_id_is_bounded_and_exact(account):
    from taskmarket.domain.worker import check_account

    assert refusal(check_account, account) == ("INVALID_INPUT", ["stripeAccountId"])
