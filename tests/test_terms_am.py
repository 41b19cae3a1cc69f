"""The Amharic catalogs follow bot/locales/am/TERMS.md: no word its "not" column forbids, no Latin glued to Ethiopic.

TERMS.md keeps one chosen word per thing the bot talks about (roles, money, events...). A word listed as
"not" must not come back in any message of the catalogs the row names, and no Latin text (a unit such as
"roll", a member number, a currency code) may be glued to an Amharic word ("በroll", "ለMOSHI-004"), whether
it is written in the message or comes from a placeholder that carries Latin letters.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TERMS = ROOT / "bot" / "locales" / "am" / "TERMS.md"
CATALOGS = ROOT / "bot" / "locales" / "am" / "LC_MESSAGES"
ETHIOPIC = "\u1200-\u135f\u1380-\u139f"  # letters; the punctuation ። ፣ ፦ (U+1360-1368) may touch Latin
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)s")
# Placeholders whose values are Latin letters or codes in every cluster: never glued to an Amharic word.
LATIN_VALUED = ("unit", "units", "number", "code", "currency", "ref", "example")
GLUED_PLACEHOLDER = re.compile(
    rf"[{ETHIOPIC}](?:\{{(?:{'|'.join(LATIN_VALUED)})\}}|%\((?:{'|'.join(LATIN_VALUED)})\)s)"
    rf"|(?:\{{(?:{'|'.join(LATIN_VALUED)})\}}|%\((?:{'|'.join(LATIN_VALUED)})\)s)[{ETHIOPIC}]")
GLUED_LATIN = re.compile(rf"[{ETHIOPIC}][A-Za-z]|[A-Za-z][{ETHIOPIC}]")


def forbidden_words(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(word, catalogs) for every word in a "not" column; catalogs () means every catalog."""
    found = []
    header = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        row = dict(zip(header, cells, strict=True))
        where = row.get("where", "all")
        catalogs = () if where in ("", "all") else tuple(w.strip() for w in where.split(","))
        found += [(word, catalogs) for word in re.findall(r"`([^`]+)`", row.get("not", ""))]
    return found


def uses(text: str, word: str) -> bool:
    """Ethiopic words match as a stem inside a word, Latin ones at word boundaries.

    Amharic glues prefixes and endings to a word, and an ending changes the vowel of the last syllable
    (አመቻች, አመቻቹ, አመቻቾቹ): the last letter matches in any of its seven vowel orders.
    """
    if re.search(f"[{ETHIOPIC}]", word):
        last = ord(word[-1])
        if 0x1200 <= last <= 0x1357:
            base = last - (last - 0x1200) % 8
            return re.search(re.escape(word[:-1]) + f"[{chr(base)}-{chr(base + 7)}]", text) is not None
        return word in text
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None


def glued(text: str) -> list[str]:
    """Latin glued to Ethiopic: written in the message, or by a Latin-valued placeholder."""
    bad = [m.group() for m in GLUED_PLACEHOLDER.finditer(text)]
    return bad + [m.group() for m in GLUED_LATIN.finditer(PLACEHOLDER.sub("0", text))]


def translations():
    """(catalog stem, msgid, msgstr form) of every translated entry of every Amharic catalog."""
    for path in sorted(CATALOGS.glob("*.po")):
        with path.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            if not message.id:
                continue
            forms = message.string if isinstance(message.string, (list, tuple)) else [message.string]
            msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
            for form in forms:
                if form:
                    yield path.stem, msgid, form


def violations(entries, words) -> list[str]:
    wrong = []
    for stem, msgid, text in entries:
        for word, catalogs in words:
            if (not catalogs or stem in catalogs) and uses(text, word):
                wrong.append(f"am/{stem}.po uses {word!r} (see TERMS.md): {msgid!r} -> {text!r}")
        for piece in glued(text):
            wrong.append(f"am/{stem}.po glues Latin to Amharic ({piece!r}): {msgid!r} -> {text!r}")
    return wrong


WORDS = forbidden_words(TERMS.read_text(encoding="utf-8"))


def test_terms_lists_the_words_not_to_use():
    words = dict(WORDS)
    assert {"አመቻች", "ለየአባላት", "ቋሚ", "ማጣ."} <= words.keys()
    assert words["ቋሚ"] == ("savings",) and words["አመቻች"] == ()


def test_amharic_catalogs_follow_the_terms():
    wrong = violations(translations(), WORDS)
    assert not wrong, f"{len(wrong)} Amharic messages break TERMS.md:\n" + "\n".join(wrong)


def test_the_check_can_fail():
    bad = [("purchases", "per {unit}", "በroll"), ("purchases", "{units}", "የ{units} ብዛት"),
           ("purchases", "{units}", "{quantity} {units}ዎን"), ("savings", "to {number}", "ለ{number} ተከፍሏል"),
           ("glossary", "A facilitator", "አመቻቹ ይከፍታል"), ("events", "members", "ለየአባላት"),
           ("savings", "flat", "ቋሚ"), ("dashboard", "%(number)s", "ለ%(number)s")]
    assert len(violations(bad, WORDS)) == len(bad)
    # A word forbidden in one catalog only is fine in another; spaced Latin and Ethiopic names are fine.
    good = [("events", "fixed", "ቋሚ ቦታ"), ("purchases", "{units}", "{quantity} {units} ለአንድ {unit}"),
            ("savings", "to member", "ለአባል {number} ተከፍሏል"), ("messages", "{name}", "ለ{name} ተልኳል"),
            ("broadcasts", "gender", "ጾታ:F ሚና:academia")]
    assert violations(good, WORDS) == []
