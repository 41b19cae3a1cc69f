"""What people type, read one way everywhere: amounts, quantities, dates and times, phones, members, ids.

Every reader is a pure function of the text (and, for dates, the cluster's timezone and the present). A
reader returns the value or raises ParseError, whose `code` says why and whose `msgid` is the reply that
says what was expected (one SMS segment in every language). Handlers, flows, the CLI and the dashboard all
read through here, so `14/03 17:00` or `20 000` mean the same thing wherever they are typed.

Only ASCII digits are read as figures: other scripts' digits are refused (code "invalid"), never
half-read or crashed on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, get_currency_symbol

from bot.i18n import LANGUAGES, N_, babel_locale
from storage import currency as currency_rules
from storage.members import normalise_phone

MAX_MINOR = 10**15  # far above any cluster's money, far below a 64-bit database integer
QTY_SCALE = 1000  # quantities are kept in thousandths of a unit, as purchases store them

# The most one message may carry when a cluster has configured no ceiling of its own, in whole units:
# about USD 40,000 of each currency, a large but real SACCOS loan or purchase. Other currencies get
# FALLBACK_CEILING whole units.
DEFAULT_CEILING = {
    "TZS": 100_000_000, "KES": 5_000_000, "UGX": 150_000_000, "RWF": 50_000_000, "BIF": 100_000_000,
    "XOF": 25_000_000, "XAF": 25_000_000, "ETB": 5_000_000, "USD": 50_000, "EUR": 50_000,
}
FALLBACK_CEILING = 1_000_000_000


class ParseError(ValueError):
    """Text that is not what was asked for: `kind` of value, `code` why, `detail` for the reply's placeholders.

    `msgid` is the reply from MESSAGES; its placeholders are filled from `detail` (for "too_large",
    `limit` in minor units: word it as Money) and the currency.
    """

    def __init__(self, code: str, kind: str = "value", **detail):
        super().__init__(code)
        self.code = code
        self.kind = kind
        self.detail = detail

    @property
    def msgid(self) -> str:
        return message_for(self.kind, self.code)


PLEASE_AMOUNT = N_("Please write the amount in figures, for example 5000 or 5,000.")
MORE_THAN_ZERO = N_("The amount must be more than zero.")
PLEASE_QUANTITY = N_("Please send the quantity in figures, for example 3 or 2.5.")
PLEASE_MOMENT = N_("Please send a date and a time, for example 14/03 17:00 or 14 March 5pm.")
PLEASE_DAY = N_("Please send a date, for example 14/03 or 14 March 2027.")
PLEASE_MEMBER = N_("Send the member's number, for example MOSHI-004 or 4, or their phone number.")
PLEASE_NUMBER = N_("Please send the number in figures, for example 12.")

# (kind, code) -> msgid; (kind, None) is the kind's fallback, ("value", None) the last resort.
MESSAGES: dict[tuple[str, str | None], str] = {
    ("amount", None): PLEASE_AMOUNT,
    ("amount", "empty"): PLEASE_AMOUNT,
    ("amount", "invalid"): PLEASE_AMOUNT,
    ("amount", "negative"): MORE_THAN_ZERO,
    ("amount", "zero"): MORE_THAN_ZERO,
    ("amount", "decimals"): N_("Too many decimals for {currency}. Write the amount like 5000 or 5,000."),
    ("amount", "ambiguous"): N_("That amount can be read two ways. Write it in full, for example 100 or 1,000."),
    ("amount", "currency"): N_("Amounts here are in {currency}. Write the amount like 5000 or 5,000."),
    ("amount", "too_large"): N_("That is more than {limit}, the most one message may carry."),
    ("months", None): N_("Add the number of months, for example 300000 6 or 300000 months 6."),
    ("quantity", None): PLEASE_QUANTITY,
    ("quantity", "whole"): N_("Please send a whole number, for example 3."),
    ("quantity", "decimals"): N_("Please send the quantity with at most 3 decimals, for example 2.5."),
    ("quantity", "negative"): N_("The quantity must be more than zero."),
    ("quantity", "too_large"): N_("That quantity is too large. Please check it and send it again."),
    ("moment", None): PLEASE_MOMENT,
    ("moment", "no_time"): N_("Please add the time, for example 14/03 17:00."),
    ("moment", "past"): N_("That time is already past. Send a date and time to come, e.g. 12/12 14:00"),
    ("moment", "no_such_day"): N_("There is no such day. Send a date like 14/03 or 14 March."),
    ("moment", "weekday"): N_("That date falls on another day of the week. Please check it, e.g. 14/03 17:00."),
    ("moment", "ambiguous_time"): N_("Which hour? Write it like 17:00, 5pm or saa 11 jioni."),
    ("moment", "bad_end"): N_("The end must be after the start, e.g. 12/12 14:00-17:00"),
    ("day", None): PLEASE_DAY,
    ("day", "past"): N_("That day is already past. Send a date to come, for example 14/03."),
    ("day", "no_such_day"): N_("There is no such day. Send a date like 14/03 or 14 March."),
    ("day", "weekday"): N_("That date falls on another day of the week. Please check it, e.g. 14/03 17:00."),
    ("phone", None): N_("That is not a phone number. Send it like 0712 345 678 or +255 712 345 678."),
    ("member", None): PLEASE_MEMBER,
    ("ident", None): PLEASE_NUMBER,
    ("value", None): PLEASE_NUMBER,
}


def message_for(kind: str, code: str) -> str:
    """The msgid that answers a refusal of `kind` with `code`."""
    return MESSAGES.get((kind, code)) or MESSAGES.get((kind, None)) or MESSAGES[("value", None)]


# ---------------------------------------------------------------- words

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u1361": " ",
                         "\u1363": " ", "\t": " ", "\n": " ", "\r": " ", "\u2212": "-", "\u2013": "-",
                         "\u2014": "-", "\u2019": "'", "\u2018": "'", "\u200b": ""})


def clean(text: str | None) -> str:
    """One plain space between words (no-break, narrow, thin spaces and the Ethiopic word space count)."""
    return " ".join((text or "").translate(_SPACES).split())


def fold(text: str) -> str:
    """Lower case without accents, for comparing words: 'Déc.' and 'dec.' are the same. Digits of other
    forms (², ５, ١) stay as they are, so no reader takes them for figures."""
    out = []
    for ch in clean(text).casefold():
        if ch.isdigit() and not ch.isascii():
            out.append(ch)
        else:
            out.extend(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return "".join(out)


def words(text: str | None) -> list[str]:
    """The words of a message's arguments, split the way every command splits them."""
    return clean(text).split()


