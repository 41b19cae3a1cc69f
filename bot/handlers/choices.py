"""Numbered choices: a digit picks on SMS, a button sends the digit on Telegram, a word in any language works."""

from __future__ import annotations

from bot import i18n
from bot.router import fold


def pick(text: str, options: list[tuple[str, str]], aliases: dict[str, list[str]] | None = None) -> str | None:
    """The value chosen by `text` among (value, label msgid) options, by number, label or alias."""
    answer = fold(text).strip(" .,!")
    if answer.isdecimal():
        index = int(answer) - 1
        return options[index][0] if 0 <= index < len(options) else None
    for value, label in options:
        names = {fold(i18n.translate(lang, label)) for lang in i18n.LANGUAGES}
        names.update(fold(a) for a in (aliases or {}).get(value, []))
        names.add(fold(value))
        if answer in names:
            return value
    return None


def buttons(options: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(label msgid, digit) pairs: the Telegram buttons send the same digit an SMS user would type."""
    return [(label, str(i)) for i, (_value, label) in enumerate(options, start=1)]
