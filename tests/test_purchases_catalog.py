"""Every purchases message is translated into sw, fr and am and fits one SMS with the longest values."""

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import i18n, router, sms
from bot.handlers import purchases
from bot.i18n import Plural

PACKAGE = Path(purchases.__file__).parent
SOURCES = [*sorted(PACKAGE.glob("*.py")), PACKAGE.parent.parent / "jobs" / "purchases.py"]
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


def msgids() -> list[str | Plural]:
    """String literals the extractor sees in the package and the deadline job: ctx.reply/ctx.t first
    argument, notify third, N_ any; NP_ gives a counted message (its singular and plural)."""
    found: set[str | Plural] = set()
    for source in SOURCES:
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "NP_" and all(isinstance(a, ast.Constant) for a in node.args[:2]):
                found.add(Plural(node.args[0].value, node.args[1].value))
                continue
            index = {"reply": 0, "t": 0, "N_": 0, "notify": 2}.get(name)
            if index is not None and len(node.args) > index:
                arg = node.args[index]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return sorted(found, key=str)


def texts(msgid: str | Plural) -> list[str]:
    return [msgid.singular, msgid.plural] if isinstance(msgid, Plural) else [msgid]


def placeholders(msgid: str | Plural) -> set[str]:
    return {name for text in texts(msgid) for name in re.findall(r"{(\w+)}", text)}


def translations(lang: str, msgid: str | Plural) -> list[str]:
    """The message in `lang`: each form a counted message takes (1, 2, 5, a million)."""
    if isinstance(msgid, Plural):
        return sorted({i18n.ngettext_for(lang, msgid, n) for n in (1, 2, 5, 1_000_000)})
    return [i18n.gettext_for(lang, msgid)]


def longest_keyword(lang: str) -> str:
    return max((router.keyword(c, lang) for c in KEYWORDS), key=len)


def filled(lang: str, msgid: str | Plural) -> list[str]:
    values = {
        **BASE,
        **purchases.SAMPLES,
        "keyword": longest_keyword(lang),
        "when": i18n.format_when(
            datetime(2026, 9, 16, 17, 0, tzinfo=UTC), lang, "Africa/Dar_es_Salaam", "TZ"
        ),
    }
    return [text.format(**{k: values.get(k, "X" * 10) for k in re.findall(r"{(\w+)}", text)})
            for text in translations(lang, msgid)]


def test_the_package_and_the_job_are_read():
    found = msgids()
    assert "Purchase {id} was not offered to you." in found  # the error table, in common.py
    assert any(isinstance(m, Plural) and "were told" in m.plural for m in found)
    assert any(str(m).startswith("{item} reached its minimum") for m in found)  # the deadline job


def test_every_placeholder_has_a_sample():
    known = set(BASE) | set(purchases.SAMPLES) | {"keyword", "when"}
    for msgid in msgids():
        assert placeholders(msgid) <= known, msgid


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_each_message_fits_one_sms(lang):
    too_long = []
    for msgid in msgids():
        for text in filled(lang, msgid):
            encoded = sms.encode(text)
            limit = 160 if encoded.encoding == "GSM-7" else 134
            if encoded.units > limit:
                too_long.append((encoded.units, text))
    assert too_long == []


@pytest.mark.parametrize("lang", ["sw", "fr", "am"])
def test_each_message_is_translated_with_the_same_placeholders(lang):
    for msgid in msgids():
        for text in translations(lang, msgid):
            assert text not in texts(msgid), f"{lang} lacks: {msgid}"
            assert set(re.findall(r"{(\w+)}", text)) == placeholders(msgid), (lang, msgid)


@pytest.mark.parametrize("lang", ["sw", "fr", "am"])
def test_keywords_in_messages_are_the_languages_own(lang):
    english = {router.keyword(c, "en") for c in KEYWORDS}
    for msgid in msgids():
        for text in translations(lang, msgid):
            words = set(re.findall(r"\b[A-Z]{4,}\b", text))
            assert not words & (english - {router.keyword(c, lang) for c in KEYWORDS}), (lang, msgid)
