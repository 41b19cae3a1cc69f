"""Poll rounds end to end: questions by signed SMS webhook in four languages, Telegram buttons, SKIP,
out-of-range answers, commands sent mid-poll, queued questions, closed rounds and guided creation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot import i18n, router
from bot import outbox as out
from bot.handlers import COMMANDS
from bot.handlers import polls as handler
from bot.scheduler import run_due
from storage import polls as store
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.members import Identity, Member
from storage.messages import Conversation, OutboundMessage
from storage.polls import Poll, PollResponse, PollRound, Schedule
from tests.conftest import outbox, say

TZ = ZoneInfo("Africa/Dar_es_Salaam")
PHONE = "+255712000001"


def make_poll(db, cluster, template="satisfaction", *, start: datetime, every=0, window_hours=0, window_days=1,
              remind_days=3, close_days=7, audience=None, spec=None) -> int:
    """A poll from a template (or spec), scheduled at the aware `start` read in the cluster's timezone."""
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        poll = handler.create_checked(s, c, spec or store.load_template(template), "test")
        local = start.astimezone(ZoneInfo(c.timezone)).replace(tzinfo=None)
        store.schedule_poll(s, poll, c, Schedule(local, every, remind_days, close_days, window_hours, window_days),
                            start - timedelta(hours=1), audience=audience)
        return poll.id


def sms_text(text: str) -> str:
    return out.render_for_channel("sms", text)[0]


def responses(db) -> list[PollResponse]:
    with session_scope(db) as s:
        return list(s.exec(select(PollResponse).order_by(PollResponse.question_id)))


ANSWERS = {"en": ["4", "5", "3", "2", "4", "9", "More training on export"],
           "sw": ["4", "5", "3", "2", "4", "9", "Mafunzo zaidi"],
           "fr": ["4", "5", "3", "2", "4", "9", "Plus de formations"],
           "am": ["4", "5", "3", "2", "4", "9", "ተጨማሪ ስልጠና"]}


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_full_round_over_sms_in_each_language(db, settings, cluster, add_member, phone, lang):
    add_member(PHONE, language=lang)
    start = utcnow() - timedelta(minutes=5)
    poll_id = make_poll(db, cluster, start=start)
    assert run_due(db, settings, start + timedelta(minutes=1))["polls.rounds"] == 2
    intro, first = outbox(db, PHONE, kind="poll")
    with session_scope(db) as s:
        poll = s.get(Poll, poll_id)
        questions = store.questions(s, poll)
        title = poll.title_in(lang)
    assert sms_text(title) in intro.text
    assert first.text.startswith(sms_text(f"1/7 {questions[0].text_in(lang)}"))
    p = phone(PHONE)
    for number, answer in enumerate(ANSWERS[lang][:-1], start=2):
        reply = p.last(answer)
        assert reply.startswith(sms_text(f"{number}/7 {questions[number - 1].text_in(lang)}")), reply
    done = p.last(ANSWERS[lang][-1])
    assert done == sms_text(i18n.translate(lang, "Thank you! Your answers to {title} are saved.", title=title))
    got = responses(db)
    assert [r.value for r in got] == [4, 5, 3, 2, 4, 9, None]
    assert got[-1].text == ANSWERS[lang][-1]
    with session_scope(db) as s:
        assert s.exec(select(Conversation)).all() == []


def telegram_member(db, cluster, add_member, chat="900001", lang="sw") -> Member:
    member = add_member(PHONE, language=lang)
    with session_scope(db) as s:
        s.add(Identity(channel="telegram", address=chat, member_id=member.id, last_seen_at=utcnow() + timedelta(1)))
    return member


def test_full_round_over_telegram_with_buttons(db, settings, cluster, add_member):
    telegram_member(db, cluster, add_member)
    start = datetime(2030, 3, 2, 15, 0, tzinfo=ZoneInfo("UTC"))
    make_poll(db, cluster, start=start)
    run_due(db, settings, start)
    intro, first = outbox(db, "900001", kind="poll")
    assert first.channel == "telegram" and "Reply" not in first.text
    assert [value for _label, value in json.loads(first.buttons)] == ["1", "2", "3", "4", "5"]
    now = start + timedelta(minutes=3)
    for answer in ANSWERS["sw"][:5]:
        replies = say(db, settings, "900001", answer, channel="telegram", now=now)
    assert replies[0].startswith("6/7")
    with session_scope(db) as s:
        last = s.exec(select(OutboundMessage).order_by(OutboundMessage.id.desc())).first()
        assert [v for _l, v in json.loads(last.buttons)] == [str(v) for v in range(11)]
    say(db, settings, "900001", "10", channel="telegram", now=now)
    done = say(db, settings, "900001", "ruka", channel="telegram", now=now)
    assert "Asante" in done[0]
    got = responses(db)
    assert got[-1].skipped and [r.value for r in got[:6]] == [4, 5, 3, 2, 4, 10]