def first_word(text: str | None) -> tuple[str, str]:
    """The first word and the rest (as typed, spaces tidied): the command's object and what follows."""
    parts = clean(text).split(" ", 1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def ident(text: str | None) -> int:
    """A record number as members write it (12, #12, no. 12); codes: empty, invalid, too_large, zero."""
    raw = fold(text)
    raw = re.sub(r"^(?:no\.?|n°|nr\.?|namba|number|numero)\s*", "", raw).lstrip("#").strip()
    if not raw:
        raise ParseError("empty", "ident")
    if not re.fullmatch(r"[0-9]+", raw):
        raise ParseError("invalid", "ident")
    if len(raw) > 9:
        raise ParseError("too_large", "ident")
    if int(raw) == 0:
        raise ParseError("zero", "ident")
    return int(raw)


def ident_and_rest(text: str | None) -> tuple[int, str]:
    """The record number that opens the text (PAID 3 45000 QK7) and the rest, for the next reader."""
    first, rest = first_word(text)
    return ident(first), rest


# ---------------------------------------------------------------- money

_SHILLINGS = frozenset({"TZS", "KES", "UGX", "SOS"})
_FRANCS = frozenset({"XOF", "XAF", "RWF", "BIF", "CDF", "GNF", "KMF", "DJF", "CHF"})
_ANY = frozenset()  # a mark like /= that goes with every currency
_WORDS: dict[str, frozenset[str]] = {
    "tsh": frozenset({"TZS"}), "tshs": frozenset({"TZS"}), "ksh": frozenset({"KES"}), "kshs": frozenset({"KES"}),
    "ush": frozenset({"UGX"}), "ushs": frozenset({"UGX"}), "fcfa": frozenset({"XOF", "XAF"}),
    "cfa": frozenset({"XOF", "XAF"}), "f cfa": frozenset({"XOF", "XAF"}), "frw": frozenset({"RWF"}),
    "rwf": frozenset({"RWF"}), "fbu": frozenset({"BIF"}), "br": frozenset({"ETB"}), "birr": frozenset({"ETB"}),
    "ብር": frozenset({"ETB"}), "us$": frozenset({"USD"}), "$us": frozenset({"USD"}), "$": frozenset({"USD"}),
    "usd": frozenset({"USD"}), "€": frozenset({"EUR"}), "sh": _SHILLINGS, "shs": _SHILLINGS,
    "shilingi": _SHILLINGS, "shilling": _SHILLINGS, "shillings": _SHILLINGS, "f": _FRANCS, "fr": _FRANCS,
    "franc": _FRANCS, "francs": _FRANCS, "/=": _ANY, "/-": _ANY, "=/": _ANY,
}
# ISO codes read as currency words; a cluster's own code always is, whatever it is.
CURRENCIES = ("TZS", "KES", "UGX", "RWF", "BIF", "XOF", "XAF", "ETB", "USD", "EUR", "GBP", "CDF", "SOS",
              "SSP", "ZMW", "MWK", "MZN", "NGN", "GHS", "ZAR")
_REGIONS = ("", "TZ", "KE", "UG", "RW", "BI", "SN", "CI", "ML", "BF", "NE", "TG", "BJ", "CM", "CD", "ET",
            "GH", "NG", "US", "GB")


@cache
def _locales() -> tuple[Locale, ...]:
    found = []
    for lang in LANGUAGES:
        for region in _REGIONS:
            try:
                found.append(Locale.parse(f"{lang}_{region}" if region else lang))
            except (UnknownLocaleError, ValueError):
                continue
    return tuple(found)


@cache
def currency_words() -> dict[str, frozenset[str]]:
    """{folded word: the currencies it may name}: ISO codes, the symbols Babel writes in every language the
    bot speaks (TSh, Ksh, F CFA, ብር, $US...) and the words people use (shilingi, birr, /=)."""
    table: dict[str, set[str]] = {word: set(currencies) for word, currencies in _WORDS.items()}
    for code in CURRENCIES:
        table.setdefault(code.casefold(), set()).add(code)
        for locale in _locales():
            table.setdefault(fold(get_currency_symbol(code, locale=locale)), set()).add(code)
    return {word: frozenset(currencies) for word, currencies in table.items()}


@cache
def _affix(extra: str) -> re.Pattern:
    names = set(currency_words()) | {extra.casefold()}
    alternatives = "|".join(re.escape(n).replace(r"\ ", " ?") for n in sorted(names, key=len, reverse=True))
    letter = r"[^\W\d_]"  # a word such as "f" or "sh" is never the start or end of another word
    return re.compile(rf"^(?P<pre>{alternatives})(?!{letter})\.?\s*|(?<!{letter})\s*(?P<post>{alternatives})\.?$",
                      re.IGNORECASE)


def whole_units(currency: str) -> bool:
    """Whether the currency is paid in whole units only (TZS, UGX, XOF...): CLDR gives it no cash decimals."""
    return currency_rules.whole_units(currency)


def default_ceiling_minor(currency: str) -> int:
    """The most one amount may be, in minor units, when the cluster configured no ceiling."""
    code = currency.upper()
    return DEFAULT_CEILING.get(code, FALLBACK_CEILING) * 10 ** get_currency_precision(code)


def _strip_currency(text: str, currency: str) -> tuple[str, bool]:
    """The text without currency words before or after it, and whether one of them names another currency."""
    table = currency_words()
    own = currency.upper()
    pattern = _affix(currency)
    other = False
    while found := pattern.search(text):
        word = fold(found["pre"] or found["post"] or "")
        options = table.get(word, frozenset({own}))
        other = other or bool(options) and own not in options
        text = (text[found.end():] if found["pre"] else text[:found.start()]).strip()
    return text, other


@dataclass(frozen=True)
class _Figures:
    value: Decimal
    fraction: str  # the digits after the decimal mark, as written ("" when none)
    grouped: bool  # thousands were separated (5,000 or 5 000)


_NUMBER = re.compile(r"[0-9]+(?:[ .,'][0-9]+)*", re.ASCII)


def _figures(body: str, kind: str, decimal_mark: str | None = None) -> _Figures:
    """Digits with separators: a space, ' or a `,`/`.` before exactly three digits groups thousands; a
    last `,` or `.` before one or two digits (or three after 0, or when it is `decimal_mark`) is decimal."""
    if not _NUMBER.fullmatch(body) or len(body) > 40:
        raise ParseError("invalid", kind)
    groups = re.split(r"[ .,']", body)
    seps = re.findall(r"[ .,']", body)
    fraction = ""
    if seps and seps[-1] in ".,":
        last = groups[-1]
        mixed = len(seps) > 1 and seps[-1] != seps[0]
        if len(last) != 3 or mixed or (len(seps) == 1 and groups[0] == "0") or seps[-1] == decimal_mark:
            fraction = groups.pop()
            seps.pop()
    if len(set(seps)) > 1 or len(groups[0]) > 3 and seps or any(len(g) != 3 for g in groups[1:]):
        raise ParseError("invalid", kind)
    digits = "".join(groups)
    if len(digits.lstrip("0")) > 18:
        raise ParseError("too_large", kind)
    return _Figures(Decimal(digits + ("." + fraction if fraction else "")), fraction, bool(seps))


_MULTIPLIERS = {"k": 1_000, "m": 1_000_000}


def amount(text: str | None, currency: str, *, ceiling_minor: int | None = None, allow_zero: bool = False) -> int:
    """Integer minor units of `currency` from an amount as people write it.

    Read: 5000, 5,000, 5.000, 5 000 (any space, no-break or narrow), 1.234.567, 12,345.50 (cents currencies),
    5k, 1.5k, 2m, 5000/=, 5000/-, TSh 5,000, 5 000 FCFA, Br 300.5, and whatever format_money writes.
    Codes: empty, invalid, negative, zero, decimals (cents where the currency has none in use, or more
    decimals than it has), ambiguous (1,00 or 500.00 in a whole-unit currency: a typo of 1,000?),
    currency (another currency named), too_large (over `ceiling_minor`, by default default_ceiling_minor;
    detail `limit`). MAX_MINOR is never exceeded, whatever the ceiling.
    """
    raw = clean(text)
    if not raw:
        raise ParseError("empty", "amount")
    body, other = _strip_currency(raw, currency)
    if other:
        raise ParseError("currency", "amount", currency=currency.upper())
    if body.startswith("-"):
        raise ParseError("negative", "amount")
    multiplier = 1
    if len(body) > 1 and body[-1].lower() in _MULTIPLIERS and body[-2].isdigit():
        multiplier, body = _MULTIPLIERS[body[-1].lower()], body[:-1]
    figures = _figures(body, "amount")
    value = figures.value * multiplier
    digits = get_currency_precision(currency.upper())
    minor = value.scaleb(digits)
    if value == 0:
        if allow_zero and minor == minor.to_integral_value():
            return 0
        raise ParseError("zero", "amount")
    if minor != minor.to_integral_value():
        raise ParseError("decimals", "amount", currency=currency.upper())
    if whole_units(currency) and figures.fraction and multiplier == 1:
        if value != value.to_integral_value():
            raise ParseError("decimals", "amount", currency=currency.upper())
        if not figures.grouped and len(str(int(value))) <= 3:
            raise ParseError("ambiguous", "amount", currency=currency.upper())
    elif whole_units(currency) and value != value.to_integral_value():
        raise ParseError("decimals", "amount", currency=currency.upper())
    result = int(minor)
    limit = min(MAX_MINOR, default_ceiling_minor(currency) if ceiling_minor is None else ceiling_minor)
    if result > limit:
        raise ParseError("too_large", "amount", limit=limit, currency=currency.upper())
    return result


_REFERENCE_WORDS = frozenset({"ref", "ref.", "ref:", "reference", "reference:", "kumb", "kumb.", "kumbukumbu",
                              "ማጣቀሻ", "#", ":", "-"})


def reference(text: str | None) -> str:
    """A payment reference as typed, without a leading 'ref', 'réf:', 'kumb'... word."""
    tokens = words(text)
    while tokens and fold(tokens[0]) in _REFERENCE_WORDS:
        tokens.pop(0)
    return " ".join(tokens)


def amount_and_reference(text: str | None, currency: str, *, ceiling_minor: int | None = None) -> tuple[int, str]:
    """The amount that opens the text and the reference after it ("" when none).

    The amount is the longest run of words that reads as one (`20 000 OM55` is 20000 and OM55, `5000 /= QK7`
    is 5000 and QK7); three figures after a space continue it (`5 000 123` is 5000123), so a reference
    of bare figures goes after a word (`5 000 ref 123`). A leading 'ref' word is dropped from the reference.
    The longest run that is an amount at all decides, right or wrong: `12,5 X` is refused as "decimals",
    `5000 USD` in a shilling cluster as "currency", never read as 12 or 5000 with a reference.
    """
    tokens = words(text)
    end = _longest(tokens, lambda run: amount(run, currency, ceiling_minor=ceiling_minor), "amount")
    return amount(" ".join(tokens[:end]), currency, ceiling_minor=ceiling_minor), reference(" ".join(tokens[end:]))


def _longest(tokens: list[str], read, kind: str, limit: int = 8) -> int:
    """How many leading words the longest run that `read` takes for its kind of value (right or wrong) has;
    raises that run's refusal when it is wrong, "invalid" when no run is of the kind at all."""
    if not tokens:
        raise ParseError("empty", kind)
    for end in range(min(len(tokens), limit), 0, -1):
        try:
            read(" ".join(tokens[:end]))
        except ParseError as exc:
            if exc.code == "invalid":
                continue
            raise
        return end
    raise ParseError("invalid", kind)


MONTH_WORDS = frozenset({"month", "months", "mwezi", "miezi", "mois", "ወር", "ወራት", "mo"})
_FILLERS = frozenset({"for", "over", "in", "kwa", "ya", "za", "pour", "sur", "en", "de", "ለ"})


def months(text: str | None) -> int:
    """A count of months: 6, 6 months, miezi 6, mois 6, 6 ወር. Code "invalid" (kind months) otherwise."""
    tokens = [t for t in _split_glued(words(text)) if fold(t) not in MONTH_WORDS | _FILLERS]
    if len(tokens) != 1 or not re.fullmatch(r"[0-9]{1,3}", tokens[0]) or int(tokens[0]) == 0:
        raise ParseError("invalid", "months")
    return int(tokens[0])


def amount_and_months(text: str | None, currency: str, *, ceiling_minor: int | None = None) -> tuple[int, int]:
    """A loan's amount and its months, in the orders people use: 100000 6, 100000 miezi 6, 100 000 mois 6,
    100000 for 6 months, 6 months 100000, miezi 6 TSh 500. The months are the last figures (so `100 000 6` is
    100000 over 6 months), or the figures beside a month word that opens the text when the last figures
    are not the months (`miezi 6 TSh 500`: TSh 500 over 6 months). Amount codes as `amount`; months missing
    or not a count: "invalid" of kind months."""
    tokens = _split_glued(words(text))
    while tokens and fold(tokens[-1]) in MONTH_WORDS:
        tokens.pop()
    count = re.compile(r"[0-9]{1,3}", re.ASCII)
    months_first = len(tokens) >= 3 and (fold(tokens[1]) in MONTH_WORDS and count.fullmatch(tokens[0])
                                         or fold(tokens[0]) in MONTH_WORDS and count.fullmatch(tokens[1]))
    if months_first and not count.fullmatch(tokens[-1]):
        return _months_first(tokens, currency, ceiling_minor)
    if len(tokens) < 2:
        raise ParseError("invalid", "months") if tokens else ParseError("empty", "amount")
    rest = tokens[:-1]
    while rest and fold(rest[-1]) in MONTH_WORDS | _FILLERS:
        rest.pop()
    try:
        return amount(" ".join(rest), currency, ceiling_minor=ceiling_minor), months(tokens[-1])
    except ParseError:
        if not months_first:
            raise
        return _months_first(tokens, currency, ceiling_minor)  # miezi 6 TSh 500: the figures after the word


def _months_first(tokens: list[str], currency: str, ceiling_minor: int | None) -> tuple[int, int]:
    return amount(" ".join(tokens[2:]), currency, ceiling_minor=ceiling_minor), months(" ".join(tokens[:2]))


def _split_glued(tokens: list[str]) -> list[str]:
    """'6months', 'miezi6' and '12,5kg' as two words each: figures and letters apart."""
    out = []
    for token in tokens:
        found = re.fullmatch(r"([0-9][0-9.,/]*)([^\W\d_].*)", token) or re.fullmatch(r"([^\W\d_]+)([0-9].*)", token)
        out.extend(found.groups() if found and found[2].lower() not in _MULTIPLIERS else [token])
    return out


# ---------------------------------------------------------------- quantities

_VULGAR = {"½": Fraction(1, 2), "¼": Fraction(1, 4), "¾": Fraction(3, 4)}


def _decimal_mark(lang: str | None, region: str) -> str | None:
    return babel_locale(lang, region).number_symbols["latn"]["decimal"] if lang else None


def quantity(text: str | None, *, whole: bool = False, lang: str | None = None, region: str = "",
             allow_zero: bool = True) -> int:
    """A quantity in thousandths of a unit: 3, 2.5, 2,5, 1 000, 1,000, 0.125, 2 1/2, 2½, 3/4.

    A `,` or `.` before exactly three figures groups thousands (1,000 is a thousand) unless the number
    starts with 0 (0.125) or, given the reader's `lang` (and the cluster's `region`), it is the decimal
    mark the bot writes for them, so what it writes reads back (en 1.125, fr 1,125 are one and an eighth). Codes: empty, invalid,
    negative, zero (unless allow_zero), whole (parts where `whole`), decimals (finer than a thousandth),
    too_large (a billion units or more).
    """
    raw = clean(text).replace(" / ", "/")
    if not raw:
        raise ParseError("empty", "quantity")
    if raw.startswith("-"):
        raise ParseError("negative", "quantity")
    value = _quantity_value(raw, _decimal_mark(lang, region))
    if value >= 10**9:
        raise ParseError("too_large", "quantity")
    if whole and value != int(value):
        raise ParseError("whole", "quantity")
    scaled = value * QTY_SCALE
    if scaled.denominator != 1:
        raise ParseError("decimals", "quantity")
    if scaled == 0 and not allow_zero:
        raise ParseError("zero", "quantity")
    return int(scaled)


def _quantity_value(raw: str, decimal_mark: str | None) -> Fraction:
    for symbol, part in _VULGAR.items():
        if raw.endswith(symbol):
            head = raw[: -len(symbol)].strip()
            return (_quantity_value(head, decimal_mark) if head else Fraction(0)) + part
    if found := re.fullmatch(r"(?:([0-9]{1,9}) )?([0-9]{1,3})/([0-9]{1,3})", raw, re.ASCII):
        whole, top, bottom = found.groups()
        if int(bottom) == 0 or int(top) >= int(bottom) and whole:
            raise ParseError("invalid", "quantity")
        return int(whole or 0) + Fraction(int(top), int(bottom))
    return Fraction(_figures(raw, "quantity", decimal_mark).value)


def quantity_and_unit(text: str | None, *, whole: bool = False, lang: str | None = None,
                      region: str = "") -> tuple[int, str]:
    """The quantity that opens the text and the words after it (the unit, as typed): `12,5 kg` and
    `12,5kg` give (12500, "kg"), `2 12,5 kg` gives (2000, "12,5 kg"); the handler checks the unit."""
    tokens = _split_glued(words(text))
    end = _longest(tokens, lambda run: quantity(run, whole=whole, lang=lang, region=region), "quantity", limit=6)
    return quantity(" ".join(tokens[:end]), whole=whole, lang=lang, region=region), " ".join(tokens[end:])


# ---------------------------------------------------------------- dates and times

# Spellings people use beside Babel's names (folded): English Sept, French without accents, Amharic
# weekdays written with the other letters of the same sound.
_EXTRA_MONTHS = {"en": {"sept": 9}, "fr": {"fev": 2, "fevr": 2, "aout": 8, "juil": 7, "janv": 1, "avr": 4, "dec": 12}}
_EXTRA_DAYS = {"en": {"tues": 1, "thur": 3, "thurs": 3, "weds": 2},
               "am": {"እሁድ": 6, "ሀሙስ": 3, "ሃሙስ": 3, "አርብ": 4, "ዐርብ": 4, "ማክሰኞ": 1}}
_RELATIVE = {"today": 0, "tonight": 0, "tomorrow": 1, "leo": 0, "kesho": 1, "keshokutwa": 2,
             "aujourd'hui": 0, "auj": 0, "demain": 1, "apres-demain": 2, "ዛሬ": 0, "ነገ": 1}
_PHRASES = (("kesho kutwa", "keshokutwa"), ("apres demain", "apres-demain"), ("aujourd hui", "aujourd'hui"),
            ("day after tomorrow", "in2days"), ("ከነገ ወዲያ", "in2days"))
_MOMENT_FILLERS = frozenset({"at", "on", "the", "a", "le", "la", "de", "du", "tarehe", "siku", "ya", "kuanzia",
                             "from", "by", "ifikapo", "ቀን", "በ", "ከ", "ሰዓት", "ሰአት", "በኋላ"})
_HOUR_WORDS = frozenset({"saa", "ሰዓት", "ሰአት"})
# Swahili and Ethiopian hours count from six in the morning: saa 1 asubuhi is 7:00, saa 11 jioni 17:00.
# Each period word says which half of the day the hour falls in: (first, last) 24-hour clock hours.
_PERIODS = {
    "alfajiri": (3, 6), "asubuhi": (5, 12), "mchana": (11, 16), "jioni": (15, 19), "usiku": (19, 5),
    "ጠዋት": (5, 12), "ከጠዋቱ": (5, 12), "ማለዳ": (3, 8), "ከሰዓት": (11, 17), "ከሰአት": (11, 17), "ከቀኑ": (11, 17),
    "ምሽት": (17, 21), "ከምሽቱ": (17, 21), "ማታ": (18, 23), "ከማታው": (18, 23), "ሌሊት": (0, 5), "ከሌሊቱ": (0, 5),
}
_CLOCK = re.compile(r"([0-9]{1,2})(?:[:.h]([0-9]{2}))?(h)?(am|pm|a\.m\.|p\.m\.)?", re.ASCII)
_NUMERIC_DATE = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})(?:[/.-]([0-9]{4}|[0-9]{2}))?", re.ASCII)
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", re.ASCII)
_HOUR_NUMBER = re.compile(r"[0-9]{1,2}(?:[:.][0-9]{2})?", re.ASCII)
_ORDINAL = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th|er|e|eme)?", re.ASCII)
_RANGE = re.compile(r"^(?P<start>.*[0-9](?:[:.h][0-9]{2}|h|am|pm))(?:\s*-\s*|\s+(?:to|until|hadi|mpaka|a|"
                    r"jusqu'a|እስከ)\s+)(?P<end>[^-]+)$")


