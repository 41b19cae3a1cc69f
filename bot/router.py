"""Keywords in every supported language, matched case- and accent-insensitively, Telegram /commands too.

Each domain keeps its keywords in `bot/locales/keywords/<domain>.toml`:

    [JOIN]
    en = ["join", "register"]
    sw = ["jiunge"]
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot import i18n, sms

KEYWORDS_DIR = Path(__file__).parent / "locales" / "keywords"


def fold(text: str) -> str:
    """Lower case without accents: 'Adhérer' and 'ADHERER' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def keyword_table() -> dict[str, dict[str, list[str]]]:
    """{COMMAND: {lang: [keywords]}} from every domain's keyword file."""
    table: dict[str, dict[str, list[str]]] = {}
    for path in sorted(KEYWORDS_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            for command, langs in tomllib.load(fh).items():
                entry = table.setdefault(command, {})
                for lang, words in langs.items():
                    entry.setdefault(lang, []).extend(words)
    return table


@cache
def lookup_table() -> dict[str, tuple[str, str]]:
    """{folded keyword: (COMMAND, lang)}; the first language listed wins a shared word, and the spelling a
    romanised Amharic screen shows an Amharic keyword in is read as that keyword (when no other word is)."""
    lookup: dict[str, tuple[str, str]] = {}
    for command, langs in keyword_table().items():
        for lang, words in langs.items():
            for word in words:
                lookup.setdefault(fold(word), (command, lang))
        lookup.setdefault(fold(command), (command, "en"))
    for command, langs in keyword_table().items():  # what a romanised Amharic screen shows (keyword())
        for lang, screen in i18n.SCREEN_LANGUAGE.items():
            if langs.get(lang):
                lookup.setdefault(fold(keyword(command, screen)), (command, lang))
    return lookup


def keyword(command: str, lang: str) -> str:
    """The word a member of `lang` should type for a command, in capitals.

    On a screen in romanised Amharic (am-Latn) it is the first Latin spelling the keyword file lists for
    Amharic, which the router knows, else the Amharic keyword romanised.
    """
    words = keyword_table().get(command, {})
    if lang in i18n.SCREEN_BASE:
        own = words.get(i18n.base_language(lang)) or []
        latin = [w for w in own if sms.plain(w)]
        if latin or own:
            return (latin[0] if latin else sms.romanise(own[0], names=False)).upper()
    chosen = (words.get(lang) or words.get("en") or [command])[0]
    return chosen.upper()


@dataclass(frozen=True)
class Match:
    command: str
    lang: str
    args: str


def split_first(text: str) -> tuple[str, str]:
    parts = text.replace("\u1361", " ").strip().split(None, 1)  # ፡ is the Ethiopic word space
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def match(text: str) -> Match | None:
    """The command a message starts with, if any, and the rest of the message as its arguments."""
    first, rest = split_first(text)
    if not first:
        return None
    if first.startswith("/"):
        first = first[1:].split("@", 1)[0]
    found = lookup_table().get(fold(first).strip(".,!?:;\u1362\u1363\u1364\u1365\u1366\u1367"))
    if found is None:
        return None
    return Match(command=found[0], lang=found[1], args=rest)
