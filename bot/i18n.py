"""Translations and locale-aware formatting.

Each language's catalog is the union of the `.po` files in `bot/locales/<lang>/LC_MESSAGES/` (one file per
domain, so domains grow without touching each other's catalog), compiled with Babel once per process.
"""

from __future__ import annotations

import copy
import gettext
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, get_currency_precision

from bot import sms

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("en", "sw", "fr", "am")
LANGUAGE_NAMES = {"en": "English", "sw": "Kiswahili", "fr": "Français", "am": "አማርኛ"}
# Where a member's language is shown on a screen that cannot carry its script (USSD: plain GSM-7 only),
# the rendering language it is shown in. Not a member's language: a member keeps "am"; the screen asks
# screen_language() and renders in "am-Latn", romanised Amharic from its own catalog (bot/locales/am_Latn).
SCREEN_LANGUAGE = {"am": "am-Latn"}
SCREEN_BASE = {screen: lang for lang, screen in SCREEN_LANGUAGE.items()}


def screen_language(lang: str) -> str:
    """The language a member's screen is rendered in: romanised Amharic for Amharic, else their own."""
    return SCREEN_LANGUAGE.get(lang, lang)


def base_language(lang: str) -> str:
    """The member language a rendering language is worded from (am-Latn: am), for locales and plurals."""
    return SCREEN_BASE.get(lang, lang)


def known(lang: str) -> bool:
    return lang in LANGUAGES or lang in SCREEN_BASE


def catalog_dir(lang: str) -> Path:
    """bot/locales/<lang>/LC_MESSAGES, with gettext's spelling of a script variant (am-Latn: am_Latn)."""
    return LOCALES_DIR / lang.replace("-", "_") / "LC_MESSAGES"


def N_(msgid: str) -> str:
    """Marks a message kept in a table (a question, a choice label) for extraction; translated when used."""
    return msgid


@dataclass(frozen=True)
class Plural:
    """A counted message: its English singular and plural; `{count}` is the number that picks the form.

    Each language has as many forms as its plural rule needs (French three, Swahili and Amharic two, with
    Amharic's singular covering 0 and 1), chosen by gettext's ngettext from the catalog's Plural-Forms.
    A sentence that counts two things words each count as its own Plural and puts them in the sentence.
    """

    singular: str
    plural: str

    def english(self, count: int) -> str:
        return self.singular if count == 1 else self.plural


def NP_(singular: str, plural: str) -> Plural:
    """Marks a counted message for extraction (both forms); pass it wherever a msgid goes, with count=."""
    return Plural(singular, plural)


def catalog_files(lang: str) -> list[Path]:
    return sorted(catalog_dir(lang).glob("*.po"))


@cache
def merged_catalog(lang: str) -> Catalog:
    """Every domain's translations in one catalog; an untranslated or fuzzy entry falls back to English.

    A rendering language (am-Latn) has its base language's plural rule, and an entry its own catalogs
    lack falls back to the base language's translation romanised, then to English.
    """
    base = base_language(lang)
    merged = Catalog(locale=base)
    for path in catalog_files(lang):
        with path.open("rb") as fh:
            for message in read_po(fh, locale=base):
                if message.id and complete(message.string) and not message.fuzzy and message.id not in merged:
                    merged.add(message.id, message.string)
    if base != lang:
        for message in merged_catalog(base):
            if message.id and message.id not in merged:
                merged.add(message.id, romanised(message.string))
    return merged


def romanised(string: str | tuple[str, ...]) -> str | tuple[str, ...]:
    """A translation (each plural form) in Latin letters, as sentences (sms.romanise with names=False)."""
    if isinstance(string, tuple):
        return tuple(sms.romanise(form, names=False) for form in string)
    return sms.romanise(string, names=False)


def complete(string: str | tuple[str, ...]) -> bool:
    """A translation with text in every form (a plural entry has one string per form)."""
    return all(string) if isinstance(string, tuple) else bool(string)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    if not known(lang) or lang == "en" and not catalog_files(lang):
        return gettext.NullTranslations()
    buf = io.BytesIO()
    write_mo(buf, merged_catalog(lang))
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@cache
def domain_translations(domain: str, lang: str) -> gettext.NullTranslations:
    """One domain's catalog on its own, for a surface with words of its own (the dashboard's pages): its
    plural rule is the one in the `.po` header, and an untranslated, partly translated or fuzzy entry falls
    back to English as in the merged catalogs."""
    path = catalog_dir(lang) / f"{domain}.po"
    if not known(lang) or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=base_language(lang))
    for message in list(catalog):
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and (message.fuzzy or not all(forms)):
            del catalog[message.id]
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def gettext_for(lang: str, msgid: str) -> str:
    return translations(lang if known(lang) else "en").gettext(msgid)