def _names(lang: str, kind: str) -> dict[str, int]:
    """{folded name: number} of months (1-12) or weekdays (0 = Monday) in a language and its variants."""
    names: dict[str, int] = {}
    for locale in _locales():
        if locale.language != lang:
            continue
        table = locale.months if kind == "months" else locale.days
        for context in ("format", "stand-alone"):
            for width in ("abbreviated", "wide"):
                for number, name in table[context][width].items():
                    names.setdefault(fold(name).strip("."), number)
    return names


@cache
def _name_tables() -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    months_by_lang = {lang: _names(lang, "months") for lang in LANGUAGES}
    days_by_lang = {lang: _names(lang, "days") for lang in LANGUAGES}
    for lang, extra in _EXTRA_MONTHS.items():
        months_by_lang[lang].update(extra)
    for lang, extra in _EXTRA_DAYS.items():
        days_by_lang[lang].update(extra)
    return months_by_lang, days_by_lang


def _lookup(word: str, lang: str | None, kind: str) -> tuple[int, int] | None:
    """(number, rank) of a month or weekday name: the reader's language first (lower rank), then the
    others; a unique prefix of three letters or more of a full name counts after exact names (Septem)."""
    tables = _name_tables()[0 if kind == "months" else 1]
    order = [lang] if lang in tables else []
    order += [other for other in LANGUAGES if other not in order]
    word = word.strip(".")
    for rank, each in enumerate(order):
        if word in tables[each]:
            return tables[each][word], rank
    if len(word) >= 3 and not word[0].isdigit():
        for rank, each in enumerate(order):
            found = {n for name, n in tables[each].items() if name.startswith(word) and len(name) > 4}
            if len(found) == 1:
                return found.pop(), len(order) + rank
    return None


