"""NEWPOLL on the flow engine: the schedule read by the shared parser in en, sw, fr and am (a date without
a year is the next one, a bare time today's or tomorrow's, the past refused with one reply and nothing
saved), BACK, copies, Telegram buttons, and the counted words in each language."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot import i18n, router
from bot import outbox as out
from bot.engine import Inbound, receive
from bot.flow import NO_EARLIER
from bot.handlers import polls as handler
from bot.parse import MESSAGES as PARSE_MESSAGES
from storage.db import session_scope
from storage.members import Identity
from storage.messages import Conversation
from storage.polls import Poll
from tests.conftest import next_sid, say

FAC = "+255712000009"
TZ = ZoneInfo("Africa/Dar_es_Salaam")
EVENING = datetime(2030, 3, 2, 16, 0, tzinfo=UTC)  # Saturday 2 March 2030, 19:00 in Dar es Salaam
LANGS = ("en", "sw", "fr", "am")


def sms(text: str) -> str:
    return out.render_for_channel("sms", text)[0]


def said(lang: str, msgid, **kwargs) -> str:
    return sms(i18n.translate(lang, msgid, region="TZ", tz="Africa/Dar_es_Salaam", **kwargs))


def polls(db) -> list[Poll]:
    with session_scope(db) as s:
        return list(s.exec(select(Poll).order_by(Poll.id)))


def step(db) -> str | None:
    with session_scope(db) as s:
        conv = s.exec(select(Conversation)).first()
        return f"{conv.flow}.{conv.step}" if conv else None


def to_schedule(db, settings, lang: str) -> list[str]:
    """A facilitator speaking `lang` picks the satisfaction template for everyone: the schedule question."""
    say(db, settings, FAC, router.keyword("NEWPOLL", lang), now=EVENING)
    say(db, settings, FAC, "1", now=EVENING)
    return say(db, settings, FAC, "all", now=EVENING)


# (text, local start, months between rounds) for each language: words of its own for days and hours.
WHEN = {
    "en": [("18:00 6", datetime(2030, 3, 3, 18, 0), 6), ("5 July 6pm 3", datetime(2030, 7, 5, 18, 0), 3)],
    "sw": [("kesho saa 12 jioni 6", datetime(2030, 3, 3, 18, 0), 6), ("5 Julai 18:00 3", datetime(2030, 7, 5, 18, 0), 3)],
    "fr": [("demain 18h 6", datetime(2030, 3, 3, 18, 0), 6), ("5 juillet 18h 3", datetime(2030, 7, 5, 18, 0), 3)],
    "am": [("ነገ 18:00 6", datetime(2030, 3, 3, 18, 0), 6), ("5 ጁላይ 18:00 3", datetime(2030, 7, 5, 18, 0), 3)],
}
# 1 March has passed on 2 March: a date without a year is next year's.
LAST_MONTH = {"en": "1 March 18:00", "sw": "1 Machi 18:00", "fr": "1 mars 18h", "am": "1 ማርች 18:00"}
LAST_DECEMBER = {"en": "1 December 18:00", "sw": "1 Desemba 18:00", "fr": "1 décembre 18h", "am": "1 ዲሴምበር 18:00"}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", [0, 1])
def test_schedule_reads_each_languages_dates_and_hours(db, settings, cluster, add_member, lang, case):
    add_member(FAC, admin_role="facilitator", language=lang)
    text, local, months = WHEN[lang][case]
    assert to_schedule(db, settings, lang)[0] == said(lang, "When? Send the date, the time and the months between "
                                                            "rounds (0 = once), e.g. 1/7 18:00 6")
    confirm = say(db, settings, FAC, text, now=EVENING)
    assert len(confirm) == 1 and sms(i18n.format_when(local.replace(tzinfo=TZ), lang, "Africa/Dar_es_Salaam",
                                                      "TZ")) in confirm[0]
    say(db, settings, FAC, "1", now=EVENING)
    (poll,) = polls(db)
    assert poll.status == "scheduled" and poll.every_months == months
    assert poll.start_at == local.replace(tzinfo=TZ).astimezone(UTC)


@pytest.mark.parametrize("lang", LANGS)
def test_a_date_without_a_year_is_the_next_such_date(db, settings, cluster, add_member, lang):
    """Yesterday's date is a slip, refused (the shared rule); one that went by months ago is next year's."""
    add_member(FAC, admin_role="facilitator", language=lang)
    to_schedule(db, settings, lang)
    refused = say(db, settings, FAC, LAST_MONTH[lang], now=EVENING)[0]
    assert sms(i18n.translate(lang, handler.N_("once"))) not in refused and polls(db) == []
    confirm = say(db, settings, FAC, LAST_DECEMBER[lang], now=EVENING)[0]
    assert sms(i18n.translate(lang, handler.N_("once"))) in confirm
    say(db, settings, FAC, "1", now=EVENING)
    assert polls(db)[0].start_at == datetime(2030, 12, 1, 18, 0, tzinfo=TZ).astimezone(UTC)


@pytest.mark.parametrize("lang", LANGS)
def test_past_and_impossible_dates_are_refused_and_nothing_is_saved(db, settings, cluster, add_member, lang):
    add_member(FAC, admin_role="facilitator", language=lang)
    to_schedule(db, settings, lang)
    assert say(db, settings, FAC, "2020-01-01 18:00 0", now=EVENING) == [said(lang, handler.BAD_WHEN)]
    assert say(db, settings, FAC, "31/02 18:00 6", now=EVENING) == [
        said(lang, PARSE_MESSAGES[("moment", "no_such_day")])]
    assert say(db, settings, FAC, "saa 11 6", now=EVENING) == [said(lang, PARSE_MESSAGES[("moment", "ambiguous_time")])]
    assert say(db, settings, FAC, "18:00 30", now=EVENING) == [said(lang, handler.BAD_WHEN)]  # months: 0 to 24
    assert say(db, settings, FAC, "next week", now=EVENING) == [said(lang, handler.BAD_WHEN)]
    assert step(db) == "polls.create.schedule" and polls(db) == []


@pytest.mark.parametrize("lang", LANGS)
def test_counted_words_follow_the_number(db, settings, cluster, add_member, lang):
    add_member(FAC, admin_role="facilitator", language=lang)
    say(db, settings, FAC, "NEWPOLL", now=EVENING)
    say(db, settings, FAC, "One question", now=EVENING)
    say(db, settings, FAC, "2", now=EVENING)
    say(db, settings, FAC, "Did you come?", now=EVENING)
    audience = say(db, settings, FAC, "0", now=EVENING)
    one = handler.NEWPOLL.step("audience").question
    assert audience == [said(lang, one, count=1)]
    say(db, settings, FAC, "all", now=EVENING)
    confirm = say(db, settings, FAC, "2030-04-01 18:00 1", now=EVENING)[0]
    assert said(lang, handler.NP_("every {count} month", "every {count} months"), count=1) in confirm
    if lang != "am":  # Amharic's singular covers 0 and 1 only; 1 and 5 differ everywhere
        assert said(lang, one, count=1) != said(lang, one, count=5).replace("5", "1")


def test_back_goes_to_the_previous_question_and_the_answers_stay_right(db, settings, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    assert say(db, settings, FAC, "NEWPOLL", now=EVENING)[0].startswith("New poll")
    say(db, settings, FAC, "Market day", now=EVENING)
    say(db, settings, FAC, "2", now=EVENING)
    assert say(db, settings, FAC, "Do you sell?", now=EVENING)[0].startswith("Question 2:")
    assert say(db, settings, FAC, "BACK", now=EVENING)[0] == "Send the text of question 1."
    say(db, settings, FAC, "Do you sell at the market?", now=EVENING)
    say(db, settings, FAC, "0", now=EVENING)
    say(db, settings, FAC, "all", now=EVENING)
    say(db, settings, FAC, "2030-04-01 18:00 0", now=EVENING)
    assert say(db, settings, FAC, "1", now=EVENING)[0].startswith("Poll 1 is scheduled")
    with session_scope(db) as s:
        (question,) = handler.store.questions(s, s.get(Poll, 1))
        assert question.text_in("en") == "Do you sell at the market?" and question.kind == "yesno"


def test_first_step_has_no_earlier_question(db, settings, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    first = say(db, settings, FAC, "NEWPOLL", now=EVENING)[0]
    assert say(db, settings, FAC, "BACK", now=EVENING) == [
        sms(i18n.translate("en", NO_EARLIER, question=first))]


def test_newpoll_with_a_number_copies_that_poll_and_asks_whom(db, settings, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    with session_scope(db) as s:
        handler.create_checked(s, s.get(type(cluster), cluster.id), handler.store.load_template("services"), "t")
    assert say(db, settings, FAC, "NEWPOLL 99", now=EVENING) == ["No poll 99 in your cluster."]
    assert say(db, settings, FAC, "NEWPOLL 0", now=EVENING) == ["No poll 0 in your cluster."]
    assert step(db) is None
    assert say(db, settings, FAC, "NEWPOLL #1", now=EVENING)[0].startswith("10 questions. Who should answer?")
    assert say(db, settings, FAC, "all", now=EVENING)[0].startswith("When?")


def test_confirmation_has_buttons_on_telegram(db, settings, cluster, add_member):
    member = add_member(FAC, admin_role="facilitator", language="fr")
    with session_scope(db) as s:
        s.add(Identity(channel="telegram", address="700009", member_id=member.id))

    def tg(text: str):
        return receive(db, settings, Inbound("telegram", "700009", text, next_sid("T")), now=EVENING).replies

    tg("NEWPOLL")
    tg("2")
    tg("tous")
    (confirm,) = tg("demain 18h 6")
    assert [value for _label, value in json.loads(confirm.buttons)] == ["1", "2"]
    assert [label for label, _value in json.loads(confirm.buttons)] == ["OK", "Annuler"]
    (done,) = tg("annuler")  # a button's word counts as much as its number
    assert done.text == i18n.translate("fr", "Cancelled; nothing was saved.") and polls(db) == []
