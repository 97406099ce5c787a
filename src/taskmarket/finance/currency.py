"""How many decimals a currency's minor unit has (ISO 4217): USD 2, JPY 0, KWD 3.

Babel's CLDR data answers when babel is installed; until then a table of the currencies
whose exponent is not 2 stands in (every other code has 2).
"""

from __future__ import annotations

_NOT_TWO = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
MOST_DECIMALS = 4


def exponent(currency: str) -> int:
    code = currency.upper()
    try:
        from babel.numbers import get_currency_precision
    except ImportError:
        return _NOT_TWO.get(code, 2)
    return get_currency_precision(code)