@dataclass
class _When:
    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None
    offset: int | None = None
    clock: tuple[int, int] | None = None

    @property
    def has_date(self) -> bool:
        return self.month is not None or self.offset is not None or self.weekday is not None


def _tokens(text: str) -> list[str]:
    folded = fold(text).replace(",", " ")
    folded = re.sub(r"([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})t(?=[0-9])", r"\1 ", folded)
    folded = re.sub(r"(?<=[0-9]) ?(a\.m\.|p\.m\.|am|pm|h)(?=\s|$|[0-9])", r"\1", folded)
    folded = re.sub(r"(?<=[0-9]h) (?=[0-9]{2}\b)", "", folded)
    for phrase, word in _PHRASES:
        folded = folded.replace(phrase, word)
    return folded.split()


def _clock(token: str) -> tuple[int, int] | None:
    """17:00, 17.00, 17h, 17h30, 5pm, 5:30pm, 12am; None when the token is not written as a time."""
    found = _CLOCK.fullmatch(token)
    if found is None or not (found[2] or found[3] or found[4]):
        return None
    hour, minute, half = int(found[1]), int(found[2] or 0), (found[4] or "").replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            raise ParseError("invalid", "moment")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ParseError("invalid", "moment")
    return hour, minute


def _local_hour(token: str, period: str) -> tuple[int, int]:
    """An hour counted from six in the morning (saa 11 jioni, ከጠዋቱ 3 ሰዓት) on the 24-hour clock."""
    found = re.fullmatch(r"([0-9]{1,2})(?:[:.]([0-9]{2}))?", token, re.ASCII)
    if found is None or not 1 <= int(found[1]) <= 12 or int(found[2] or 0) > 59:
        raise ParseError("invalid", "moment")
    first, last = _PERIODS[period]
    base = (int(found[1]) + 6) % 12
    for hour in (base, base + 12):
        if (first <= hour <= last) if first <= last else (hour >= first or hour <= last):
            return hour, int(found[2] or 0)
    raise ParseError("ambiguous_time", "moment")


