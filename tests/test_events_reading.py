"""What facilitators and members type to the events commands, read by the shared parser (bot/parse.py) in
every language and on SMS and Telegram: dates and times in NEWEVENT and MOVE, event numbers, and members
named for ATTEND (issue 14 item 6: a phone written with spaces is one member)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot import i18n, router, sms
from bot.handlers.events import ERRORS, SEGMENT_ERRORS
from storage import events as store
from storage.db import session_scope, utcnow
from storage.events import CheckIn, Event
from storage.members import Member, get_or_create_identity
from tests.conftest import say
from tests.test_events import FAC, NOW, START, facilitator, make_event, state_of

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "sw", "fr", "am")
# 12 March 2026 at 14:00 in Dar es Salaam as each language writes it, and a day without its time.
STARTS = {"en": "Thursday 12 March 2pm", "sw": "Alhamisi 12 Machi saa 8 mchana", "fr": "jeudi 12 mars 14h",
          "am": "12 ማርች 14:00"}
NO_TIME = {"en": "tomorrow", "sw": "kesho", "fr": "demain", "am": "ነገ"}
TG_CHAT = "5550009"


def officer(db, add_member, lang: str, channel: str) -> str:
    """A facilitator speaking `lang`, reached by SMS or by a Telegram chat; the address to talk from."""
    fac = add_member(FAC, admin_role="facilitator", sector="facilitation", name="Neema", language=lang)
    if channel == "sms":
        return FAC
    with session_scope(db) as s:
        identity = get_or_create_identity(s, "telegram", TG_CHAT)
        identity.member_id, identity.language, identity.last_seen_at = fac.id, lang, utcnow()
        s.add(identity)
    return TG_CHAT


def shown(lang: str, channel: str, msgid, **values) -> str:
    text = i18n.translate(lang, msgid, tz="Africa/Dar_es_Salaam", region="TZ", **values)
    return sms.outgoing(text) if channel == "sms" else text


@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("lang", LANGS)
def test_newevent_reads_dates_in_the_facilitators_language(db, settings, cluster, add_member, lang, channel):
    address = officer(db, add_member, lang, channel)
    add_member("+255712000001")

    def fac(text: str) -> str:
        replies = say(db, settings, address, text, channel=channel, now=NOW)
        assert len(replies) == 1, replies
        return replies[0]

    fac(router.keyword("NEWEVENT", lang))
    fac("Vision workshop")
    fac("1")
    assert fac(NO_TIME[lang]) == shown(lang, channel, "Please add the time, for example 14/03 17:00.")
    assert fac("31/02 10:00") == shown(lang, channel, "There is no such day. Send a date like 14/03 or 14 March.")
    assert fac("next week") == shown(lang, channel, "Please send a date and time, e.g. 12/12 14:00, "
                                                    "2026-12-12 14:00 or 12 Dec 14:00")
    assert fac(STARTS[lang]) == shown(lang, channel, "Where will it be? (place, up to 32 letters)")
    fac("KNCU Hall")
    fac("25")
    fac(router.keyword("SKIP", lang))  # no answer deadline: answers until the start
    fac("all")
    fac(router.keyword("YES", lang))  # YES in the facilitator's language publishes
    with session_scope(db) as s:
        event = s.exec(select(Event)).one()
        assert (event.starts_at, event.rsvp_deadline, event.status) == (START, None, "published")


def test_newevent_back_and_a_deadline_as_a_day_alone(db, settings, cluster, add_member):
    facilitator(add_member)
    add_member("+255712000001")
    talk = lambda text: say(db, settings, FAC, text, now=NOW)[0]  # noqa: E731
    for text in ("NEWEVENT", "Vision workshop", "1"):
        talk(text)
    assert "kind of event" in talk("BACK")  # back to the kind, the title kept
    assert "start" in talk("3")
    assert "Where" in talk("12/03 14:00-17:30")
    assert "How many" in talk("Hall")
    assert "Please send a number" in talk("many")
    assert "Until when" in talk("1,000")  # the shared parser's thousands
    assert "Whom" in talk("10 March")  # a day alone: answers until its end
    assert "2 members invited" in talk("all")
    assert "Nothing was saved" in talk("hapana")  # NO in Swahili drops it
    with session_scope(db) as s:
        assert s.exec(select(Event)).all() == []  # dropped: nothing saved


def test_confirm_takes_yes_and_no_in_any_language_and_counts_in_the_plural_form(db, settings, cluster, add_member):
    facilitator(add_member)
    add_member("+255712000001", sector="dairy")
    answers = ("NEWEVENT", "Vision workshop", "1", "12/03 14:00", "Hall", "0", "10/03", "sector:dairy")
    for text in answers:
        reply = say(db, settings, FAC, text, now=NOW)[0]
    assert "1 member invited" in reply
    assert "1 invitation on its way" in say(db, settings, FAC, "ndiyo", now=NOW)[0]
    with session_scope(db) as s:
        event = s.exec(select(Event)).one()
        assert (event.capacity, event.rsvp_deadline) == (0, datetime(2026, 3, 10, 20, 59, tzinfo=UTC))


def test_move_reads_the_new_time_through_the_shared_parser(db, settings, cluster, add_member):
    facilitator(add_member)
    asha = add_member("+255712000001")
    make_event(db, cluster)
    say(db, settings, asha.phone, "YES 1", now=NOW)
    assert "add the time" in say(db, settings, FAC, "MOVE 1 19/03", now=NOW)[0]
    assert "no such day" in say(db, settings, FAC, "MOVE 1 30/02 10:00", now=NOW)[0]
    assert "new date" in say(db, settings, FAC, "MOVE abc 19/03 10:00", now=NOW)[0]
    assert "1 member is told" in say(db, settings, FAC, "MOVE #1 kesho saa 3 asubuhi", now=NOW)[0]
    with session_scope(db) as s:
        assert s.get(Event, 1).starts_at == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["YES #1", "yes no. 1", "OUI n° 1", "ndiyo namba 1", "YES 1 please"])
def test_event_numbers_as_members_write_them(db, settings, cluster, add_member, text):
    asha = add_member("+255712000001")
    event = make_event(db, cluster)
    assert "You are coming" in say(db, settings, asha.phone, text, now=NOW)[0]
    assert state_of(db, event, asha) == "yes"


@pytest.mark.parametrize("text", ["YES ١", "YES 1x", "YES 0", "YES 99999999999"])
def test_what_is_not_an_event_number_changes_nothing(db, settings, cluster, add_member, text):
    asha = add_member("+255712000001")
    event = make_event(db, cluster)
    reply = say(db, settings, asha.phone, text, now=NOW)
    assert len(reply) == 1 and "There is no event" in reply[0]
    assert state_of(db, event, asha) == "invited"


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_attend_reads_a_phone_with_spaces_as_one_member(db, settings, cluster, add_member, channel):
    address = officer(db, add_member, "en", channel)
    asha = add_member("+255712000006", name="Asha")
    juma = add_member("+255712000007", name="Juma", gender="male")
    make_event(db, cluster)

    def fac(text: str) -> str:
        return say(db, settings, address, text, channel=channel, now=START)[0]

    assert "Asha" in fac("ATTEND 1 0712 000 006") and "came to" in fac("ATTEND 1 0712 000 006")
    assert "2 members came" in fac(f"ATTEND 1 {asha.number}, 0712-000-007")
    assert "member's number" in fac("ATTEND 1 Asha")
    assert "No member 0712 000 999" in fac("ATTEND 1 0712 000 999")
    with session_scope(db) as s:
        assert sorted(c.member_id for c in s.exec(select(CheckIn))) == [asha.id, juma.id]


def test_attend_by_a_member_is_refused_and_a_bad_reference_records_nobody(db, settings, cluster, add_member):
    facilitator(add_member)
    asha = add_member("+255712000006")
    juma = add_member("+255712000007")
    make_event(db, cluster)
    assert "Only a facilitator" in say(db, settings, asha.phone, "ATTEND 1 0712 000 007", now=START)[0]
    assert "No member" in say(db, settings, FAC, f"ATTEND 1 {juma.number} MOSHI-999", now=START)[0]
    with session_scope(db) as s:
        assert s.exec(select(CheckIn)).all() == []
        assert s.get(Member, juma.id).status == "active"


def test_cli_reads_dates_and_members_the_same_way(db, settings, cluster, add_member, cli_run):
    add_member("+255712000006")
    code, out, _err = cli_run("event", "create", "Buyer visit", "--start", "12 Dec 2099 2pm to 5pm",
                              "--deadline", "10/12/2099", "--publish")
    assert code == 0 and "published, 1 invitations queued" in out
    code, _out, err = cli_run("event", "create", "Visit", "--start", "tomorrow")
    assert code == 2 and "Please add the time" in err
    code, _out, err = cli_run("event", "create", "Visit", "--start", "2001-01-01 10:00")
    assert code == 2 and "already past" in err
    code, _out, err = cli_run("event", "create", "x", "--start", "12/12/2099 10:00")
    assert code == 2 and "refused (bad_title): Please send a title" in err
    code, _out, err = cli_run("event", "attend", "1", "Asha")
    assert code == 2 and "member's number" in err
    with session_scope(db) as s:
        event = s.get(Event, 1)
        assert (event.ends_at - event.starts_at).seconds == 3 * 3600
        assert event.rsvp_deadline == datetime(2099, 12, 10, 20, 59, tzinfo=UTC)


def _codes(path: str, error: str) -> set[str]:
    return set(re.findall(error + r'\("(\w+)"', (ROOT / path).read_text()))


def test_every_rule_s_code_is_in_the_error_tables():
    event_codes = _codes("storage/events.py", "EventError")
    segment_codes = _codes("storage/segments.py", "SegmentError")
    assert event_codes and segment_codes
    assert event_codes <= ERRORS.keys(), event_codes - ERRORS.keys()
    assert segment_codes <= SEGMENT_ERRORS.keys(), segment_codes - SEGMENT_ERRORS.keys()
    assert store.EventError.__doc__ and all(code in store.EventError.__doc__ for code in event_codes)
