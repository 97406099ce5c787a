"""Money is an integer amount of a currency's minor unit, never a float.

Every amount a requester or worker sees goes out as a GraphQL ``Int`` (32-bit signed), so
no amount, and no sum a requester holds (balance plus escrow), may pass ``MAX_AMOUNT``:
a command that would is refused with AMOUNT_TOO_LARGE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies

from .errors import DomainError

MAX_AMOUNT = 2**31 - 1  # the largest GraphQL Int: 21,474,836.47 in a two-decimal currency


@lru_cache(maxsize=1)
def currencies() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today, from CLDR (via babel).

    "Today" without a clock: a currency counts when some territory uses it with no end
    date. That leaves out test and placeholder codes (XTS, XXX), precious metals and fund
    codes (XAU, XDR), retired currencies (DEM, HRK) and codes outside ISO 4217 (BTC).
    """
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, start_date=date.max,
                                              end_date=date.max, tender=True))
    return frozenset(codes)


def check_currency(currency: object, field: str = "currency") -> str:
    """An upper-cased ISO 4217 code in use, or INVALID_INPUT."""
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if code not in currencies():
        raise DomainError("INVALID_INPUT", "currency must be an ISO 4217 code in use "
                          "(USD, EUR, JPY...)", [field])
    return code


def currency_exponent(code: str) -> int:
    """Digits of the minor unit: 2 for USD (cents), 0 for JPY, 3 for BHD."""
    return get_currency_precision(code)


def check_amount_fits(amount: int, field: str, what: str = "the amount") -> None:
    """Refuse an amount (or a total someone holds) past what the API can show."""
    if amount > MAX_AMOUNT:
        raise DomainError("AMOUNT_TOO_LARGE", f"{what} would be {amount} minor units; "
                          f"at most {MAX_AMOUNT} fit", [field])


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    @classmethod
    def of(cls, amount: object, currency: object, field: str = "amount") -> "Money":
        """Validated money: a positive integer amount and an ISO 4217 code."""
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise DomainError("INVALID_INPUT", "amount must be an integer of minor units", [field])
        if amount <= 0:
            raise DomainError("INVALID_INPUT", "amount must be positive", [field])
        check_amount_fits(amount, field)
        return cls(amount, check_currency(currency))

    @property
    def exponent(self) -> int:
        """How many decimal digits the minor unit has (amount / 10**exponent units)."""
        return currency_exponent(self.currency)

    def times(self, factor: int) -> "Money":
        return Money(self.amount * factor, self.currency)


DEFAULT_CURRENCY = "USD"


def currency_code(value: object, field: str = "currency") -> str:
    """A currency code as the domain keeps it (upper case); INVALID_INPUT otherwise."""
    return Money.of(1, value, field).currency


DEFAULT_CURRENCY = "USD"


def currency_code(value: object, field: str = "currency") -> str:
    """A currency code as the domain keeps it (upper case); INVALID_INPUT otherwise."""
    return check_currency(value, field)