def _read(text: str, lang: str | None, kind: str) -> _When:
    """The date and time parts a text names, not yet placed in a year."""
    tokens = [t for t in _tokens(text) if t not in _MOMENT_FILLERS or t in _HOUR_WORDS]
    if not tokens:
        raise ParseError("empty", kind)
    months_named = sum(1 for t in tokens if _lookup(t, lang, "months") and not _lookup(t, lang, "days"))
    number = _HOUR_NUMBER
    when = _When()
    i = 0

    def take_day(token: str) -> None:
        found = _ORDINAL.fullmatch(token)
        if found is None or when.day is not None:
            raise ParseError("invalid", kind)
        when.day = int(found[1])

    while i < len(tokens):
        token, after = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else ""
        i += 1
        if token in _HOUR_WORDS:
            if after in _PERIODS or not after:
                continue
            if _CLOCK.fullmatch(after) and (_clock(after) or int(after.split(":")[0]) > 12):
                continue  # saa 17:00, saa 14: a clock time after all
            if i + 1 < len(tokens) and tokens[i + 1] in _PERIODS:
                continue
            raise ParseError("ambiguous_time", "moment")
        if token in _PERIODS:
            if when.clock is None and number.fullmatch(after):
                when.clock, i = _local_hour(after, token), i + 1
                continue
            if after in _HOUR_WORDS and i + 1 < len(tokens):
                when.clock, i = _local_hour(tokens[i + 1], token), i + 2
                continue
            raise ParseError("invalid", kind)
        if when.clock is None and number.fullmatch(token) and after in _PERIODS:
            when.clock, i = _local_hour(token, after), i + 1
            continue
        if when.clock is None and number.fullmatch(token) and after in _HOUR_WORDS:  # 3 ሰዓት ጠዋት, 14 ሰዓት
            period = tokens[i + 1] if i + 1 < len(tokens) else ""
            if period in _PERIODS:
                when.clock, i = _local_hour(token, period), i + 2
            elif int(token.split(":")[0].split(".")[0]) > 12:
                when.clock, i = _clock(token.replace(".", ":") if not token.isdigit() else token + ":00"), i + 1
            else:
                raise ParseError("ambiguous_time", "moment")
            continue
        if token == "in2days" or token in _RELATIVE:
            if when.offset is not None:
                raise ParseError("invalid", kind)
            when.offset = 2 if token == "in2days" else _RELATIVE[token]
            continue
        if (found := _ISO_DATE.fullmatch(token)) and when.month is None:
            when.year, when.month, when.day = int(found[1]), int(found[2]), int(found[3])
            continue
        if (found := _NUMERIC_DATE.fullmatch(token)) and when.month is None and (
                "." not in token or 1 <= int(found[2]) <= 12 and when.clock is None):
            when.day, when.month = int(found[1]), int(found[2])
            if found[3]:
                when.year = int(found[3]) + (2000 if len(found[3]) == 2 else 0)
            continue
        month = _lookup(token, lang, "months")
        weekday = _lookup(token, lang, "days")
        if weekday is not None and (month is None or months_named or weekday[1] < month[1]):
            if when.weekday is not None:
                raise ParseError("invalid", kind)
            when.weekday = weekday[0]
            continue
        if month is not None and when.month is None:
            when.month = month[0]
            if _ORDINAL.fullmatch(after) and when.day is None:
                take_day(after)
                i += 1
            elif when.day is None:
                raise ParseError("invalid", kind)
            continue
        if _ORDINAL.fullmatch(token) and (found := _lookup(after, lang, "months")) and when.month is None:
            take_day(token)
            when.month, i = found[0], i + 1
            continue
        if re.fullmatch(r"[0-9]{4}", token) and when.month is not None and when.year is None:
            when.year = int(token)
            continue
        clock = _clock(token)
        if clock is None and token in ("noon", "midi"):
            clock = (12, 0)
        if clock is None and tokens[i - 2:i - 1] and tokens[i - 2] in _HOUR_WORDS and token.isdigit():
            clock = (int(token), 0) if int(token) <= 23 else None
        if clock is None and re.fullmatch(r"[0-9]{1,2}[:.][0-9]{2}", token):
            clock = _clock(token.replace(".", ":"))
        if clock is not None and when.clock is None:
            when.clock = clock
            continue
        raise ParseError("invalid", kind)
    if not when.has_date and when.clock is None:
        raise ParseError("invalid", kind)
    return when


