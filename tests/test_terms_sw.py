"""Swahili SMS follow bot/locales/sw/TERMS.md: one word per thing, and a counted noun agrees with its number.

The words of the table's "not" column (calques such as "bapa" for flat interest, "imepokelewa" for a
request not yet confirmed, "klasta yako" where the bot says "kikundi chako") never appear in an SMS
msgstr; the singular form of a counted message never puts a plural noun before its number ("maneno 1"),
and no message says a plural noun with the number 1. The web pages of dashboard.po are not SMS and are
left out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import catalog

TERMS = Path(catalog.BOT_DIR) / "locales" / "sw" / "TERMS.md"
# Plural nouns the catalogs count (the number follows the noun in Swahili): with 1 each takes its singular.
PLURAL_NOUNS = ("wanachama", "maneno", "miezi", "mikopo", "maswali", "mialiko", "matukio", "jumbe", "madodoso",
                "maombi", "maingizo", "marejesho", "wawezeshaji", "majibu", "mifuko", "vikumbusho", "matangazo")
ONE_PLURAL = re.compile(r"(?<![\w-])(" + "|".join(PLURAL_NOUNS) + r") (1|\{count\})(?![\d.,]| hadi [\d{])", re.IGNORECASE)


def not_words(text: str) -> list[str]:
    """The words of the "not" column of the Terms table (the table whose header has a "not" column)."""
    words, column = [], None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None:
            column = None
        elif "not" in cells:
            column = cells.index("not")
        elif column is not None and not set(cells[0]) <= set("-"):
            words += [w.strip() for w in cells[column].split(",") if w.strip()]
    return words


def matcher(words) -> re.Pattern:
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, words)) + r")(?![\w-])", re.IGNORECASE)


def sms_texts() -> list[tuple[str, str, bool]]:
    """(file, text, is the singular of a counted message) of every Swahili form of every SMS message."""
    messages = catalog.extract()
    found = []
    for msgid, (translation, stem) in catalog.translations("sw").items():
        if msgid not in messages:
            continue
        forms = catalog.forms_of(translation)
        found += [(stem, text, messages[msgid].plural is not None and n == 0 and len(forms) > 1)
                  for n, text in enumerate(forms)]
    return found


def problems(texts, forbidden: re.Pattern) -> list[str]:
    found = []
    for stem, text, singular in texts:
        hit = forbidden.search(text)
        if hit:
            found.append(f"sw/{stem}.po: TERMS.md says not {hit.group()!r}: {text!r}")
        for plural in ONE_PLURAL.finditer(text):
            if plural.group(2) == "1" or singular:
                found.append(f"sw/{stem}.po: plural noun with one {plural.group()!r}: {text!r}")
    return found


NOT = not_words(TERMS.read_text(encoding="utf-8"))


def test_terms_lists_the_words_not_to_use():
    assert {"bapa", "salio linalopungua", "imepokelewa", "klasta yako", "mratibu", "Mengineyo"} <= set(NOT), NOT


def test_counted_messages_have_a_singular_and_a_plural_form():
    """The check below needs the forms: a counted message in sw has exactly two (Plural-Forms n != 1)."""
    messages = catalog.extract()
    counted = [(msgid, t) for msgid, (t, _stem) in catalog.translations("sw").items()
               if msgid in messages and messages[msgid].plural]
    assert len(counted) >= 20
    assert all(len(catalog.forms_of(t)) == 2 for _msgid, t in counted)


def test_swahili_sms_follow_the_terms_and_the_plurals():
    found = problems(sms_texts(), matcher(NOT))
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("bad", "singular"), [
    ("Mkopo 5: TSh 100,000, riba 2% kwa mwezi (bapa).", False),
    ("Riba 2% (salio linalopungua).", False),
    ("Amana ya TSh 5,000 imepokelewa. Mweka hazina ataithibitisha.", False),
    ("Hakuna kura 3 katika klasta yako.", False),
    ("Mratibu atafungua kura.", False),
    ("Wewe ni: 1 Mwanamke, 2 Mwanamume, 3 Mengineyo?", False),
    ("Asante! Neno limependekezwa (maneno 1 hadi sasa).", False),
    ("Tangazo 4 kwa wanachama {count}: 1 zimetumwa.", True),
])
def test_the_check_can_fail(bad, singular):
    assert problems([("demo", bad, singular)], matcher(NOT))


@pytest.mark.parametrize("good", [
    "Mkopo 5: TSh 100,000, riba 2% kwa mwezi (ya kiasi cha mwanzo).",
    "Amana ya TSh 5,000 imeandikwa. Mweka hazina ataithibitisha.",
    "Hakuna kura 3 katika kikundi chako.",
    "Asante! Neno limependekezwa (neno 1 hadi sasa).",
    "Tuma PENDEKEZA mpango wa klasta = umoja",
    "Wanachama 12 wamejibu; miezi 1.5.",
    "Hakuna ahadi mpya zinazopokelewa.",
])
def test_the_check_passes_good_swahili(good):
    assert not problems([("demo", good, False)], matcher(NOT))
