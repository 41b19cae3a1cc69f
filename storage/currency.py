"""What a currency's smallest payable amount is, from CLDR (through Babel): one source for the parser,
which refuses fractions a cluster cannot pay, and for storage, which rounds what it asks members to pay."""

from __future__ import annotations

from babel.core import get_global
from babel.numbers import get_currency_precision


def whole_units(currency: str) -> bool:
    """Whether the currency is paid in whole units only (TZS, UGX, XOF...): CLDR gives it no cash decimals."""
    fractions = get_global("currency_fractions")
    digits, _rounding, cash_digits, _cash = fractions.get(currency.upper(), fractions["DEFAULT"])
    return digits == 0 or cash_digits == 0


def payable_step(currency: str) -> int:
    """The smallest amount people pay, in minor units: 100 for TZS (whole shillings), 1 for KES or UGX."""
    return 10 ** get_currency_precision(currency.upper()) if whole_units(currency) else 1