def _dates(when: _When, today: date, kind: str):
    """The candidate dates the parts name, earliest first (one when the date is complete)."""
    if when.month is not None:
        if when.year is not None:
            try:
                yield date(when.year, when.month, when.day)
            except ValueError as exc:
                raise ParseError("no_such_day", kind) from exc
            return
        valid = False
        for year in range(today.year - 8, today.year + 9):
            try:
                found = date(year, when.month, when.day)
            except ValueError:
                continue
            valid = True
            yield found
        if not valid:
            raise ParseError("no_such_day", kind)
        return
    if when.offset is not None:
        yield today + timedelta(days=when.offset)
        return
    start = today - timedelta(days=1)
    for step in range(15):
        candidate = start + timedelta(days=step)
        if when.weekday is None or candidate.weekday() == when.weekday:
            yield candidate


def _check_weekday(when: _When, found: date, kind: str) -> date:
    if when.weekday is not None and found.weekday() != when.weekday:
        raise ParseError("weekday", kind)
    return found


def moment(text: str | None, tz: str, now: datetime, lang: str | None = None, *,
           default_time: time | None = None) -> datetime:
    """An aware UTC datetime from a date and time read in the cluster's timezone.

    Dates: 14/03, 14-03-2027, 14.03.27, 2027-03-14, 14 March, March 14th, 14 mars, 14 Machi, 14 ማርች,
    weekdays (Monday, Jumatatu, lundi, ሰኞ), today/tomorrow (leo/kesho, aujourd'hui/demain, ዛሬ/ነገ) and
    what format_when and format_day write (`Thu 3 Sept 14:05`, `3 déc. 2026`). Times: 17:00, 17.00, 17h,
    17h30, 5pm, 5:30 pm, noon, and hours counted from six o'clock with a period word (saa 11 jioni,
    ከጠዋቱ 3 ሰዓት). Day before month always. A date without a year is the next such moment (today counts
    while its time is ahead), unless this year's went by less than JUST_GONE ago: that is refused as past
    (a slip), not taken as next year's; a time alone is today's, or tomorrow's once passed; a weekday is the next
    one. A date alone takes `default_time`. Codes: empty, invalid, no_time, past, no_such_day (31/02),
    weekday (a weekday that is not that date's), ambiguous_time (`saa 11` without a period word).
    """
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    when = _read(text or "", lang, "moment")
    clock = when.clock
    if clock is None:
        if default_time is None:
            raise ParseError("no_time", "moment")
        clock = (default_time.hour, default_time.minute)
    explicit = when.year is not None or when.offset is not None
    if not when.has_date:
        first = datetime.combine(local_now.date(), time(*clock), zone)
        found = first if first > local_now else first + timedelta(days=1)
        return found.astimezone(UTC)
    candidates = [datetime.combine(d, time(*clock), zone) for d in _dates(when, local_now.date(), "moment")]
    if explicit:
        found = candidates[0]
        _check_weekday(when, found.date(), "moment")
        if found <= local_now:
            raise ParseError("past", "moment")
        return found.astimezone(UTC)
    _refuse_just_gone(when, [c for c in candidates if c <= local_now], local_now, "moment")
    found = next(c for c in candidates if c > local_now)
    _check_weekday(when, found.date(), "moment")
    return found.astimezone(UTC)