def test_out_of_range_and_unknown_answers_are_asked_again(db, settings, cluster, add_member):
    add_member(PHONE)
    start = datetime(2030, 3, 2, 15, 0, tzinfo=ZoneInfo("UTC"))
    make_poll(db, cluster, start=start)
    run_due(db, settings, start)
    again = say(db, settings, PHONE, "7", now=start)
    assert again[0] == "Please answer with a number from 1 to 5." and again[1].startswith("1/7")
    assert say(db, settings, PHONE, "very", now=start)[0] == "Please answer with a number from 1 to 5."
    assert responses(db) == []
    assert say(db, settings, PHONE, "skip", now=start)[0] == "This question cannot be skipped. Please answer it."
    assert responses(db) == []
    say(db, settings, PHONE, "5", now=start)
    assert [r.value for r in responses(db)] == [5]


def test_command_mid_poll_runs_and_the_poll_waits(db, settings, cluster, add_member):
    add_member(PHONE)
    start = datetime(2030, 3, 2, 15, 0, tzinfo=ZoneInfo("UTC"))
    make_poll(db, cluster, start=start)
    run_due(db, settings, start)
    say(db, settings, PHONE, "4", now=start)
    helped = say(db, settings, PHONE, "HELP", now=start)
    assert helped[0].startswith("You can send:")
    profile = say(db, settings, PHONE, "PROFILE", now=start)
    assert "MOSHI-001" in profile[0]
    if "BAL" in handler_commands():
        assert not say(db, settings, PHONE, "BAL", now=start)[0].startswith("2/7")
    assert say(db, settings, PHONE, "5", now=start)[0].startswith("3/7")
    assert [r.value for r in responses(db)] == [4, 5]


def handler_commands() -> set[str]:
    return set(COMMANDS)


def test_free_text_question_takes_words_but_a_lone_keyword_runs(db, settings, cluster, add_member):
    add_member(PHONE)
    start = datetime(2030, 3, 2, 15, 0, tzinfo=ZoneInfo("UTC"))
    spec = {"title": "Quick check", "questions": [{"kind": "text", "text": "What should change?"}]}
    make_poll(db, cluster, start=start, spec=spec)
    run_due(db, settings, start)
    assert "MOSHI-001" in say(db, settings, PHONE, "profile", now=start)[0]
    assert responses(db) == []
    done = say(db, settings, PHONE, "Profile visits to each firm, please", now=start)
    assert done[0].startswith("Thank you!")
    assert responses(db)[0].text == "Profile visits to each firm, please"


def test_question_waits_when_another_conversation_is_open(db, settings, cluster, add_member):
    add_member(PHONE, admin_role="facilitator")
    start = datetime(2030, 3, 2, 15, 0, tzinfo=ZoneInfo("UTC"))
    make_poll(db, cluster, start=start)
    say(db, settings, PHONE, "NEWPOLL", now=start - timedelta(minutes=1))
    run_due(db, settings, start)
    notes = outbox(db, PHONE, kind="poll")
    assert len(notes) == 1 and "Reply POLL" in notes[0].text
    assert say(db, settings, PHONE, "Market day", now=start)[0].startswith("Question 1:")
    first = say(db, settings, PHONE, "POLL", now=start)
    assert first[0].startswith("1/7")
    say(db, settings, PHONE, "3", now=start)
    assert [r.value for r in responses(db)] == [3]


def test_answer_after_the_round_closed_is_refused(db, settings, cluster, add_member):
    add_member(PHONE)
    start = datetime(2030, 3, 2, 15, 0, tzinfo=ZoneInfo("UTC"))
    make_poll(db, cluster, start=start, close_days=1, remind_days=0)
    run_due(db, settings, start)
    say(db, settings, PHONE, "4", now=start + timedelta(hours=23))
    run_due(db, settings, start + timedelta(days=1))
    assert say(db, settings, PHONE, "4", now=start + timedelta(days=1, minutes=1)) == [
        "Sorry, this poll has closed; your answer was not saved."]
    assert [r.value for r in responses(db)] == [4]
    assert say(db, settings, PHONE, "POLL", now=start + timedelta(days=1, minutes=2)) == [
        "You have no poll to answer right now."]


