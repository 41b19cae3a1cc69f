"""Every SACCOS message exists in sw, fr and am with the same placeholders and fits one SMS (Amharic: 134)."""

import re

import pytest

from bot import i18n, router, sms
from bot.catalog import extract, forms_of, placeholders, translations
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


messages = extract()


def savings_msgids() -> list[str]:
    return [msgid for msgid, m in messages.items() if m.domain == "savings"]


def test_every_message_is_translated_with_the_same_placeholders():
    msgids = savings_msgids()
    assert len(msgids) > 60
    for lang in ("sw", "fr", "am"):
        have = translations(lang)
        for msgid in msgids:
            assert msgid in have, f"{lang} lacks {msgid!r}"
            for text in forms_of(have[msgid][0]):
                assert placeholders(text) == messages[msgid].placeholders, (lang, msgid)
                if lang != "am":
                    assert text != msgid or len(msgid) <= 4, f"{lang} left {msgid!r} in English"


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_every_message_fits_one_segment_with_the_longest_values(lang):
    values = {**{k: v for k, v in SAMPLES.items()}, **LONGEST}
    too_long = []
    for msgid in savings_msgids():
        wanted = messages[msgid].placeholders
        assert wanted <= set(values), f"no sample for {wanted - set(values)} in {msgid!r}"
        text = i18n.translate(
            lang, messages[msgid].key, region="TZ", tz="Africa/Dar_es_Salaam", **{k: values[k] for k in wanted}
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
                for text in forms_of(have[msgid][0]):
                    assert router.fold(word) in router.fold(text), (lang, cmd, text)
