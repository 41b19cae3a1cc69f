"""The rendering language am-Latn: romanised Amharic for screens that show only plain GSM-7 (USSD).

It reads its own catalogs (bot/locales/am_Latn), falls back to the Amharic translation romanised, has
Amharic's plural rule and locale, spells names, money and dates in Latin letters, and never leaves the
GSM-7 basic set.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import catalog, i18n, router, sms
from bot.context import Ctx
from bot.i18n import Money, Plural
from storage.db import session_scope
from storage.members import get_or_create_identity

MOMENT = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # a Tuesday
HEADER = 'msgid ""\nmsgstr ""\n"Language: am\\n"\n"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n\n'
AMHARIC = HEADER + """msgid "Hello {name}."
msgstr "ሰላም {name}።"

msgid "Only in Amharic."
msgstr "በአማርኛ ብቻ ነው።"

msgid "{count} member"
msgid_plural "{count} members"
msgstr[0] "{count} አባል"
msgstr[1] "{count} አባላት"

msgid "{count} day"
msgid_plural "{count} days"
msgstr[0] "{count} ቀን"
msgstr[1] "{count} ቀናት"

msgid "Send JOIN to register, or HELP."
msgstr "ለመመዝገብ «ተቀላቀል» ይላኩ፤ ወይም እርዳታ።"
"""
ROMANISED = HEADER + """#: bot/handlers/demo.py
msgid "Hello {name}."
msgstr "Selam {name}."

