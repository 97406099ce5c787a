"""How many decimals a currency's minor unit has (ISO 4217): USD 2, JPY 0, KWD 3.

The domain's `currency_exponent` (CLDR data through babel) answers; exports keep up to
MOST_DECIMALS decimals in Parquet's fixed-scale decimal column.
"""

from __future__ import annotations

from ..domain.money import currency_exponent

MOST_DECIMALS = 4


def exponent(currency: str) -> int:
    return currency_exponent(currency.upper())
