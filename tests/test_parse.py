"""What people type, read one way: amounts, quantities, dates, phones, members, ids; and what the bot
writes reads back (hypothesis), in every language and currency the bot speaks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import i18n, parse, router, sms
from bot.parse import ParseError

LANGS = ("en", "sw", "fr", "am")
CURRENCIES = ("TZS", "KES", "UGX", "XOF", "ETB", "USD", "RWF", "XAF")
REGIONS = ("", "TZ", "KE", "UG", "SN", "CI", "ET", "RW", "CD")  # fr_RW writes 1,234.5 and sw_CD 1.234,5
ZONES = ("Africa/Dar_es_Salaam", "Africa/Nairobi", "Africa/Dakar", "Africa/Addis_Ababa", "UTC")
TZ = "Africa/Dar_es_Salaam"
NOW = datetime(2027, 3, 20, 7, 0, tzinfo=UTC)  # Saturday 20 March 2027, 10:00 in Dar es Salaam


def local(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def refused(read, *args, **kwargs) -> ParseError:
    with pytest.raises(ParseError) as exc:
        read(*args, **kwargs)
    return exc.value


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize("text, minor", [
    ("5000", 500_000), ("5,000", 500_000), ("5.000", 500_000), ("20 000", 2_000_000),
    ("20\u00a0000", 2_000_000), ("20\u202f000", 2_000_000), ("1.234.567", 123_456_700), ("1 234 567", 123_456_700),
    ("5k", 500_000), ("1.5k", 150_000), ("2m", 200_000_000), ("5000/=", 500_000), ("5000 /=", 500_000),
    ("5000/-", 500_000), ("TSh 5,000", 500_000), ("TSh5,000", 500_000), ("5,000TSh", 500_000),
    ("5,000 TZS", 500_000), ("TZS 5000", 500_000), ("tshs 5000", 500_000), ("Sh. 500", 50_000),
    ("5000 shilingi", 500_000), ("5,000.00", 500_000), ("5000.00", 500_000), ("TSh\u00a05,000", 500_000),
])
def test_amounts_as_people_write_them(text, minor):
    assert parse.amount(text, "TZS") == minor


@pytest.mark.parametrize("text, currency, minor", [
    ("5 000 FCFA", "XOF", 5_000), ("5000 CFA", "XOF", 5_000), ("F\u202fCFA 5 000", "XOF", 5_000),
    ("KSh 1,250.75", "KES", 125_075), ("Ksh 5,000", "KES", 500_000), ("12,5", "KES", 1_250), ("12.50", "KES", 1_250),
    ("Br 300.5", "ETB", 30_050), ("300 birr", "ETB", 30_000), ("ብር300", "ETB", 30_000), ("ETB 300", "ETB", 30_000),
    ("USh 2,500", "UGX", 2_500), ("2,500 UGX", "UGX", 2_500), ("US$ 12.50", "USD", 1_250), ("12,50 $US", "USD", 1_250),
    ("5 000 FRW", "RWF", 5_000),
])
def test_currency_words_and_cents_follow_the_currency(text, currency, minor):
    assert parse.amount(text, currency) == minor


@pytest.mark.parametrize("text, currency, code", [
    ("", "TZS", "empty"), ("  ", "TZS", "empty"), ("five", "TZS", "invalid"), ("TSh", "TZS", "invalid"),
    ("5 000 Z2", "TZS", "invalid"), ("5,00,0", "TZS", "invalid"), ("1e5", "TZS", "invalid"), ("١٠٠", "TZS", "invalid"),
    ("５０００", "TZS", "invalid"), ("-500", "TZS", "negative"), ("TSh -500", "TZS", "negative"),
    ("\u2212500", "TZS", "negative"), ("0", "TZS", "zero"),
    # issue 14 item 2: ambiguous, fractional where whole units are kept, absurd
    ("1,00", "TZS", "ambiguous"), ("500.00", "TZS", "ambiguous"), ("12,5", "TZS", "decimals"),
    ("0.5", "TZS", "decimals"), ("0,5", "XOF", "decimals"), ("12.345,5", "UGX", "decimals"),
    ("1,234.567", "TZS", "decimals"), ("0.005", "KES", "decimals"), ("999999999999", "TZS", "too_large"),
    ("99999999999999999999", "TZS", "too_large"),
    # another currency named is not this cluster's money
    ("5000 USD", "TZS", "currency"), ("KSh 5,000", "TZS", "currency"), ("5 000 FCFA", "TZS", "currency"),
    ("TSh 5000", "XOF", "currency"),
])
def test_what_is_not_an_amount_says_why(text, currency, code):
    assert refused(parse.amount, text, currency).code == code


def test_ceilings_default_per_currency_and_configured():
    assert parse.default_ceiling_minor("TZS") == 100_000_000 * 100
    assert parse.default_ceiling_minor("XOF") == 25_000_000
    assert parse.default_ceiling_minor("ZZZ") == parse.FALLBACK_CEILING * 100
    assert parse.amount("100,000,000", "TZS") == 10_000_000_000
    error = refused(parse.amount, "100,000,001", "TZS")
    assert (error.code, error.detail["limit"]) == ("too_large", 10_000_000_000)
    assert parse.amount("1,000,000", "TZS", ceiling_minor=100_000_000) == 100_000_000
    assert refused(parse.amount, "1,000,001", "TZS", ceiling_minor=100_000_000).detail["limit"] == 100_000_000
    assert refused(parse.amount, "99999999999999", "TZS", ceiling_minor=10**20).code == "too_large"  # MAX_MINOR
    assert parse.amount("0", "TZS", allow_zero=True) == 0


def test_whole_units_follow_cldr_cash_digits():
    assert all(parse.whole_units(c) for c in ("TZS", "UGX", "XOF", "XAF", "RWF"))
    assert not any(parse.whole_units(c) for c in ("KES", "ETB", "USD"))


@pytest.mark.parametrize("text, expected", [
    ("5000 /= QK7", (500_000, "QK7")), ("5000/= QK7", (500_000, "QK7")), ("20 000 OM55", (2_000_000, "OM55")),
    ("5 000 Z2", (500_000, "Z2")), ("TSh 5,000 ref ABC", (500_000, "ABC")), ("TSh 5,000 réf: ABC", (500_000, "ABC")),
    ("5000 kumb QK7H2", (500_000, "QK7H2")), ("5000", (500_000, "")), ("5000 12", (500_000, "12")),
    ("5,000 123", (500_000, "123")), ("5 000 123", (500_012_300, "")), ("45000 QK7H2 M-Pesa", (4_500_000, "QK7H2 M-Pesa")),
    ("17 166", (1_716_600, "")),
])
def test_amount_then_reference(text, expected):
    assert parse.amount_and_reference(text, "TZS") == expected


@pytest.mark.parametrize("text, code", [("12,5 X", "decimals"), ("1,00 ABC", "ambiguous"), ("5000 USD", "currency"),
                                        ("QK7 5000", "invalid"), ("", "empty"), ("999999999999 QK7", "too_large")])
def test_amount_then_reference_refuses_the_amount_it_saw(text, code):
    assert refused(parse.amount_and_reference, text, "TZS").code == code


@pytest.mark.parametrize("lang", LANGS)
def test_issue14_amounts_copied_from_the_bot_are_never_truncated(lang):
    """ÉPARGNE 20 000 OM55 was 20; SAVE 5 000 Z2 was 5 and 000Z2; REMBOURSER 17 166 was 17."""
    for minor in (2_000_000, 500_000, 1_716_600):
        written = i18n.format_money(minor, "TZS", lang, "TZ")
        bare = i18n.format_number(minor // 100, lang, "TZ")
        assert parse.amount_and_reference(f"{written} OM55", "TZS") == (minor, "OM55")
        assert parse.amount_and_reference(f"{bare} Z2", "TZS") == (minor, "Z2")
        assert parse.amount(bare, "TZS") == minor
    for text in ("20 000 OM55", "20\u202f000 OM55", "20\u00a0000 OM55"):
        assert parse.amount_and_reference(text, "TZS") == (2_000_000, "OM55")


@pytest.mark.parametrize("text", ["100000 miezi 6", "100000 months 6", "100 000 mois 6", "100000 ወር 6",
                                  "100000 6", "100,000 for 6 months", "100000 6 months", "100000 miezi6",
                                  "6 months 100000", "miezi 6 100000", "TSh 100,000 mois 6", "100 000 6"])
def test_issue14_words_around_loan_figures(text):
    assert parse.amount_and_months(text, "TZS") == (10_000_000, 6)


@pytest.mark.parametrize("text, kind, code", [("100000", "months", "invalid"), ("100000 miezi", "months", "invalid"),
                                              ("100000 miezi sita", "months", "invalid"), ("miezi 6", "amount", "empty"),
                                              ("12,5 miezi 6", "amount", "decimals")])
def test_loan_words_refused_precisely(text, kind, code):
    error = refused(parse.amount_and_months, text, "TZS")
    assert (error.kind, error.code) == (kind, code)


@pytest.mark.parametrize("text", ["6", "6 months", "6 month", "miezi 6", "mwezi 6", "6 mois", "mois 6", "6 ወር", "6ወር"])
def test_months(text):
    assert parse.months(text) == 6


# ---------------------------------------------------------------- quantities


@pytest.mark.parametrize("text, thousandths", [
    ("3", 3000), ("0,5", 500), ("0.5", 500), ("2.5", 2500), ("2,5", 2500), ("1 000", 1_000_000),
    ("1,000", 1_000_000), ("0.125", 125), ("12", 12000), ("2 1/2", 2500), ("1/2", 500), ("3/4", 750),
    ("2½", 2500), ("2 ½", 2500), ("½", 500), ("0", 0),
])
def test_quantities(text, thousandths):
    assert parse.quantity(text) == thousandths


def test_quantities_in_the_readers_language_read_three_decimals_back():
    assert parse.quantity("1.125") == 1_125_000  # no language: three figures after a mark group thousands
    assert parse.quantity("1.125", lang="en") == 1125
    assert parse.quantity("1,125", lang="fr") == 1125
    assert parse.quantity("1,125", lang="en") == 1_125_000
    assert parse.quantity("1 125", lang="fr") == 1_125_000
    assert parse.quantity("1.125", lang="fr", region="RW") == 1125  # fr_RW writes 1,234.5


@pytest.mark.parametrize("text, kwargs, code", [
    ("two", {}, "invalid"), ("1.2.3", {}, "invalid"), ("", {}, "empty"), ("2.5555", {}, "decimals"),
    ("1/3", {}, "decimals"), ("-1", {}, "negative"), ("2,5", {"whole": True}, "whole"),
    ("2 1/2", {"whole": True}, "whole"), ("0", {"allow_zero": False}, "zero"), ("1000000000", {}, "too_large"),
    ("٣", {}, "invalid"), ("1/0", {}, "invalid"),
])
def test_what_is_not_a_quantity(text, kwargs, code):
    assert refused(parse.quantity, text, **kwargs).code == code


@pytest.mark.parametrize("text, expected", [
    ("12,5 kg", (12_500, "kg")), ("12,5kg", (12_500, "kg")), ("2 12,5 kg", (2000, "12,5 kg")),
    ("3 bags", (3000, "bags")), ("3", (3000, "")), ("1 000 kg", (1_000_000, "kg")), ("2 1/2 rolls", (2500, "rolls")),
])
def test_quantity_then_unit(text, expected):
    assert parse.quantity_and_unit(text) == expected


@pytest.mark.parametrize("lang", LANGS)
def test_issue14_purchase_with_a_unit_in_every_language(lang):
    """ACHETER 2 12,5 kg: the purchase number, then the quantity and the unit the handler checks."""
    _keyword, args = parse.first_word(f"{router.keyword('BUY', lang)} 2 12,5 kg")
    purchase, rest = parse.ident_and_rest(args)
    assert (purchase, parse.quantity_and_unit(rest, lang=lang)) == (2, (12_500, "kg"))
    assert refused(parse.quantity_and_unit, "12,5 kg", whole=True).code == "whole"


# ---------------------------------------------------------------- dates and times


@pytest.mark.parametrize("text, expected", [
    ("14/03 17:00", local(2028, 3, 14, 17, 0)),  # six days after 14 March: next year's
    ("22/03 17:00", local(2027, 3, 22, 17, 0)), ("22-03-2027 17:00", local(2027, 3, 22, 17, 0)),
    ("22.03.27 17:00", local(2027, 3, 22, 17, 0)), ("2027-03-22 17:00", local(2027, 3, 22, 17, 0)),
    ("2027-03-22T17:00", local(2027, 3, 22, 17, 0)), ("22/03 17h", local(2027, 3, 22, 17, 0)),
    ("22/03 17h30", local(2027, 3, 22, 17, 30)), ("22/03 17 h 30", local(2027, 3, 22, 17, 30)),
    ("22/03 5pm", local(2027, 3, 22, 17, 0)), ("22/03 5:30 pm", local(2027, 3, 22, 17, 30)),
    ("22/03 12am", local(2027, 3, 22, 0, 0)), ("22/03 17.00", local(2027, 3, 22, 17, 0)),
    ("22 March 5pm", local(2027, 3, 22, 17, 0)), ("March 22nd 17:00", local(2027, 3, 22, 17, 0)),
    ("22 Mar 2027 17:00", local(2027, 3, 22, 17, 0)), ("Monday 22 March 17:00", local(2027, 3, 22, 17, 0)),
    ("22 Machi 17:00", local(2027, 3, 22, 17, 0)), ("Jumatatu 22 Machi saa 11 jioni", local(2027, 3, 22, 17, 0)),
    ("le 22 mars à 17h", local(2027, 3, 22, 17, 0)), ("lundi 22 mars 17h", local(2027, 3, 22, 17, 0)),
    ("lun. 22 mars 17:00", local(2027, 3, 22, 17, 0)), ("22 ማርች 17:00", local(2027, 3, 22, 17, 0)),
    ("ሰኞ 22 ማርች 17:00", local(2027, 3, 22, 17, 0)), ("1 Jan 09:00", local(2028, 1, 1, 9, 0)),
    ("20/03 12:00", local(2027, 3, 20, 12, 0)),  # today counts while its time is ahead
    ("20/03 09:00", local(2028, 3, 20, 9, 0)),  # ...and not once it has passed
    ("29/02 10:00", local(2028, 2, 29, 10, 0)),
    ("today 17:00", local(2027, 3, 20, 17, 0)), ("tomorrow 9:00", local(2027, 3, 21, 9, 0)),
    ("leo saa 11 jioni", local(2027, 3, 20, 17, 0)), ("kesho saa 2 asubuhi", local(2027, 3, 21, 8, 0)),
    ("kesho saa 2 usiku", local(2027, 3, 21, 20, 0)), ("kesho saa 6 mchana", local(2027, 3, 21, 12, 0)),
    ("kesho kutwa 17:00", local(2027, 3, 22, 17, 0)), ("kesho saa 17:00", local(2027, 3, 21, 17, 0)),
    ("aujourd'hui 17h", local(2027, 3, 20, 17, 0)), ("aujourd\u2019hui 17h", local(2027, 3, 20, 17, 0)),
    ("demain 9h", local(2027, 3, 21, 9, 0)), ("après-demain 9h", local(2027, 3, 22, 9, 0)),
    ("ዛሬ 17:00", local(2027, 3, 20, 17, 0)), ("ነገ ከጠዋቱ 3 ሰዓት", local(2027, 3, 21, 9, 0)),
    ("ነገ 3 ሰዓት ጠዋት", local(2027, 3, 21, 9, 0)), ("ነገ ከምሽቱ 11 ሰዓት", local(2027, 3, 21, 17, 0)),
    ("17:00", local(2027, 3, 20, 17, 0)), ("09:00", local(2027, 3, 21, 9, 0)),  # a time alone: the next one
    ("Monday 9:00", local(2027, 3, 22, 9, 0)), ("Jumatatu 9:00", local(2027, 3, 22, 9, 0)),
    ("lundi 9h", local(2027, 3, 22, 9, 0)), ("ሰኞ 9:00", local(2027, 3, 22, 9, 0)),
    ("Saturday 12:00", local(2027, 3, 20, 12, 0)), ("Saturday 9:00", local(2027, 3, 27, 9, 0)),
    ("Fri 3 Sept 14:05", local(2027, 9, 3, 14, 5)),  # as en_TZ writes it
])
def test_moments(text, expected):
    assert parse.moment(text, TZ, NOW) == expected


def test_moments_use_the_readers_language_first_and_the_cluster_timezone():
    assert parse.moment("mar. 23 mars 10:00", TZ, NOW) == local(2027, 3, 23, 10, 0)  # mardi, not March
    assert parse.moment("mar 23 10:00", TZ, NOW, "en") == local(2027, 3, 23, 10, 0)  # March
    assert refused(parse.moment, "mar 23 10:00", TZ, NOW, "fr").code == "invalid"  # Tuesday the 23rd of what?
    assert parse.moment("22/03 17:00", "Africa/Dakar", NOW) == datetime(2027, 3, 22, 17, 0, tzinfo=UTC)
    assert parse.moment("22/03", TZ, NOW, default_time=time(23, 59)) == local(2027, 3, 22, 23, 59)
    assert parse.moment("20/03", TZ, NOW, default_time=time(23, 59)) == local(2027, 3, 20, 23, 59)


@pytest.mark.parametrize("text, code", [
    ("", "empty"), ("soon", "invalid"), ("32/12 14:00", "no_such_day"), ("31/02 10:00", "no_such_day"),
    ("12/13 10:00", "no_such_day"), ("22/03", "no_time"), ("tomorrow", "no_time"), ("kesho", "no_time"),
    ("22/03 25:00", "invalid"), ("22/03 13pm", "invalid"), ("22/03 10:60", "invalid"),
    ("14-03-2027 17:00", "past"), ("01/03/2027 10:00", "past"), ("today 08:00", "past"), ("leo saa 2 asubuhi", "past"),
    ("Tue 22/03 10:00", "weekday"), ("Jumanne 22 Machi 10:00", "weekday"), ("kesho Jumatatu 10:00", "weekday"),
    ("saa 11", "ambiguous_time"), ("kesho saa 5", "ambiguous_time"), ("ነገ 3 ሰዓት", "ambiguous_time"),
    ("22/03 ١٠:٠٠", "invalid"), ("Dec 2027 10:00", "invalid"), ("22/03 10:00-12:00", "invalid"),
])
def test_what_is_not_a_moment(text, code):
    assert refused(parse.moment, text, TZ, NOW).code == code


def test_spans():
    assert parse.span("22/03 14:00-17:30", TZ, NOW) == (local(2027, 3, 22, 14, 0), local(2027, 3, 22, 17, 30))
    assert parse.span("22 Mar 2pm to 5pm", TZ, NOW) == (local(2027, 3, 22, 14, 0), local(2027, 3, 22, 17, 0))
    assert parse.span("22 mars 14h à 17h", TZ, NOW) == (local(2027, 3, 22, 14, 0), local(2027, 3, 22, 17, 0))
    assert parse.span("22/03 14:00 hadi 17:00", TZ, NOW)[1] == local(2027, 3, 22, 17, 0)
    assert parse.span("22/03 14:00", TZ, NOW) == (local(2027, 3, 22, 14, 0), None)
    assert parse.span("22/03 14:00 - 23/03 10:00", TZ, NOW)[1] == local(2027, 3, 23, 10, 0)
    assert refused(parse.span, "22/03 14:00-13:00", TZ, NOW).code == "bad_end"


@pytest.mark.parametrize("text, expected", [
    ("22/03", date(2027, 3, 22)), ("20/03", date(2027, 3, 20)), ("14/03", date(2028, 3, 14)),
    ("3 Dec 2027", date(2027, 12, 3)), ("3 déc. 2027", date(2027, 12, 3)), ("3 Des 2027", date(2027, 12, 3)),
    ("3 ዲሴም 2027", date(2027, 12, 3)), ("Jumatatu", date(2027, 3, 22)), ("leo", date(2027, 3, 20)),
    ("demain", date(2027, 3, 21)),
])
def test_days(text, expected):
    assert parse.day(text, TZ, NOW) == expected


def test_days_in_the_past_when_asked_for():
    assert parse.day("14/03", TZ, NOW, future=False) == date(2027, 3, 14)
    assert parse.day("22/03", TZ, NOW, future=False) == date(2026, 3, 22)
    assert parse.day("3 Dec 2026", TZ, NOW, future=False) == date(2026, 12, 3)
    assert parse.day("Monday", TZ, NOW, future=False) == date(2027, 3, 15)
    assert refused(parse.day, "3 Dec 2026", TZ, NOW).code == "past"
    assert refused(parse.day, "22/03 10:00", TZ, NOW).code == "invalid"
    assert refused(parse.day, "30/02", TZ, NOW).code == "no_such_day"


# ---------------------------------------------------------------- phones, members, ids, words


@pytest.mark.parametrize("text", ["0712 000 006", "0712-000-006", "0712.000.006", "(0712) 000 006", "+255 712-000-006",
                                  "+255712000006", "255712000006", "00255712000006", "712 000 006", "0712\u00a0000\u00a0006"])
def test_phones(text):
    assert parse.phone(text, "TZ") == "+255712000006"


@pytest.mark.parametrize("text", ["", "4", "0712", "abc", "+255 712 000 006 7", "07١٢ 000 006", "++255712000006"])
def test_not_phones(text):
    assert parse.phone(text, "TZ") is None


def test_phones_of_other_countries():
    assert parse.phone("+254 712 000 006", "TZ") == "+254712000006"
    assert parse.phone("0712 000 006", "KE") == "+254712000006"
    assert parse.phone("77 123 45 67", "SN") == "+221771234567"
    assert parse.phone("091 123 4567", "ET") == "+251911234567"


@pytest.mark.parametrize("lang", LANGS)
def test_issue14_a_member_reference_is_the_whole_rest(lang):
    """APPROVE 0712 000 006 answered "No member 0712"."""
    _keyword, rest = parse.first_word(f"{router.keyword('APPROVE', lang)} 0712 000 006")
    ref = parse.member_ref(rest, "TZ")
    assert (ref.kind, ref.phone, ref.key) == ("phone", "+255712000006", "+255712000006")
    for text, kind, key in [("4", "number", "4"), ("#4", "number", "4"), ("004", "number", "4"),
                            ("MOSHI-004", "code", "MOSHI-004"), ("moshi-004", "code", "MOSHI-004"),
                            ("+255 712 000 006", "phone", "+255712000006"), ("255712000006", "phone", "+255712000006")]:
        ref = parse.member_ref(text, "TZ")
        assert (ref.kind, ref.key) == (kind, key), text
    assert refused(parse.member_ref, "Asha Mushi", "TZ").code == "invalid"
    assert refused(parse.member_ref, "", "TZ").code == "empty"


def test_several_members():
    refs = parse.member_refs("4 5 0712 000 006, MOSHI-007", "TZ")
    assert [r.key for r in refs] == ["4", "5", "+255712000006", "MOSHI-007"]


@pytest.mark.parametrize("text, value", [("12", 12), ("#12", 12), ("# 12", 12), ("no. 12", 12), ("012", 12)])
def test_ids(text, value):
    assert parse.ident(text) == value


@pytest.mark.parametrize("text, code", [("", "empty"), ("#", "empty"), ("abc", "invalid"), ("١٢", "invalid"),
                                        ("²", "invalid"), ("12a", "invalid"), ("1234567890", "too_large"),
                                        ("0", "zero"), ("-3", "invalid")])
def test_ids_refused_without_crashing(text, code):
    assert refused(parse.ident, text).code == code


def test_words_split_like_every_command():
    assert parse.words(" PAID  3\u00a045000 ፡QK7 ") == ["PAID", "3", "45000", "QK7"]
    assert parse.first_word("3 45000 QK7") == ("3", "45000 QK7")
    assert parse.first_word("") == ("", "")
    assert parse.ident_and_rest("#3 45000 QK7") == (3, "45000 QK7")


# ---------------------------------------------------------------- replies


def test_every_code_has_a_reply_that_fits_one_sms():
    """Each refusal's reply, with realistic values, is one GSM-7 segment (two UCS-2 ones in Amharic)."""
    values = {"currency": "TZS", "limit": i18n.Money(10_000_000_000, "TZS")}
    for msgid in set(parse.MESSAGES.values()):
        for lang in LANGS:
            text = sms.outgoing(i18n.translate(lang, msgid, region="TZ", **values))
            encoded = sms.encode(text)
            assert encoded.segments == 1 or lang == "am" and encoded.units <= 2 * sms.UCS2_MULTI, (lang, text)
    assert parse.message_for("amount", "ambiguous").startswith("That amount can be read two ways")
    assert parse.message_for("moment", "nonsense") == parse.MESSAGES[("moment", None)]
    assert refused(parse.amount, "12,5", "TZS").msgid == parse.MESSAGES[("amount", "decimals")]


