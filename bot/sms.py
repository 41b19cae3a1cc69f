"""GSM-7 normalising and segment counting: an SMS reply must cost one segment (two for Amharic)."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

log = logging.getLogger(__name__)

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# Most texts are plain GSM-7 (no escape characters): spelt as they are, one septet a character. Checking the
# set first (in C) spares the character-by-character walks below, a third of a reply's Python.
_PLAIN = GSM7_BASIC

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67

# Characters outside GSM-7 that have a faithful GSM-7 spelling. Anything not listed falls back to its
# accent-stripped form when that is GSM-7, else the message goes out as UCS-2 unchanged.
_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u200b": "",
    "\u00e7": "c", "\u0153": "oe", "\u0152": "OE", "\t": " ", "\u00b7": ".", "\u2022": "-",
}


@dataclass(frozen=True)
class Encoded:
    text: str
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def normalise(text: str) -> str:
    """Spell text in GSM-7 where it can be done faithfully (é stays, ê→e, curly quotes→straight)."""
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
        elif ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
        else:
            stripped = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            out.append(stripped if stripped and all(c in GSM7_BASIC for c in stripped) else ch)
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _units(ch: str, gsm: bool) -> int:
    if gsm:
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def _segments(sizes: list[int], single: int, multi: int) -> int:
    """Parts of a concatenated SMS: an escape pair or a surrogate pair is never split across two parts."""
    if sum(sizes) <= single:
        return 1
    parts, room = 1, multi
    for size in sizes:
        if size > room:
            parts, room = parts + 1, multi
        room -= size
    return parts


def outgoing(text: str) -> str:
    """The text as it goes out by SMS: its GSM-7 spelling when that makes it GSM-7, else unchanged.

    A text that needs UCS-2 anyway (Amharic, an emoji) gains nothing from respelling, so it keeps its
    accents and its own quotes.
    """
    if _PLAIN.issuperset(text):
        return text
    spelt = normalise(text)
    return spelt if is_gsm7(spelt) else text


def encode(text: str) -> Encoded:
    """Spell the text for SMS, then count segments the way carriers bill them."""
    if _PLAIN.issuperset(text):  # the same answer as below, without the walks
        n = len(text)
        return Encoded(text, "GSM-7", n, 1 if n <= GSM7_SINGLE else -(-n // GSM7_MULTI))
    return _encode_walk(text)


def _encode_walk(text: str) -> Encoded:
    """encode() for any text, a character at a time (tests/test_sms.py holds the short cut to it)."""
    spelt = normalise(text)
    text = spelt if is_gsm7(spelt) else text
    gsm = is_gsm7(text)
    sizes = [_units(ch, gsm) for ch in text]
    if gsm:
        return Encoded(text, "GSM-7", sum(sizes), _segments(sizes, GSM7_SINGLE, GSM7_MULTI))
    return Encoded(text, "UCS-2", sum(sizes), _segments(sizes, UCS2_SINGLE, UCS2_MULTI))


def budget(encoding: str) -> int:
    """Segments a single reply may take: one GSM-7 segment, or two UCS-2 segments (Amharic)."""
    return 1 if encoding == "GSM-7" else 2


def fits(text: str) -> bool:
    enc = encode(text)
    return enc.segments <= budget(enc.encoding)


def truncate(text: str) -> str:
    """Cut a text to the budget on a word boundary with an ellipsis; a last resort, never the plan."""
    if fits(text):
        return text
    words = outgoing(text).split(" ")
    while len(words) > 1:
        words.pop()
        candidate = " ".join(words).rstrip(" ,;:") + "..."
        if fits(candidate):
            return candidate
    return _cut(words[0], "...")


def _cut(word: str, tail: str = "") -> str:
    """The longest start of one word that fits the budget with `tail` after it."""
    low, high = 0, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(word[:middle] + tail):
            low = middle
        else:
            high = middle - 1
    return word[:low] + tail if low else ""


def split(text: str) -> list[str]:
    """Split a long text into parts that each fit the budget, on word boundaries (inside a word too long
    for one part)."""
    parts: list[str] = []
    current = ""
    for word in outgoing(text).split():
        candidate = f"{current} {word}".strip()
        if fits(candidate):
            current = candidate
            continue
        if current:
            parts.append(current)
        while not fits(word):
            head = _cut(word)
            parts.append(head)
            word = word[len(head):]
        current = word
    if current:
        parts.append(current)
    return parts


# ---------------------------------------------------------------- names that fit the budget
# A reply with a person's or an item's name must fit its budget whatever the name's script: the name is
# shortened, never the instruction around it. These placeholders hold names (people, firms, places,
# items, titles, words of the glossary); amounts, ids, dates, references and keywords are never shortened.
NAMES = frozenset({
    "name", "member", "cluster", "business", "sector", "location", "village", "event", "venue", "place",
    "title", "item", "supplier", "unit", "units", "term", "word",
})
ELLIPSIS = ".."
AMHARIC_UNITS = 2 * UCS2_MULTI  # 134: the two UCS-2 segments an Amharic-language member's reply may take


@dataclass(frozen=True)
class Fitted:
    text: str
    fits: bool  # False: the fixed words alone are over the budget (reported, the names left whole)


def within(text: str, *, amharic: bool = False) -> bool:
    """One GSM-7 segment (160); in UCS-2 one segment (70), or 134 units for an Amharic-language member."""
    enc = encode(text)
    if enc.encoding == "GSM-7":
        return enc.units <= GSM7_SINGLE
    return enc.units <= (AMHARIC_UNITS if amharic else UCS2_SINGLE)


def fit(render, values: dict, *, amharic: bool = False) -> Fitted:
    """`render(values)` shortened to its budget by shortening only the name-like values (NAMES).

    For a member who does not read Amharic a name GSM-7 cannot carry (Ethiopic) would turn the whole
    reply into UCS-2, 70 characters: it is first spelt in Latin letters, which keeps it whole in GSM-7.
    Then the longest name loses its last word, or its last letter, and takes "..", until the text fits.
    A text that does not fit with every name cut to one letter is returned unchanged with fits=False.
    """
    text = render(values)
    if within(text, amharic=amharic):
        return Fitted(text, True)
    names = {k: v for k, v in values.items() if k in NAMES and isinstance(v, str) and v.strip()}
    if not names:
        return Fitted(text, False)
    if not amharic:
        names = {k: romanise(v) if romanisable(v) else v for k, v in names.items()}
        candidate = render({**values, **names})
        if within(candidate, amharic=amharic):
            return Fitted(candidate, True)
    while True:
        key = max((k for k in names if shorter(names[k]) != names[k]), key=lambda k: len(names[k]), default=None)
        if key is None:
            return Fitted(text, False)
        names[key] = shorter(names[key])
        candidate = render({**values, **names})
        if within(candidate, amharic=amharic):
            return Fitted(candidate, True)


def for_channel(render, values: dict, *, channel: str, lang: str) -> str:
    """A message as worded for `channel`: by SMS its names shortened to the budget (fit); Telegram has no
    segments, so its text is never shortened. A text whose fixed words alone are over the budget is
    logged here, so the catalog gets fixed; the outbox then holds it to the budget as a last resort."""
    if channel != "sms":
        return render(values)
    fitted = fit(render, values, amharic=lang == "am")
    if not fitted.fits:
        log.warning("a %s message is over the SMS budget even with its names shortened: %r", lang, fitted.text)
    return fitted.text


def _graphemes(text: str) -> list[str]:
    """Letters with the marks that belong to them (a combining accent, a joiner): never split."""
    out: list[str] = []
    for ch in text:
        if out and (unicodedata.combining(ch) or ch in "\u200d\ufe0f" or out[-1].endswith("\u200d")):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def shorter(name: str) -> str:
    """One step shorter, ending in "..": the last word goes while there are several, then the last letter.

    One letter and ".." is as short as a name gets.
    """
    stem = name[: -len(ELLIPSIS)] if name.endswith(ELLIPSIS) else name
    words = stem.split()
    if len(words) > 1:
        return " ".join(words[:-1]).rstrip(" ,;:-") + ELLIPSIS
    letters = _graphemes(stem)
    if len(letters) <= 1:
        return name
    return "".join(letters[:-1]).rstrip(" ,;:-") + ELLIPSIS


# The Ethiopic syllabary is a grid: each consonant takes eight code points, one per vowel order. The
# common Latin spelling of Ethiopian names follows it (ብርቱካን Birtukan, ወይዘሮ Weyzero).
_ETHIOPIC_CONSONANTS = (
    "h l h m s r s sh q qw q qw b v t ch h hw n ny - k kw h hw w - z zh y d d j g gw ng t ch p ts ts f p"
).split()
_ETHIOPIC_VOWELS = ("e", "u", "i", "a", "e", "", "o", "wa")
_LABIALISED_VOWELS = ("e", "", "i", "a", "e", "", "", "")  # after qw, hw, kw, gw
_ETHIOPIC_SIGNS = {"\u1361": " ", "\u1362": ".", "\u1363": ",", "\u1364": ";", "\u1365": ":", "\u1366": ":",
                   "\u1367": "?", "\u1368": " "}


def _syllable(cp: int) -> tuple[str, int] | None:
    row, order = divmod(cp - 0x1200, 8)
    if not 0 <= row < len(_ETHIOPIC_CONSONANTS):
        return None
    return _ETHIOPIC_CONSONANTS[row], order


def romanisable(text: str) -> bool:
    """Whether `romanise` keeps every letter and digit of the text: each is GSM-7 already or Ethiopic
    (only signs such as an emoji may go). A name in another script (Arabic, Devanagari) keeps its own
    letters, in UCS-2, rather than vanishing."""
    return all(is_gsm7(normalise(ch)) or _syllable(ord(ch)) or "\u1361" <= ch <= "\u1371"
               for ch in text if unicodedata.category(ch)[0] in "LN")


def romanise(text: str, names: bool = True) -> str:
    """The text spelt for GSM-7: Ethiopic in Latin letters, any other sign GSM-7 cannot carry left out.

    With names=True (a person's or a place's name) each Ethiopic word is capitalised, as names are written,
    and the words are joined by single spaces. With names=False (a sentence of a message) the text keeps its
    spacing and is written as a sentence: the Ethiopic words in lower case, the first letter of each
    sentence a capital, and whatever was in Latin letters already ({placeholders}, KEYWORDS, SMS) as it was.

    A sixth-order letter (the vowel-less ə) is read as "i" when it opens a word before another letter (ብር
    Bir, ይላኩ yilaku, ስለሺ Sileshi) or follows a silent one before another letter, so that three consonants
    never meet (ዝግጅት zigjit, ገብረመድህን Gebremedhin), or before a word's last letter when that is vowel-less
    too (ብድር bidir, ድምጽ dimits); else it is silent (አስተባባሪ astebabari, ምዝገባ mizgeba).
    """
    if names:
        return " ".join(spelt for spelt in map(_romanise_word, text.split()) if spelt)
    spelt = "".join(part if part.isspace() else _romanise_word(part, capital=False)
                    for part in re.split(r"(\s+)", text))
    return _sentence_case(spelt)


def _sentence_case(text: str) -> str:
    """The first letter of each sentence in capitals; a sentence opening with a {placeholder} keeps it."""
    out, start, depth = [], True, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
            start = False
        elif ch == "}":
            depth = max(depth - 1, 0)
        elif depth == 0 and ch in ".?!" and (i + 1 == len(text) or text[i + 1].isspace()):
            start = True
        elif start and depth == 0 and ch.isalnum():
            ch, start = ch.upper(), False
        out.append(ch)
    return "".join(out)


# The GSM-7 extension table costs two septets and is not shown on a USSD screen: its plain spellings.
_PLAIN_REPLACEMENTS = {"[": "(", "]": ")", "{": "(", "}": ")", "~": "-", "^": "", "|": "/", "\u20ac": "EUR",
                       "\\": "/", "\f": " ", "\u00ab": '"', "\u00bb": '"'}


def plain(text: str) -> bool:
    """Whether the text is in the GSM-7 basic set alone (what a USSD screen shows)."""
    return all(ch in GSM7_BASIC for ch in text)


def to_plain(text: str) -> str:
    """The text in the GSM-7 basic set: normalised, the extension characters in plain ones, Ethiopic in
    Latin letters (as a sentence), and any other sign GSM-7 cannot carry left out."""
    if not plain(text) and any(_syllable(ord(ch)) for ch in text):
        text = romanise(text, names=False)
    out = []
    for ch in normalise(text):
        if ch in GSM7_BASIC:
            out.append(ch)
        elif ch in _PLAIN_REPLACEMENTS:
            out.append(_PLAIN_REPLACEMENTS[ch])
    return "".join(out)


def _romanise_word(word: str, capital: bool = True) -> str:
    out: list[str] = []
    silent = False  # the letter before was a consonant without a vowel
    for i, ch in enumerate(word):
        found = _syllable(ord(ch))
        if found is None:
            silent = False
            if ch in _ETHIOPIC_SIGNS:
                out.append(_ETHIOPIC_SIGNS[ch])
            elif "\u1369" <= ch <= "\u1371":
                out.append(str(ord(ch) - 0x1368))
            elif is_gsm7(normalise(ch)):
                out.append(ch)
            continue
        consonant, order = found
        if consonant == "-":  # the vowel carriers አ and ዐ
            out.append(("a", "u", "i", "a", "e", "i", "o", "wa")[order])
            silent = False
            continue
        labialised = len(consonant) == 2 and consonant.endswith("w")
        vowel = (_LABIALISED_VOWELS if labialised else _ETHIOPIC_VOWELS)[order]
        if order == 5:
            following = _syllable(ord(word[i + 1])) if i + 1 < len(word) else None
            first = not any(_syllable(ord(c)) for c in word[:i])
            last_pair = following and following[1] == 5 and i + 2 == len(word)
            vowel = "i" if following and (first or silent or last_pair) else ""
        silent = not vowel
        out.append(consonant + vowel)
    spelt = "".join(out)
    return spelt[:1].upper() + spelt[1:] if capital and word and _syllable(ord(word[0])) else spelt
