"""Money from integer minor units and dates in the member's locale and timezone, with Babel."""

from datetime import UTC, datetime

import pytest

from bot import i18n, sms
from bot.i18n import Money

NBSP = ("\u00a0", "\u202f")


def plain(text: str) -> str:
    """Babel's no-break spaces read as spaces, as they go out by SMS."""
    return sms.normalise(text)


@pytest.mark.parametrize("lang, minor, currency, region, expected", [
    ("en", 500_000, "TZS", "TZ", "TSh5,000"),
    ("sw", 500_000, "TZS", "TZ", "TSh 5,000"),
    ("fr", 500_000, "TZS", "TZ", "5 000 TZS"),
    ("am", 500_000, "TZS", "TZ", "TZS5,000"),
    ("en", 123_456, "TZS", "TZ", "TSh1,234.56"),
    ("fr", 123_456, "TZS", "TZ", "1 234,56 TZS"),
    ("en", 250_000, "KES", "KE", "Ksh2,500"),
    ("sw", 250_000, "KES", "KE", "Ksh 2,500"),
    ("fr", 5_000, "XOF", "SN", "5 000 F CFA"),  # XOF has no minor unit
    ("en", 5_000, "XOF", "SN", "F CFA5,000"),
    ("am", 1_050, "ETB", "ET", "ብር10.50"),
    ("am", 100_000_000, "ETB", "ET", "ብር1,000,000"),
    ("fr", 999_999_900, "ETB", "ET", "9 999 999 ETB"),
])
def test_money_from_minor_units(lang, minor, currency, region, expected):
    assert plain(i18n.format_money(minor, currency, lang, region)) == expected


def test_money_whole_amounts_drop_the_decimals_but_never_round():
    assert plain(i18n.format_money(100, "TZS", "en", "TZ")) == "TSh1"
    assert plain(i18n.format_money(1, "TZS", "en", "TZ")) == "TSh0.01"
    assert plain(i18n.format_money(-150_000, "KES", "en", "KE")) == "-Ksh1,500"


def test_money_values_in_messages_are_worded_for_the_reader():
    text = "{amount}"
    assert plain(i18n.translate("fr", text, region="SN", amount=Money(5_000, "XOF"))) == "5 000 F CFA"
    assert plain(i18n.translate("sw", text, region="TZ", amount=Money(500_000, "TZS"))) == "TSh 5,000"


MOMENT = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize("lang, tz, region, expected", [
    ("en", "Africa/Dar_es_Salaam", "TZ", "Tue 1 Dec 14:00"),
    ("sw", "Africa/Dar_es_Salaam", "TZ", "Jumanne 1 Des 14:00"),
    ("fr", "Africa/Dakar", "SN", "mar. 1 déc. 11:00"),
    ("am", "Africa/Addis_Ababa", "ET", "ማክሰ 1 ዲሴም 14:00"),
    ("en", "Africa/Dakar", "SN", "Tue 1 Dec 11:00"),
])
def test_dates_in_the_members_locale_and_timezone(lang, tz, region, expected):
    assert i18n.format_when(MOMENT, lang, tz, region) == expected


def test_local_midnight_moves_the_day():
    late = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)
    assert i18n.format_when(late, "en", "Africa/Nairobi", "KE") == "Wed 2 Dec 01:30"
    assert i18n.format_day(i18n.local_time(late, "Africa/Nairobi"), "sw", "KE") == "2 Des 2026"
    assert i18n.format_timestamp(late, "fr", "Africa/Dakar", "SN") == "1 déc. 22:30"


def test_datetimes_in_messages_are_worded_in_the_cluster_timezone():
    text = i18n.translate("sw", "{when}", region="TZ", tz="Africa/Dar_es_Salaam", when=MOMENT)
    assert text == "Jumanne 1 Des 14:00"


def test_numbers_use_the_locale_grouping():
    assert i18n.format_number(1_234_567, "en", "TZ") == "1,234,567"
    assert plain(i18n.format_number(1_234_567, "fr", "SN")) == "1 234 567"


def test_unknown_region_falls_back_to_the_language():
    assert i18n.babel_locale("fr", "TZ").language == "fr"
    assert str(i18n.babel_locale("sw", "TZ")) == "sw_TZ"
    assert str(i18n.babel_locale("xx", "")) == "en"


def test_translation_falls_back_to_english_for_an_unknown_language_or_msgid():
    assert i18n.translate("de", "Only a facilitator can do that.") == "Only a facilitator can do that."
    assert i18n.translate("sw", "A message nobody translated.") == "A message nobody translated."


def test_catalogs_are_merged_and_translate():
    assert i18n.translate("sw", "Only a facilitator can do that.") == "Ni mwezeshaji pekee anayeweza kufanya hivyo."
    assert i18n.translate("fr", "Woman") == "Femme"
    assert i18n.translate("am", "Your language is now {language}.", language="አማርኛ") == "ቋንቋዎ አሁን አማርኛ ነው።"


def test_a_broken_translation_falls_back_to_english(monkeypatch):
    monkeypatch.setattr(i18n, "gettext_for", lambda lang, msgid: "Jina {jina}")
    assert i18n.translate("sw", "Name {name}", name="Asha") == "Name Asha"