@pytest.mark.parametrize("lang", LANGS)
def test_the_examples_in_the_replies_read(lang):
    """What a reply shows as an example is itself read, so a member who copies it is understood."""
    assert parse.moment("14/03 17:00", TZ, NOW, lang) and parse.moment("14 March 5pm", TZ, NOW, lang)
    assert parse.moment("14 Machi saa 11 jioni", TZ, NOW, lang) == parse.moment("14 mars 17h", TZ, NOW, lang)
    assert parse.moment("14/03 ከምሽቱ 11 ሰዓት", TZ, NOW, lang) == parse.moment("14 ማርች 17:00", TZ, NOW, lang)
    assert parse.amount_and_months("300000 miezi 6", "TZS") == parse.amount_and_months("300000 ወር 6", "TZS")
    assert parse.quantity("2,5", lang=lang) == parse.quantity("2.5", lang=lang) == 2500


# ---------------------------------------------------------------- what the bot writes reads back


@st.composite
def money(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    unit = 10 ** i18n.minor_digits(currency)
    ceiling = parse.default_ceiling_minor(currency)
    if parse.whole_units(currency):
        minor = draw(st.integers(1, ceiling // unit)) * unit
    else:
        minor = draw(st.integers(1, ceiling))
    return currency, minor


@settings(max_examples=400, deadline=None)
@given(money(), st.sampled_from(LANGS), st.sampled_from(REGIONS))
def test_every_amount_the_bot_writes_reads_back(found, lang, region):
    currency, minor = found
    written = i18n.format_money(minor, currency, lang, region)
    assert parse.amount(written, currency) == minor, written
    assert parse.amount(sms.outgoing(written), currency) == minor, written  # as the SMS carried it
    assert parse.amount_and_reference(f"{written} QK7H2", currency) == (minor, "QK7H2")
    value = Decimal(minor).scaleb(-i18n.minor_digits(currency))
    assert parse.amount(i18n.format_number(value, lang, region), currency) == minor
    assert refused(parse.amount, i18n.format_money(-minor, currency, lang, region), currency).code == "negative"


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2040, 12, 31)),
       st.integers(1, 364 * 24 * 60), st.sampled_from(LANGS), st.sampled_from(REGIONS), st.sampled_from(ZONES),
       st.booleans())
