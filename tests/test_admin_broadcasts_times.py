"""BCAST times read by the shared parser in en, sw, fr and am, by SMS and Telegram: a time alone is today's
or tomorrow's once past, a date without a year the next one (one gone by under 60 days ago is a slip), the past refused with one reply and nothing
recorded; and the counted words of its replies take the form their number needs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot import i18n, router
from bot import outbox as out
from bot.engine import Inbound, receive
from bot.handlers import broadcasts as handler
from bot.i18n import NP_
from bot.parse import MESSAGES as PARSE_MESSAGES
from storage.broadcasts import Broadcast
from storage.db import session_scope
from storage.members import Identity
from tests.conftest import next_sid, outbox, say

FAC = "+255712000009"
TZ = ZoneInfo("Africa/Dar_es_Salaam")
EVENING = datetime(2030, 3, 2, 16, 0, tzinfo=UTC)  # 19:00 in Dar es Salaam: 18:00 has passed today
TOMORROW_18 = datetime(2030, 3, 3, 18, 0, tzinfo=TZ).astimezone(UTC)
LANGS = ("en", "sw", "fr", "am")
TOMORROW = {"en": "tomorrow 6pm", "sw": "kesho saa 12 jioni", "fr": "demain 18h", "am": "ነገ 18:00"}
NO_HOUR = {"en": "tomorrow", "sw": "kesho", "fr": "demain", "am": "ነገ"}


def sms(text: str) -> str:
    return out.render_for_channel("sms", text)[0]


def said(lang: str, msgid, **kwargs) -> str:
    return sms(i18n.translate(lang, msgid, region="TZ", tz="Africa/Dar_es_Salaam", **kwargs))


def broadcasts(db) -> list[Broadcast]:
    with session_scope(db) as s:
        return list(s.exec(select(Broadcast).order_by(Broadcast.id)))


def people(add_member, lang: str) -> None:
    add_member(FAC, admin_role="facilitator", language=lang, gender="male")
    add_member("+255712000001", name="Asha", gender="female")
    add_member("+255712000002", name="Bahati", gender="female")


def to_preview(db, settings, lang: str) -> list[str]:
    say(db, settings, FAC, router.keyword("BCAST", lang), now=EVENING)
    say(db, settings, FAC, "gender:F", now=EVENING)
    return say(db, settings, FAC, "Market day on Saturday", now=EVENING)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("answer", ["18:00", "tomorrow"])
def test_the_preview_takes_a_time_to_send_later(db, settings, cluster, add_member, lang, answer):
    people(add_member, lang)
    to_preview(db, settings, lang)
    reply = say(db, settings, FAC, "18:00" if answer == "18:00" else TOMORROW[lang], now=EVENING)
    (broadcast,) = broadcasts(db)
    assert broadcast.status == "scheduled" and broadcast.send_at == TOMORROW_18
    assert reply == [said(lang, "Broadcast {id} will go to {segment} on {when}. Send REPORT {id} to check it.",
                          id=1, segment="gender:female", when=TOMORROW_18)]
    assert outbox(db, kind="broadcast") == []


@pytest.mark.parametrize("lang", LANGS)
def test_a_day_without_an_hour_or_a_past_moment_is_refused_at_the_preview(db, settings, cluster, add_member, lang):
    people(add_member, lang)
    to_preview(db, settings, lang)
    assert say(db, settings, FAC, NO_HOUR[lang], now=EVENING) == [said(lang, PARSE_MESSAGES[("moment", "no_time")])]
    assert say(db, settings, FAC, "01/03/2030 18:00", now=EVENING) == [said(lang, PARSE_MESSAGES[("moment", "past")])]
    assert say(db, settings, FAC, "hmm", now=EVENING) == [said(lang, handler.REPLY_1_2)]
    assert broadcasts(db) == [] and outbox(db, kind="broadcast") == []


@pytest.mark.parametrize("lang", LANGS)
def test_at_in_one_message_follows_the_same_rule(db, settings, cluster, add_member, lang):
    people(add_member, lang)
    keyword = router.keyword("BCAST", lang)
    say(db, settings, FAC, f"{keyword} at:18:00 gender:F Meeting", now=EVENING)
    say(db, settings, FAC, f"{keyword} at:1/12-18:00 gender:F Fair", now=EVENING)  # 1 Dec went by in 2029: 2030's
    for late in ("1/3-18:00", "01/03/2030-18:00"):  # yesterday, with or without its year: a slip, refused
        assert say(db, settings, FAC, f"{keyword} at:{late} gender:F Late", now=EVENING) == [
            said(lang, handler.BAD_TIME)]
    assert [b.send_at for b in broadcasts(db)] == [TOMORROW_18,
                                                   datetime(2030, 12, 1, 18, 0, tzinfo=TZ).astimezone(UTC)]


def test_the_preview_has_buttons_on_telegram_and_a_word_answers_it(db, settings, cluster, add_member):
    member = add_member(FAC, admin_role="facilitator", language="sw")
    add_member("+255712000001", name="Asha")
    with session_scope(db) as s:
        s.add(Identity(channel="telegram", address="700009", member_id=member.id))

    def tg(text: str):
        return receive(db, settings, Inbound("telegram", "700009", text, next_sid("T")), now=EVENING).replies

    tg("tangaza")
    tg("wote")
    (preview,) = tg("Mkutano kesho")
    assert [value for _label, value in json.loads(preview.buttons)] == ["1", "2"]
    assert [label for label, _value in json.loads(preview.buttons)] == ["Tuma", "Ghairi"]
    (scheduled,) = tg("kesho saa 12 jioni")
    assert broadcasts(db)[0].send_at == TOMORROW_18 and scheduled.text.startswith("Tangazo 1")


@pytest.mark.parametrize("lang", LANGS)
def test_one_member_one_segment_is_said_in_the_singular(db, settings, cluster, add_member, lang):
    add_member(FAC, admin_role="facilitator", language=lang, gender="male")
    add_member("+255712000001", name="Asha", gender="female")
    keyword = router.keyword("BCAST", lang)
    reply = say(db, settings, FAC, f"{keyword} gender:F Hello", now=EVENING)[0]
    member = i18n.translate(lang, NP_("{count} member", "{count} members"), count=1)
    segment = i18n.translate(lang, NP_("{count} SMS segment", "{count} SMS segments"), count=1)
    assert reply == said(lang, "Broadcast {id} is going to {reach}, {segments}. Send REPORT {id} to see delivery.",
                         id=1, reach=member, segments=segment)
    assert "1 members" not in reply and "1 SMS segments" not in reply
    report = say(db, settings, FAC, f"{router.keyword('REPORT', lang)} 1", now=EVENING)[0]
    assert report == said(lang, handler.NP_("Broadcast {id} to {count} member: {sent} sent, {delivered} delivered, "
                                            "{failed} failed, {waiting} waiting.",
                                            "Broadcast {id} to {count} members: {sent} sent, {delivered} delivered, "
                                            "{failed} failed, {waiting} waiting."),
                          id=1, count=1, sent=0, delivered=0, failed=0, waiting=1)
