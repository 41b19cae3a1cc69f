"""Every SACCOS message exists in sw, fr and am with the same placeholders and fits one SMS (Amharic: 134)."""

import re

import pytest

from bot import i18n, router, sms
from bot.catalog import extract, placeholders, translations
from bot.handlers.savings import SAMPLES

LONGEST = {
    "name": "Mwanaisha Abdallah Mohamedi",
    "number": "KILIMANJARO-123",
    "id": "123456",
    "amount": i18n.Money(1_250_000_050, "TZS"),
    "balance": i18n.Money(-1_250_000_050, "TZS"),
    "limit": i18n.Money(1_250_000_050, "TZS"),
    "count": 60,
    "ref": "QK12AB34CD56EF78GH90",
    "date": "28 Sept 2025",
    "keyword": "MKOPOHAPANA",
    "example": "KILIMANJARO-004",
    "status": "confirmed",
    "state": "approved, not paid out",
}


def savings_msgids() -> list[str]:
    return [msgid for msgid, m in extract().items() if m.domain == "savings"]


def test_every_message_is_translated_with_the_same_placeholders():
    msgids = savings_msgids()
    assert len(msgids) > 60
    for lang in ("sw", "fr", "am"):
        have = translations(lang)
        for msgid in msgids:
            assert msgid in have, f"{lang} lacks {msgid!r}"
            assert placeholders(have[msgid][0]) == placeholders(msgid), (lang, msgid)
            if lang != "am":
                assert have[msgid][0] != msgid or len(msgid) <= 4, f"{lang} left {msgid!r} in English"


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_every_message_fits_one_segment_with_the_longest_values(lang):
    values = {**{k: v for k, v in SAMPLES.items()}, **LONGEST}
    too_long = []
    for msgid in savings_msgids():
        wanted = placeholders(msgid)
        assert wanted <= set(values), f"no sample for {wanted - set(values)} in {msgid!r}"
        text = i18n.translate(
            lang, msgid, region="TZ", tz="Africa/Dar_es_Salaam", **{k: values[k] for k in wanted}
        )
        encoded = sms.encode(text)
        if encoded.segments > 1 if encoded.encoding == "GSM-7" else encoded.units > 134:
            too_long.append(f"{encoded.units} {encoded.encoding}: {text}")
    assert not too_long, "\n".join(too_long)


@pytest.mark.parametrize("lang", ["sw", "fr", "am"])
def test_keywords_inside_translations_are_the_languages_own(lang):
    own = {
        cmd: router.keyword(cmd, lang)
        for cmd in ("CONFIRM", "DECLINE", "LOANYES", "LOANNO", "PAYOUT", "REPAY", "SAVE", "BAL", "STMT")
    }
    have = translations(lang)
    for msgid in (m for m in savings_msgids() if " " in m):
        for cmd, word in own.items():
            if re.search(rf"\b{cmd}\b", msgid):
                assert router.fold(word) in router.fold(have[msgid][0]), (lang, cmd, have[msgid][0])
