"""Money is an integer amount of a currency's minor unit, never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import DomainError

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT = 10**12  # ten billion in a two-decimal currency: beyond any single task


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
        if amount > MAX_AMOUNT:
            raise DomainError("INVALID_INPUT", "amount is too large", [field])
        code = str(currency or "").upper()
        if not _CURRENCY.match(code):
            raise DomainError("INVALID_INPUT", "currency must be an ISO 4217 code", ["currency"])
        return cls(amount, code)

    def times(self, factor: int) -> "Money":
        return Money(self.amount * factor, self.currency)


DEFAULT_CURRENCY = "USD"


def currency_code(value: object, field: str = "currency") -> str:
    """A currency code as the domain keeps it (upper case); INVALID_INPUT otherwise."""
    return Money.of(1, value, field).currency
