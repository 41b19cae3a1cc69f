"""Counted messages take the form their number needs in every language: never "1 members".

Every message marked with NP_ is rendered with 0, 1, 2 and 5 in en, sw, fr and am: the number is shown,
the form is the one the language's plural rule picks (Amharic's singular covers 0 and 1, French's too),
and a language whose rule tells 1 from 5 really has two different texts. Every other message is rendered
with its counting placeholders at 1 and must not say "1 <plural noun>": a count that governs a noun must
be an NP_ message.
"""

from __future__ import annotations

import gettext
import re
import string

import pytest
from babel.messages.catalog import Catalog

from bot import catalog, i18n

MESSAGES = catalog.extract()
PLURALS = {msgid: m for msgid, m in MESSAGES.items() if m.plural}
LANGS = ("en", "sw", "fr", "am")
COUNTS = (0, 1, 2, 5)
# Placeholders that are never 1 where they stand: a configured text limit in characters (at least 2).
NEVER_ONE = frozenset({"limit"})
# "1 <word ending in s>" where the word is a plural noun, not a verb or a word that merely ends in s.
ONE_PLURAL = re.compile(r"(?<![\d.,/])\b1 (?:SMS |more |new |short |active |other )?([a-z]+s)\b")
NOT_NOUNS = frozenset({"is", "was", "has", "yes", "this", "its", "opens", "comes", "starts", "asks", "as", "savings"})


def form_index(lang: str, count: int) -> int:
    """Which form gettext must pick, from the Plural-Forms expression Babel gives the language."""
    return gettext.c2py(Catalog(locale=lang).plural_expr)(count)


def values_for(message: catalog.Message, count: int) -> dict:
    names = {f.split(".", 1)[0].split("[", 1)[0]
             for text in (message.msgid, message.plural)
             for _lit, f, _spec, _conv in string.Formatter().parse(text) if f}
    return {name: count if name == "count" else "x" for name in names}


def test_there_are_counted_messages_and_the_check_can_fail():
    assert len(PLURALS) >= 20
    assert ONE_PLURAL.search("Broadcast 7 is going to 1 members, 1 SMS segments.")
    assert not ONE_PLURAL.search("Broadcast 7 is going to 1 member, 1 SMS segment.")


@pytest.mark.parametrize("lang", LANGS)
def test_every_counted_message_takes_the_right_form(lang):
    wrong = []
    forms = {} if lang == "en" else {msgid: t for msgid, (t, _stem) in catalog.translations(lang).items()}
    for msgid, message in PLURALS.items():
        if "count" not in message.placeholders:
            wrong.append(f"{msgid!r}: a counted message needs {{count}}")
            continue
        for count in COUNTS:
            text = i18n.translate(lang, message.key, **values_for(message, count))
            if lang == "en":
                expected = message.english(count)
            else:
                translation = forms.get(msgid)
                if not isinstance(translation, tuple):
                    wrong.append(f"{lang}: {msgid!r} has no plural forms in its catalog")
                    break
                expected = translation[form_index(lang, count)]
            expected = expected.format(**values_for(message, count))
            if text != expected or str(count) not in text:
                wrong.append(f"{lang} {count}: {msgid!r} -> {text!r}, expected {expected!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_one_and_five_read_differently_where_the_language_says_so(lang):
    if form_index(lang, 1) == form_index(lang, 5):
        pytest.skip(f"{lang} uses one form for 1 and 5")
    same = [msgid for msgid, message in PLURALS.items()
            if i18n.translate(lang, message.key, **values_for(message, 1)).replace("1", "#")
            == i18n.translate(lang, message.key, **values_for(message, 5)).replace("5", "#")]
    assert not same, f"{lang}: the same text for 1 and 5:\n" + "\n".join(map(repr, same))


def test_no_other_message_says_one_of_a_plural_noun():
    wrong = []
    for msgid, message in MESSAGES.items():
        if message.plural:
            continue
        names = {f.split(".", 1)[0].split("[", 1)[0]
                 for _lit, f, _spec, _conv in string.Formatter().parse(msgid) if f}
        text = msgid.format(**{name: "x" if name in NEVER_ONE else 1 for name in names})
        nouns = [w for w in ONE_PLURAL.findall(text) if w not in NOT_NOUNS]
        if nouns:
            wrong.append(f"{message.domain}: {msgid!r} says '1 {nouns[0]}': make it an NP_ message")
    assert not wrong, f"{len(wrong)} messages count without plural forms:\n" + "\n".join(wrong)