@dataclass(frozen=True)
class Money:
    """An amount to be worded in the reader's locale: integer minor units and an ISO currency."""

    minor: int
    currency: str


def ngettext_for(lang: str, msgid: Plural, count: int) -> str:
    return translations(lang if known(lang) else "en").ngettext(msgid.singular, msgid.plural, count)


def translate(lang: str, msgid: str | Plural, /, *, region: str = "", tz: str = "UTC", **kwargs) -> str:
    """The message in `lang`, its `{placeholders}` filled in; Money and datetimes in the reader's locale.

    A translation whose placeholders do not match the msgid's (a catalog typo) falls back to the English
    text rather than failing the whole reply; the catalog test catches such typos before they ship.

    In a rendering language for plain screens (am-Latn) every value in Ethiopic (a member's name) is
    spelt in Latin letters as a name, and the whole text comes out in the GSM-7 basic set alone.
    """
    if lang in SCREEN_BASE:
        return sms.to_plain(_translate(lang, msgid, region, tz, {
            key: sms.romanise(value) if isinstance(value, str) and _ethiopic(value) else value
            for key, value in kwargs.items()}))
    return _translate(lang, msgid, region, tz, kwargs)


def _ethiopic(text: str) -> bool:
    return any("\u1200" <= ch <= "\u139f" for ch in text)


def _translate(lang: str, msgid: str | Plural, region: str, tz: str, kwargs: dict) -> str:
    if isinstance(msgid, Plural):
        count = int(kwargs["count"])
        text, english = ngettext_for(lang, msgid, count), msgid.english(count)
    else:
        text, english = gettext_for(lang, msgid), msgid
    if not kwargs:
        return text
    values = {}
    for key, value in kwargs.items():
        if isinstance(value, Money):
            value = format_money(value.minor, value.currency, lang, region)
        elif isinstance(value, datetime):
            value = format_when(value, lang, tz, region)
        values[key] = value
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        log.error("translation of %r in %s does not match its placeholders", english, lang)
        return english.format(**values)


@cache
def babel_locale(lang: str, region: str = "") -> Locale:
    """The most specific Babel locale for a language in a cluster's country (sw_TZ, fr_SN, am_ET...)."""
    lang = base_language(lang)
    for ident in (f"{lang}_{region.upper()}" if region else "", lang, "en"):
        if not ident:
            continue
        try:
            return Locale.parse(ident)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def minor_digits(currency: str) -> int:
    return get_currency_precision(currency.upper())


def screen_text(text: str, lang: str) -> str:
    """A formatted value as a rendering language shows it: for am-Latn worded as in Amharic, then romanised
    with each word capitalised, as the names of days and months and the currency are (Makese, Disem, Bir)."""
    return sms.to_plain(sms.romanise(text)) if lang in SCREEN_BASE else text


def format_number(value, lang: str, region: str = "") -> str:
    return screen_text(format_decimal(value, locale=babel_locale(lang, region)), lang)


def format_money(minor: int, currency: str, lang: str, region: str = "") -> str:
    """Money from integer minor units; whole amounts drop the decimals (TSh 5,000, not TSh 5,000.00)."""
    locale = babel_locale(lang, region)
    digits = minor_digits(currency)
    value = Decimal(minor).scaleb(-digits)
    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (0, 0) if minor % (10 ** digits) == 0 else (digits, digits)
    return screen_text(pattern.apply(value, locale, currency=currency.upper(), currency_digits=False), lang)


def local_time(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def format_when(moment: datetime, lang: str, tz: str, region: str = "") -> str:
    """A short local date and time, e.g. 'Tue 3 Dec 14:00' in the member's language."""
    loc = babel_locale(lang, region)
    local = local_time(moment, tz)
    return screen_text(f"{format_date(local, 'EEE d MMM', locale=loc)} {format_time(local, 'HH:mm', locale=loc)}", lang)


def format_day(day: date | datetime, lang: str, region: str = "") -> str:
    return screen_text(format_date(day, "d MMM yyyy", locale=babel_locale(lang, region)), lang)


def format_timestamp(moment: datetime, lang: str, tz: str, region: str = "") -> str:
    return screen_text(format_datetime(local_time(moment, tz), "d MMM HH:mm", locale=babel_locale(lang, region)),
                       lang)