msgid "{count} member"
msgid_plural "{count} members"
msgstr[0] "{count} abal"
msgstr[1] "{count} abalat"
"""
MEMBERS = Plural("{count} member", "{count} members")


@pytest.fixture
def locales(tmp_path, monkeypatch):
    """A locales folder of its own: an am catalog and an am_Latn one that lacks some of its entries."""
    for lang, text in (("am", AMHARIC), ("am_Latn", ROMANISED)):
        (tmp_path / lang / "LC_MESSAGES").mkdir(parents=True)
        (tmp_path / lang / "LC_MESSAGES" / "demo.po").write_text(text, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    monkeypatch.setattr(catalog, "LOCALES_DIR", tmp_path)
    clear()
    yield tmp_path
    clear()


def clear():
    for cached in (i18n.merged_catalog, i18n.translations, i18n.domain_translations):
        cached.cache_clear()


def test_the_screen_language_of_an_amharic_member_is_romanised_amharic():
    assert i18n.screen_language("am") == "am-Latn"
    assert [i18n.screen_language(lang) for lang in ("en", "sw", "fr")] == ["en", "sw", "fr"]
    assert i18n.LANGUAGES == ("en", "sw", "fr", "am")  # not a language a member chooses
    assert i18n.babel_locale("am-Latn", "ET") == i18n.babel_locale("am", "ET")


def test_its_own_catalog_first_then_the_amharic_romanised_then_english(locales):
    assert i18n.translate("am-Latn", "Hello {name}.", name="Asha") == "Selam Asha."
    assert i18n.translate("am-Latn", "Only in Amharic.") == "Beamarnya bicha new."
    assert i18n.translate("am-Latn", "Not translated at all.") == "Not translated at all."
    assert i18n.translate("am", "Only in Amharic.") == "በአማርኛ ብቻ ነው።"  # Amharic members keep their script


def test_plurals_follow_the_amharic_rule(locales):
    words = [i18n.translate("am-Latn", MEMBERS, count=n) for n in (0, 1, 2, 5)]
    assert words == ["0 abal", "1 abal", "2 abalat", "5 abalat"]
    days = Plural("{count} day", "{count} days")
    assert [i18n.translate("am-Latn", days, count=n) for n in (1, 2)] == ["1 qen", "2 qenat"]  # romanised am
    assert i18n.ngettext_for("am-Latn", MEMBERS, 1) == "{count} abal"


def test_names_in_ethiopic_are_spelt_in_latin_letters(locales):
    assert i18n.translate("am-Latn", "Hello {name}.", name="ወይዘሮ ብርቱካን") == "Selam Weyzero Birtukan."


def test_money_numbers_and_dates_are_worded_as_in_amharic_then_romanised():
    assert sms.normalise(i18n.format_money(1_050, "ETB", "am", "ET")) == "ብር10.50"
    assert i18n.format_money(1_050, "ETB", "am-Latn", "ET") == "Bir10.50"
    assert i18n.format_money(100_000_000, "ETB", "am-Latn", "ET") == "Bir1,000,000"
    assert i18n.format_when(MOMENT, "am", "Africa/Addis_Ababa", "ET") == "ማክሰ 1 ዲሴም 14:00"
    assert i18n.format_when(MOMENT, "am-Latn", "Africa/Addis_Ababa", "ET") == "Makse 1 Disem 14:00"
    assert i18n.format_day(MOMENT, "am-Latn", "ET") == "1 Disem 2026"
    assert i18n.format_number(1234567, "am-Latn", "ET") == "1,234,567"
    text = i18n.translate("am-Latn", "{amount} on {when}", region="ET", tz="Africa/Addis_Ababa",
                          amount=Money(1_050, "ETB"), when=MOMENT)
    assert text == "Bir10.50 on Makse 1 Disem 14:00"


def test_the_output_is_always_plain_gsm7(locales):
    text = i18n.translate("am-Latn", "Hello {name}.", name="Asha ☕[Moshi] ~ 5€ | ^x\\y")
    assert text == "Selam Asha (Moshi) - 5EUR / x/y." and sms.plain(text)
    for msgid in ("Only in Amharic.", "Send JOIN to register, or HELP."):
        assert sms.plain(i18n.translate("am-Latn", msgid))


def test_the_real_catalogs_give_every_message_in_latin_letters():
    text = i18n.translate("am-Latn", "You are not registered. Send JOIN to register with your cluster.")
    assert sms.plain(text) and router.keyword("JOIN", "am-Latn") in text, text


def test_a_handler_context_speaks_am_latn(db, settings):
    with session_scope(db) as s:
        identity = get_or_create_identity(s, "sms", "+251911000001")
        ctx = Ctx(session=s, settings=settings, identity=identity, member=None, cluster=None, lang="am-Latn",
                  text="", channel="ussd")
        assert ctx.t("Only a facilitator can do that.").endswith("astebabari bicha new.")
        assert sms.plain(ctx.money(1_050, "ETB")) and sms.plain(ctx.when(MOMENT))


def test_keywords_on_a_romanised_screen_are_latin_words_the_router_reads():
    assert router.keyword("JOIN", "am-Latn") == "TEKELAKEL"  # the keyword file's first Latin spelling
    assert router.keyword("BCAST", "am-Latn") == sms.romanise("ስርጭት", names=False).upper()  # none listed
    for command in ("JOIN", "BCAST", "SAVE"):
        found = router.match(router.keyword(command, "am-Latn") + " 5000")
        assert found and found.command == command and found.lang == "am", command
    assert router.keyword("JOIN", "sw") == "JIUNGE"


def test_romanise_seeds_what_am_latn_lacks_and_never_overwrites(locales):
    assert catalog.romanise_catalogs("am-Latn") == {"demo": 3}
    seeded = (locales / "am_Latn" / "LC_MESSAGES" / "demo.po").read_text(encoding="utf-8")
    assert seeded.startswith(ROMANISED)  # the reviewed entries are left as they were
    assert f"#. {catalog.SEEDED}\nmsgid \"Only in Amharic.\"\nmsgstr \"Beamarnya bicha new.\"" in seeded
    assert 'msgstr "Lememezgeb TEKELAKEL yilaku; weyim ERDATA."' in seeded  # keywords the English shows
    assert 'msgstr[1] "{count} qenat"' in seeded
    assert catalog.romanise_catalogs("am-Latn") == {}
    clear()
    assert i18n.translate("am-Latn", "Send JOIN to register, or HELP.") == "Lememezgeb TEKELAKEL yilaku; weyim ERDATA."
