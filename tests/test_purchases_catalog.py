"""Every purchases message is translated into sw, fr and am and fits one SMS with the longest values."""

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import i18n, router, sms
from bot.handlers import purchases

SOURCE = Path(purchases.__file__)
BASE = {
    "name": "Asha Mwanaidi Juma",
    "number": "MOSHI-012",
    "amount": "TSh 1,250,000",
    "id": "1234",
    "count": "1,250",
    "limit": "1,250",
    "ref": "QK7H2XYZ9A",
    "status": "waiting",
    "total": "1,250",
    "code": "TZS",
    "example": "MOSHI-012",
    "date": "14 Sep",
    "place": "Kiboriloni market, Mama Asha store",
}
KEYWORDS = (
    "BUY",
    "PAID",
    "PAYOK",
    "PAYNO",
    "RECEIVED",
    "EXTEND",
    "CANCELBUY",
    "COLLECTED",
    "PURCHASE",
    "ORDERED",
    "DELIVERED",
    "NEWBUY",
)


def msgids() -> list[str]:
    """String literals the extractor sees: ctx.reply/ctx.t first argument, notify third, N_ any."""
    found = []
    for node in ast.walk(ast.parse(SOURCE.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        index = {"reply": 0, "t": 0, "N_": 0, "notify": 2}.get(name)
        if index is not None and len(node.args) > index:
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append(arg.value)
    return sorted(set(found))


def longest_keyword(lang: str) -> str:
    return max((router.keyword(c, lang) for c in KEYWORDS), key=len)


def filled(lang: str, msgid: str) -> str:
    values = {
        **BASE,
        **purchases.SAMPLES,
        "keyword": longest_keyword(lang),
        "when": i18n.format_when(
            datetime(2026, 9, 16, 17, 0, tzinfo=UTC), lang, "Africa/Dar_es_Salaam", "TZ"
        ),
    }
    text = i18n.translate(lang, msgid)
    return text.format(**{k: values.get(k, "X" * 10) for k in re.findall(r"{(\w+)}", text)})


def test_every_placeholder_has_a_sample():
    known = set(BASE) | set(purchases.SAMPLES) | {"keyword", "when"}
    for msgid in msgids():
        assert set(re.findall(r"{(\w+)}", msgid)) <= known, msgid


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_each_message_fits_one_sms(lang):
    too_long = []
    for msgid in msgids():
        text = filled(lang, msgid)
        encoded = sms.encode(text)
        limit = 160 if encoded.encoding == "GSM-7" else 134
        if encoded.units > limit:
            too_long.append((encoded.units, text))
    assert too_long == []


@pytest.mark.parametrize("lang", ["sw", "fr", "am"])
def test_each_message_is_translated_with_the_same_placeholders(lang):
    for msgid in msgids():
        text = i18n.gettext_for(lang, msgid)
        assert text != msgid, f"{lang} lacks: {msgid}"
        assert sorted(re.findall(r"{(\w+)}", text)) == sorted(re.findall(r"{(\w+)}", msgid)), (lang, msgid)


@pytest.mark.parametrize("lang", ["sw", "fr", "am"])
def test_keywords_in_messages_are_the_languages_own(lang):
    english = {router.keyword(c, "en") for c in KEYWORDS}
    for msgid in msgids():
        words = set(re.findall(r"\b[A-Z]{4,}\b", i18n.gettext_for(lang, msgid)))
        assert not words & (english - {router.keyword(c, lang) for c in KEYWORDS}), (lang, msgid)