# A date without a year that went by less than this long ago is a slip (last week's date typed for this
# week's), not next year's: it is refused as past rather than quietly set a year ahead.
JUST_GONE = timedelta(days=60)


def _refuse_just_gone(when: _When, gone: list, now, kind: str) -> None:
    """Refuse ("past") a date named by day and month that this year's calendar passed within JUST_GONE,
    unless a weekday written with it says next year's is meant (what format_when writes for a moment
    up to a year ahead reads back: the same date falls on another weekday the year before)."""
    if when.month is None or not gone:
        return
    latest = gone[-1]
    last_date = latest.date() if isinstance(latest, datetime) else latest
    today = now.date() if isinstance(now, datetime) else now
    if today - last_date <= JUST_GONE and (when.weekday is None or last_date.weekday() == when.weekday):
        raise ParseError("past", kind)


def span(text: str | None, tz: str, now: datetime, lang: str | None = None, *,
         default_time: time | None = None) -> tuple[datetime, datetime | None]:
    """A start and an optional end: `12/12 14:00-17:30`, `12 Dec 2pm to 5pm`, `14h à 17h`, `saa 3 hadi 5
    mchana` is not read (write the period on both). The end is read on the start's day (or a date of its
    own); codes as `moment`, plus bad_end when it is not after the start."""
    found = _RANGE.match(fold(text or ""))
    if found is None:
        return moment(text, tz, now, lang, default_time=default_time), None
    start = moment(found["start"], tz, now, lang, default_time=default_time)
    end_when = _read(found["end"], lang, "moment")
    local_start = start.astimezone(ZoneInfo(tz))
    if end_when.clock is None:
        raise ParseError("invalid", "moment")
    if end_when.has_date:
        end = moment(found["end"], tz, now, lang)
    else:
        end = datetime.combine(local_start.date(), time(*end_when.clock), ZoneInfo(tz)).astimezone(UTC)
    if end <= start:
        raise ParseError("bad_end", "moment")
    return start, end


