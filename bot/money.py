"""Amounts as members write them (5000, 5,000, 5.000, 5000/=, 5k, TSh 5,000) into integer minor units."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.i18n import minor_digits

_CURRENCY_WORDS = re.compile(
    r"^(tsh|tshs|tzs|ksh|kshs|kes|ush|ugx|fcfa|cfa|xof|f|etb|br|birr|usd|us\$|\$|sh|shs)\.?\s*|"
    r"\s*(tsh|tshs|tzs|ksh|kshs|kes|ush|ugx|fcfa|f cfa|cfa|xof|f|etb|br|birr|usd|\$|sh|shs|shilingi|"
    r"shillings?|francs?|/=|/-|=/)\.?$",
    re.IGNORECASE,
)
_SUFFIX = {"k": 1_000, "m": 1_000_000}
MAX_MINOR = 10**15  # far above any cluster's money, far below a 64-bit database integer


class AmountError(ValueError):
    """Not an amount; `code` says why: empty, invalid, negative, zero, decimals, too_large."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _strip_currency(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _CURRENCY_WORDS.sub("", text).strip()
    return text


def parse_amount(
    raw: str, currency: str, *, ceiling_minor: int | None = None, allow_zero: bool = False
) -> int:
    """Integer minor units of `currency`; AmountError(code) when the text is not such an amount.

    Amounts beyond MAX_MINOR are `too_large` even without a ceiling, so no typo reaches the database
    as an integer it cannot hold.
    """
    text = (raw or "").strip().replace("\u00a0", " ").replace("\u202f", " ")
    if not text:
        raise AmountError("empty")
    if text.startswith("-"):
        raise AmountError("negative")
    text = _strip_currency(text)
    multiplier = 1
    if text and text[-1].lower() in _SUFFIX:
        multiplier = _SUFFIX[text[-1].lower()]
        text = text[:-1].strip()
    text = text.replace(" ", "").replace("'", "")
    if text.startswith("-"):
        raise AmountError("negative")
    if not text or not re.fullmatch(r"[0-9][0-9.,]*", text) or len(text) > 20:
        raise AmountError("invalid")
    value = _to_decimal(text)
    value *= multiplier
    digits = minor_digits(currency)
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise AmountError("decimals")
    amount = int(minor)
    if amount == 0 and not allow_zero:
        raise AmountError("zero")
    if amount > MAX_MINOR or ceiling_minor is not None and amount > ceiling_minor:
        raise AmountError("too_large")
    return amount


def _to_decimal(text: str) -> Decimal:
    """A separator followed by exactly three digits groups thousands; a last one followed by 1-2 is decimal,
    and so is a lone separator after a leading zero (0.005)."""
    parts = re.split(r"[.,]", text)
    seps = re.findall(r"[.,]", text)
    if not seps:
        return Decimal(text)
    last = parts[-1]
    decimal_part = ""
    leading_zero = len(seps) == 1 and parts[0].startswith("0")  # 0.005 is never five thousandths grouped
    if len(last) in (1, 2) or (len(last) == 3 and len(seps) > 1 and seps[-1] != seps[0]) or leading_zero:
        decimal_part = parts.pop()
        seps.pop()
    if any(len(p) != 3 for p in parts[1:]) or not parts[0] or len(parts[0]) > 3 and len(parts) > 1:
        raise AmountError("invalid")
    if len(set(seps)) > 1:
        raise AmountError("invalid")
    try:
        return Decimal("".join(parts) + ("." + decimal_part if decimal_part else ""))
    except InvalidOperation as exc:
        raise AmountError("invalid") from exc
