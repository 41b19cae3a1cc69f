"""Amounts as members write them, read by bot.parse; this module keeps the older names for its callers.

`parse_amount` refuses with the codes its callers' reply tables know (empty, invalid, negative, zero,
decimals, too_large): parse.amount's finer "ambiguous" is worded as "decimals" and "currency" as
"invalid" until every caller words ParseError.msgid itself.
"""

from __future__ import annotations

from bot.parse import MAX_MINOR, ParseError, amount

AmountError = ParseError
_OLDER_CODES = {"ambiguous": "decimals", "currency": "invalid"}

__all__ = ["MAX_MINOR", "AmountError", "parse_amount"]


def parse_amount(
    raw: str, currency: str, *, ceiling_minor: int | None = None, allow_zero: bool = False
) -> int:
    """Integer minor units of `currency`; AmountError(code) when the text is not such an amount."""
    try:
        return amount(raw, currency, ceiling_minor=ceiling_minor, allow_zero=allow_zero)
    except ParseError as exc:
        if exc.code not in _OLDER_CODES:
            raise
        raise ParseError(_OLDER_CODES[exc.code], exc.kind, **exc.detail) from exc