def test_every_moment_the_bot_writes_reads_back(start, minutes, lang, region, zone, hinted):
    """format_when writes no year, so a moment within a year after `now` is the one it names."""
    now = start.replace(tzinfo=UTC)
    when = (now + timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    if when <= now:
        when += timedelta(minutes=1)
    written = i18n.format_when(when, lang, zone, region)
    assert parse.moment(written, zone, now, lang if hinted else None) == when, written
    assert parse.moment(sms.outgoing(written), zone, now, lang if hinted else None) == when, written


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2040, 12, 31)), st.integers(0, 3000),
       st.sampled_from(LANGS), st.sampled_from(REGIONS), st.sampled_from(ZONES))
def test_every_day_the_bot_writes_reads_back(today, ahead, lang, region, zone):
    now = datetime.combine(today, time(12, 0), ZoneInfo(zone)).astimezone(UTC)
    target = today + timedelta(days=ahead)
    written = i18n.format_day(target, lang, region)
    assert parse.day(written, zone, now, lang) == target, written
    assert parse.day(written, zone, now, future=False) == target, written
    assert parse.moment(written, zone, now, default_time=time(23, 59)).astimezone(ZoneInfo(zone)).date() == target


def purchase_quantity(thousandths: int, lang: str, region: str) -> str:
    """A quantity the way purchases word it (bot/handlers/purchases.py qty)."""
    value = (Decimal(thousandths) / parse.QTY_SCALE).normalize()
    return i18n.format_number(value if value else Decimal(0), lang, region)


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 10**9 * parse.QTY_SCALE - 1), st.sampled_from(LANGS), st.sampled_from(REGIONS))
def test_every_quantity_the_bot_writes_reads_back(thousandths, lang, region):
    written = purchase_quantity(thousandths, lang, region)
    assert parse.quantity(written, lang=lang, region=region) == thousandths, written
    assert parse.quantity_and_unit(f"{written} kg", lang=lang, region=region) == (thousandths, "kg")
    if thousandths % parse.QTY_SCALE == 0:
        assert parse.quantity(written, whole=True) == thousandths, written
