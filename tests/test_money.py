"""Amounts as members write them, into integer minor units; everything else refused with a reason.

Read by bot.parse, the one parser every command and CLI option uses.
"""

import pytest

from bot.parse import MAX_MINOR, ParseError
from bot.parse import amount as parse_amount


@pytest.mark.parametrize(
    "text, minor",
    [
        ("5000", 500_000),
        ("5,000", 500_000),
        ("5.000", 500_000),
        ("5000/=", 500_000),
        ("5000/-", 500_000),
        ("5k", 500_000),
        ("5K", 500_000),
        ("1.5k", 150_000),
        ("TSh 5,000", 500_000),
        ("tsh5000", 500_000),
        ("5,000 TZS", 500_000),
        ("5000 shilingi", 500_000),
        ("Sh. 500", 50_000),
        ("5 000", 500_000),
        ("1,234,567", 123_456_700),
        ("1.234.567", 123_456_700),
        ("2m", 200_000_000),
    ],
)
def test_the_ways_members_write_amounts(text, minor):
    assert parse_amount(text, "TZS") == minor


@pytest.mark.parametrize(
    "text, currency, minor",
    [
        ("5000", "XOF", 5_000),
        ("5 000 FCFA", "XOF", 5_000),
        ("KSh 1,250.75", "KES", 125_075),
        ("Br 300.5", "ETB", 30_050),
        ("2,500", "UGX", 2_500),
        ("12,345.50", "KES", 1_234_550),
        ("1.234,56", "KES", 123_456),
        ("5,5", "KES", 550),
    ],
)
def test_minor_units_follow_the_currency(text, currency, minor):
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    "text, currency, code",
    [
        ("", "TZS", "empty"),
        ("   ", "TZS", "empty"),
        ("five", "TZS", "invalid"),
        ("5,00,0", "TZS", "invalid"),
        ("1e5", "TZS", "invalid"),
        ("5-", "TZS", "invalid"),
        ("TSh", "TZS", "invalid"),
        ("-500", "TZS", "negative"),
        ("TSh -500", "TZS", "negative"),
        ("0", "TZS", "zero"),
        ("0.00", "TZS", "zero"),
        ("1,234.567", "TZS", "decimals"),
        ("5.5", "XOF", "decimals"),
        ("5,5", "TZS", "decimals"),  # shillings are paid whole: 5,5 is no amount of them (issue 14 item 2)
        ("12,345.50", "TZS", "decimals"),
        ("1,00", "TZS", "ambiguous"),  # 1 or a typo of 1,000?
        ("0.005", "KES", "decimals"),
        ("99999999999999999999", "TZS", "too_large"),
        ("١٠٠", "TZS", "invalid"),
    ],
)
def test_what_is_not_an_amount_says_why(text, currency, code):
    with pytest.raises(ParseError) as exc:
        parse_amount(text, currency)
    assert exc.value.code == code


def test_ceiling_and_hard_limit():
    assert parse_amount("1,000,000", "TZS", ceiling_minor=100_000_000) == 100_000_000
    with pytest.raises(ParseError, match="too_large"):
        parse_amount("1,000,001", "TZS", ceiling_minor=100_000_000)
    with pytest.raises(ParseError, match="too_large"):
        parse_amount(str(MAX_MINOR // 100 + 1), "TZS")
    assert parse_amount("0", "TZS", allow_zero=True) == 0