def day(text: str | None, tz: str, now: datetime, lang: str | None = None, *, future: bool = True) -> date:
    """A calendar date in the cluster's timezone, written as `moment` reads dates (no time).

    With `future` (the default) a date without a year is the next one (today counts; one that went by
    less than JUST_GONE ago is refused, as by `moment`) and a past date is refused ("past"); without it (a statement's start, an export's range) it is the latest one up to
    today and any date is taken. Codes: empty, invalid, past, no_such_day, weekday.
    """
    today = now.astimezone(ZoneInfo(tz)).date()
    when = _read(text or "", lang, "day")
    if when.clock is not None or not when.has_date:
        raise ParseError("invalid", "day")
    candidates = list(_dates(when, today, "day"))
    if when.year is not None or when.offset is not None:
        found = candidates[0]
        if future and found < today:
            raise ParseError("past", "day")
    elif future:
        _refuse_just_gone(when, [c for c in candidates if c < today], today, "day")
        found = next(c for c in candidates if c >= today)
    elif when.month is None:  # a weekday: the latest one up to today
        found = next(today - timedelta(days=k) for k in range(7) if (today - timedelta(days=k)).weekday() == when.weekday)
    else:
        found = [c for c in candidates if c <= today][-1]
    return _check_weekday(when, found, "day")


# ---------------------------------------------------------------- phones and members


def phone(text: str | None, region: str) -> str | None:
    """The E.164 form of a phone number written any usual way (0712 000 006, +255 712-000-006,
    (0712) 000.006, 255712000006, 00255...), or None when it is not a valid number: storage's one rule."""
    return normalise_phone(clean(text), region)


@dataclass(frozen=True)
class MemberRef:
    """How a member was named: kind "number" (4, #4, 004), "code" (MOSHI-004) or "phone" (E.164).

    `key` is what storage.members.find_member looks up.
    """

    kind: str
    text: str
    number: int | None = None
    code: str | None = None
    phone: str | None = None

    @property
    def key(self) -> str:
        return self.phone or self.code or str(self.number)


_MEMBER_CODE = re.compile(r"([A-Z][A-Z0-9]{0,19})[- ]?([0-9]{1,6})", re.ASCII)


def member_ref(text: str | None, region: str) -> MemberRef:
    """The member the whole text names (`APPROVE 0712 000 006` is one phone number, not 0712).

    Up to six figures are a member number; more, or a leading +, a phone number in the cluster's region.
    Codes (kind member): empty, invalid (a name, a number that is no phone).
    """
    raw = clean(text)
    if not raw:
        raise ParseError("empty", "member")
    bare = raw.lstrip("#").strip()
    if re.fullmatch(r"[0-9]{1,6}", bare, re.ASCII):
        return MemberRef("number", raw, number=int(bare))
    if found := _MEMBER_CODE.fullmatch(bare.upper()):
        return MemberRef("code", raw, number=int(found[2]), code=f"{found[1]}-{found[2]}")
    if found_phone := phone(raw, region):
        return MemberRef("phone", raw, phone=found_phone)
    raise ParseError("invalid", "member")


MEMBER_WORDS = 6  # a phone written in groups: +255 712 000 006 is four words
_PHONE_TEXT = re.compile(r"[0-9+()./ -]+", re.ASCII)


def member_and_rest(text: str | None, region: str) -> tuple[MemberRef, str]:
    """The member named first and the words after it (`VISIT 0712 000 006 talked about loans`, `RECEIVED 2
    MOSHI 004 5000 R1`): the longest run of leading words (up to MEMBER_WORDS) that member_ref reads as
    one member, where a run of several words counts only as a phone number (figures in groups) or a code
    written with a space (MOSHI 004). Codes: empty, invalid (no leading word names a member)."""
    words_ = words(text)
    for end in range(min(len(words_), MEMBER_WORDS), 0, -1):
        joined = " ".join(words_[:end])
        if end > 1 and _PHONE_TEXT.fullmatch(joined) and phone(joined, region) is None:
            continue
        try:
            ref = member_ref(joined, region)
        except ParseError:
            continue
        if end == 1 or ref.kind in ("phone", "code"):
            return ref, " ".join(words_[end:])
    raise ParseError("invalid" if words_ else "empty", "member")


def member_refs(text: str | None, region: str) -> list[MemberRef]:
    """Several members in one text (ATTEND 12 4, MOSHI-007, 0712 000 006): commas separate them, and
    figures split by spaces are joined into one phone number where they make one."""
    found: list[MemberRef] = []
    for chunk in filter(None, (c.strip() for c in re.split(r"[,;]", clean(text)))):
        tokens = chunk.split()
        i = 0
        while i < len(tokens):
            for end in range(len(tokens), i, -1):
                joined = " ".join(tokens[i:end])
                if end - i > 1 and not re.fullmatch(r"[0-9+()./ -]+", joined, re.ASCII):
                    continue
                if end - i > 1 and (len(re.sub(r"[^0-9]", "", joined)) < 7 or phone(joined, region) is None):
                    continue
                found.append(member_ref(joined, region))
                i = end
                break
    if not found:
        raise ParseError("empty", "member")
    return found
