"""Every USSD screen in every language fits 160 characters of the GSM-7 basic set, with the longest
realistic values: the menus (title, lines and keys on each page) and every message a screen can show
(a command's reply, a flow's question or refusal), spelt as the screen spells it (Amharic romanised)."""

from __future__ import annotations

import pytest

from bot import i18n, sms
from bot.channels import ussd
from bot.handlers import menu
from tests.test_catalogs import LANGS, MESSAGES, render, samples_for

KEYS = f"\n{ussd.MORE} > {ussd.BACK} <"
LONGEST_LINE = "x" * 40  # a menu line's words are held to 40 characters (an event's title)


def screen_text(lang: str, msgid: str, count: int | None = None) -> str:
    return ussd.spell(render(ussd_language(lang), msgid, count))


def ussd_language(lang: str) -> str:
    return i18n.screen_language(lang)


def problem(text: str) -> str | None:
    odd = sorted({ch for ch in text if ch not in sms.GSM7_BASIC})
    if odd:
        return f"not plain GSM-7: {odd}"
    return f"{len(text)} characters (max {ussd.SCREEN})" if len(text) > ussd.SCREEN else None


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_a_screen_can_show_fits_a_ussd_screen(lang):
    too_long = []
    for msgid, message in MESSAGES.items():
        if message.placeholders - samples_for(message.domain, lang).keys():
            continue  # reported by the catalog test
        for count in (1, 2, 5, 12345) if message.plural else (None,):
            text = screen_text(lang, msgid, count)
            found = problem(text)
            if found:
                too_long.append(f"{lang} ({message.domain}): {found}: {msgid!r}\n    -> {text!r}")
    assert not too_long, f"{len(too_long)} screens over the USSD budget:\n" + "\n".join(too_long)


@pytest.mark.parametrize("lang", LANGS)
def test_every_menu_title_fits_with_a_line_and_the_keys(lang):
    values = samples_for("menu", lang)
    titles = [menu.MAIN_TITLE, menu.STRANGER_TITLE, menu.EVENT_TITLE, menu.REGISTRATION_TITLE, menu.CHOICE,
              *menu.TITLES.values(), *menu.REQUEST_TITLE.values()]
    wrong = []
    for msgid in titles:
        title = ussd.spell(i18n.translate(ussd_language(lang), msgid, region="TZ", **values))
        found = problem(f"{title}\n1 {LONGEST_LINE}{KEYS}")
        if found:
            wrong.append(f"{lang}: {found}: {msgid!r} -> {title!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("lang", LANGS)
def test_every_menu_line_is_shown_whole(lang):
    labels = [*menu.LABELS.values()]
    cut = [label for label in labels
           if len(ussd.spell(i18n.translate(ussd_language(lang), label))) > len(LONGEST_LINE)]
    assert not cut, f"{lang}: menu lines over {len(LONGEST_LINE)} characters: {cut}"


@pytest.mark.parametrize("lang", LANGS)
def test_the_longest_menu_pages_onto_screens_that_fit(lang):
    lines = [ussd.spell(i18n.translate(ussd_language(lang), label)) for label in menu.LABELS.values()]
    title = ussd.spell(i18n.translate(ussd_language(lang), menu.MAIN_TITLE, cluster=samples_for("menu", lang)["cluster"]))
    shown, number, more = set(), 0, True
    while more:
        text, more = ussd.page(title, lines, number, back=True)
        assert problem(text) is None, text
        shown.update(int(line.split(" ")[0]) for line in text.split("\n")[1:] if line[:1].isdigit()
                     and not line.startswith(f"{ussd.MORE} "))
        number += 1
    assert set(range(1, len(lines) + 1)) <= shown  # every line is on some page, numbered as on the first


def test_the_screen_check_can_fail():
    assert problem("x" * 161) and problem("ሰላም") and problem("[x]") and problem("x" * 160) is None
    assert len(ussd.plain("word " * 40)) <= ussd.SCREEN
    assert ussd.plain("ሰላም [x]") == "Selam (x)"