def test_second_answer_replaces_the_first_while_open(db, settings, cluster, add_member):
    add_member(PHONE)
    start = datetime(2030, 3, 2, 15, 0, tzinfo=ZoneInfo("UTC"))
    spec = {"title": "Two", "questions": [{"kind": "yesno", "text": "Did you attend?"},
                                          {"kind": "choice", "text": "Which product?",
                                           "options": ["Coffee", "Maize", "Milk"]}]}
    make_poll(db, cluster, start=start, spec=spec)
    run_due(db, settings, start)
    assert say(db, settings, PHONE, "yes", now=start)[0].startswith("2/2 Which product? 1 Coffee, 2 Maize")
    assert say(db, settings, PHONE, "milk", now=start)[0].startswith("Thank you")
    assert "POLL 2" in say(db, settings, PHONE, "POLL", now=start)[0]
    assert say(db, settings, PHONE, "POLL 1", now=start)[0].startswith("1/2 Did you attend?")
    say(db, settings, PHONE, "2", now=start)
    assert [r.value for r in responses(db)] == [2, 3]


def test_stop_mid_poll_ends_the_conversation_and_no_reminder_follows(db, settings, cluster, add_member):
    add_member(PHONE)
    start = datetime(2030, 3, 2, 15, 0, tzinfo=ZoneInfo("UTC"))
    make_poll(db, cluster, start=start)
    run_due(db, settings, start)
    say(db, settings, PHONE, "STOP", now=start)
    run_due(db, settings, start + timedelta(days=4))
    assert len(outbox(db, PHONE, kind="poll")) == 2


def test_facilitator_creates_a_poll_by_message(db, settings, cluster, add_member):
    fac = "+255712000009"
    add_member(fac, admin_role="facilitator")
    now = datetime(2030, 3, 2, 8, 0, tzinfo=ZoneInfo("UTC"))
    assert say(db, settings, fac, "NEWPOLL", now=now)[0].startswith("New poll")
    assert say(db, settings, fac, "Market day check", now=now)[0].startswith("Question 1:")
    assert say(db, settings, fac, "0", now=now)[0] == "A poll needs at least one question."
    assert say(db, settings, fac, "3", now=now)[0] == "Send the text of question 1."
    assert "options" in say(db, settings, fac, "Which market day suits you?", now=now)[0]
    refused = say(db, settings, fac, "a,b,c,d,e,f,g,h,i,j,k", now=now)
    assert refused == ["A question needs 2 to 10 options. Send them separated by commas."]
    assert say(db, settings, fac, "Monday, Wednesday, Saturday", now=now)[0].startswith("Question 2:")
    say(db, settings, fac, "2", now=now)
    say(db, settings, fac, "Do you sell at the market?", now=now)
    assert say(db, settings, fac, "0", now=now)[0].startswith("2 questions")
    assert "audience" in say(db, settings, fac, "colour:red", now=now)[0]
    assert say(db, settings, fac, "sector:tailoring", now=now)[0].startswith("When?")
    assert say(db, settings, fac, "2020-01-01 18:00 0", now=now)[0].startswith("Please send a future date")
    confirm = say(db, settings, fac, "2030-03-05 18:00 3", now=now)[0]
    assert "Market day check" in confirm and "Reply 1 OK" in confirm
    done = say(db, settings, fac, "1", now=now)[0]
    assert done.startswith("Poll 1 is scheduled")
    with session_scope(db) as s:
        poll = s.get(Poll, 1)
        assert (poll.status, poll.every_months, poll.audience) == ("scheduled", 3, "sector:tailoring")
        assert poll.start_at == datetime(2030, 3, 5, 15, 0, tzinfo=ZoneInfo("UTC"))
        assert [q.kind for q in store.questions(s, poll)] == ["choice", "yesno"]


def test_facilitator_copies_a_template_by_message(db, settings, cluster, add_member):
    fac = "+255712000009"
    add_member(fac, admin_role="facilitator", language="sw")
    now = datetime(2030, 3, 2, 8, 0, tzinfo=ZoneInfo("UTC"))
    say(db, settings, fac, router.keyword("NEWPOLL", "sw"), now=now)
    assert say(db, settings, fac, "2", now=now)[0].startswith("Maswali 10")
    say(db, settings, fac, "wote", now=now)
    say(db, settings, fac, "2030-06-01 18:00 6", now=now)
    say(db, settings, fac, "1", now=now)
    with session_scope(db) as s:
        poll = s.get(Poll, 1)
        assert poll.template == "services" and poll.every_months == 6 and len(store.questions(s, poll)) == 10


def test_members_may_not_run_facilitator_commands(db, settings, cluster, add_member):
    add_member(PHONE)
    assert say(db, settings, PHONE, "NEWPOLL") == ["Only a facilitator can do that."]
    assert say(db, settings, PHONE, "RESULTS 1") == ["Only a facilitator can do that."]
    with session_scope(db) as s:
        assert s.exec(select(Poll)).all() == [] and s.exec(select(PollRound)).all() == []
