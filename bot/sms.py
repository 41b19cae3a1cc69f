"""GSM-7 normalising and segment counting: an SMS reply must cost one segment (two for Amharic)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

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
    spelt = normalise(text)
    return spelt if is_gsm7(spelt) else text


def encode(text: str) -> Encoded:
    """Spell the text for SMS, then count segments the way carriers bill them."""
    text = outgoing(text)
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
