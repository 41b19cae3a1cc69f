"""Romanised Amharic (am-Latn) for screens that show only the GSM-7 basic set (USSD, 160 characters).

Every SMS message rendered in am-Latn with the catalog test's longest sample values is plain GSM-7 (no
extension characters, no Ethiopic) and fits one screen of 160 characters.
"""

from __future__ import annotations

import pytest

from bot import i18n, sms
from tests.test_catalogs import MESSAGES, samples_for

SCREEN = "am-Latn"
SCREEN_LIMIT = sms.GSM7_SINGLE


def rendered(msgid: str, count: int | None = None) -> str:
    values = samples_for(MESSAGES[msgid].domain, SCREEN)
    if count is not None:
        values = {**values, "count": count}
    return i18n.translate(SCREEN, MESSAGES[msgid].key, region="ET", tz="Africa/Addis_Ababa", **values)


def screen_problem(text: str) -> str | None:
    if not sms.plain(text):
        return f"not plain GSM-7: {sorted({ch for ch in text if not sms.plain(ch)})}"
    return None if len(text) <= SCREEN_LIMIT else f"{len(text)} characters (max {SCREEN_LIMIT})"


def test_every_message_fits_one_plain_screen_in_romanised_amharic():
    wrong, checked = [], 0
    for msgid, message in MESSAGES.items():
        if message.placeholders - samples_for(message.domain, SCREEN).keys():
            continue  # reported by tests/test_catalogs.py::test_every_placeholder_has_a_sample
        for count in (1, 2, 5, 12345) if message.plural else (None,):
            text = rendered(msgid, count)
            checked += 1
            problem = screen_problem(text)
            if problem:
                wrong.append(f"am_Latn/{message.domain}.po: {problem}: {msgid!r}\n    -> {text!r}")
    assert checked > 400
    assert not wrong, f"{len(wrong)} am-Latn screens too long or not plain:\n" + "\n".join(wrong)


def test_the_screen_check_can_fail():
    assert screen_problem("x" * 161) and screen_problem("Send [x]") and screen_problem("ሰላም")
    assert screen_problem("x" * 160) is None


@pytest.mark.parametrize("domain", sorted({m.domain for m in MESSAGES.values()}))
def test_every_amharic_domain_has_its_romanised_catalog(domain):
    """python -m bot.catalog romanise has been run: the am-Latn screens read their own catalog."""
    have = {path.stem for path in i18n.catalog_files(SCREEN)}
    assert domain in have, f"run python -m bot.catalog romanise: bot/locales/am_Latn/LC_MESSAGES/{domain}.po"
