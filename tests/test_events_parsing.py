"""Reading dates and segments as facilitators write them, and the events catalog in every language."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest

from bot import i18n, parse, router, sms
from bot.catalog import extract, placeholders
from bot.handlers import events as handlers
from bot.handlers.events import END_OF_DAY, read_span
from storage import events as store
from storage.clusters import Cluster, create_cluster
from storage.db import session_scope
from storage.segments import Segment, SegmentError, count_members, describe, parse_segment, select_members
from tests.test_events import NOW, make_event

TZ = "Africa/Dar_es_Salaam"
DEC_12_14H = datetime(2026, 12, 12, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["12/12 14:00", "2026-12-12 14:00", "12 Dec 14:00", "12 déc. 14h", "Dec 12 2pm",
                                  "12 Desemba 14:00", "12/12/26 14.00", "12 December 2026 14:00", "12-12 2 PM"])
def test_dates_in_the_usual_formats_are_read_in_the_cluster_timezone(text):
    assert parse.span(text, TZ, NOW) == (DEC_12_14H, None)
    assert read_span(text, TZ, NOW) == (DEC_12_14H, None)


def test_ranges_dates_without_year_and_dates_alone():
    assert parse.span("12/12 14:00-17:30", TZ, NOW) == (DEC_12_14H, datetime(2026, 12, 12, 14, 30, tzinfo=UTC))
    assert parse.span("1 Jan 09:00", TZ, datetime(2026, 6, 1, tzinfo=UTC))[0].year == 2027  # the coming one
    assert read_span("01/03 10:00", TZ, NOW)[0] < NOW  # yesterday stays yesterday, to be refused
    assert parse.span("12/12", TZ, NOW, default_time=END_OF_DAY)[0] == datetime(2026, 12, 12, 20, 59, tzinfo=UTC)
    assert parse.span("12/12 14:00", "Africa/Dakar", NOW)[0] == datetime(2026, 12, 12, 14, 0, tzinfo=UTC)


def test_a_date_without_year_just_gone_is_the_past_for_events_and_next_year_for_the_shared_parser():
    """bot.parse reads a date without a year as the next such date, so '01/03 10:00' the day after is
    1 March 2027; events keep their rule that a date of the last 60 days is that past date, refused."""
    assert parse.span("01/03 10:00", TZ, NOW)[0] == datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
    assert read_span("01/03 10:00", TZ, NOW)[0] == datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    assert read_span("01/03 10:00-12:00", TZ, NOW)[1] == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert read_span("01/01 10:00", TZ, NOW)[0].year == 2027  # two months gone: next year's, as bot.parse
    assert read_span("02/03 17:00", TZ, NOW)[0] == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # later today
    for text in ("tomorrow 9:00", "kesho saa 3 asubuhi", "demain 9h", "Monday 9:00", "09:00", "01/03/2027 10:00"):
        assert read_span(text, TZ, NOW) == parse.span(text, TZ, NOW), text
    with pytest.raises(parse.ParseError) as refused:
        read_span("01/03/2026 10:00", TZ, NOW)  # a year written: bot.parse refuses it itself
    assert refused.value.code == "past"


def _old_code(exc: parse.ParseError) -> str:
    """The events parser's two codes: "no_time", or "format" for anything else it could not read."""
    return "no_time" if exc.code == "no_time" else "format"


TOMORROW_IS_READ = pytest.mark.xfail(strict=True, reason="bot.parse reads 'tomorrow' (issue 13 item 3) and "
                                     "refuses it for want of a time: code no_time, not format")


@pytest.mark.parametrize("text,code", [pytest.param("tomorrow", "format", marks=TOMORROW_IS_READ),
                                       ("32/12 14:00", "format"), ("12/12", "no_time"),
                                       ("12/12 25:00", "format"), ("12/13 10:00", "format"), ("", "format"),
                                       ("12/12 13pm", "format"), ("12/12 10:00-11:00-12:00", "format")])
def test_unreadable_dates_are_refused(text, code):
    with pytest.raises(parse.ParseError) as refused:
        read_span(text, TZ, NOW)
    assert _old_code(refused.value) == code


def test_segment_text_round_trips_and_reads_other_languages():
    segment = parse_segment("sector:tailoring,leather location:Moshi Town gender:F role:university")
    assert segment == Segment(sector=("tailoring", "leather"), location=("Moshi Town",), gender=("female",),
                              role=("academia",))
    assert parse_segment(describe(segment)) == segment
    assert parse_segment("sekta:ushonaji mahali:Moshi jinsia:ke") == Segment(
        sector=("ushonaji",), location=("Moshi",), gender=("female",))
    assert parse_segment("ALL").is_all and parse_segment("wote").is_all and describe(Segment()) == "all"
    assert parse_segment("event:#12 event:14").event == (12, 14)


@pytest.mark.parametrize("text,code", [("", "empty"), ("colour:red", "unknown_key"), ("tailoring", "unknown_key"),
                                       ("gender:q", "bad_gender"), ("role:wizard", "bad_role"),
                                       ("event:abc", "bad_event"), ("sector:", "missing_value")])
def test_segment_errors_have_codes(text, code):
    with pytest.raises(SegmentError) as refused:
        parse_segment(text)
    assert refused.value.code == code


def test_segments_select_only_active_members_of_the_cluster(db, cluster, add_member):
    with session_scope(db) as s:
        other = create_cluster(s, "Dakar Fish", "DAKAR", timezone="Africa/Dakar", region="SN")
    a = add_member("+255712000001", sector="Tailoring", location="Thiès")
    b = add_member("+255712000002", sector="tailoring", location="thies", gender="male")
    c = add_member("+255712000003", sector="dairy", location="Moshi", role="academia")
    add_member("+255712000004", status="pending")
    add_member("+221771234567", cluster_obj=other)
    with session_scope(db) as s:
        moshi = s.get(Cluster, cluster.id)

        def ids(text: str) -> list[int]:
            return [m.id for m in select_members(s, moshi, parse_segment(text))]

        assert ids("location:Thies sector:TAILORING") == [a.id, b.id]
        assert ids("gender:M") == [b.id]
        assert ids("role:academia") == [c.id]
        assert ids("sector:dairy,tailoring location:moshi") == [c.id]
        assert count_members(s, moshi, parse_segment("all")) == 3


def test_event_segment_reaches_those_who_said_yes_or_came(db, settings, cluster, add_member):
    a, b, c = (add_member(f"+25571200000{i}") for i in (1, 2, 3))
    event = make_event(db, cluster)
    with session_scope(db) as s:
        moshi = s.get(Cluster, cluster.id)
        store.answer(s, moshi, event.id, s.get(type(a), a.id), "yes", now=NOW)
        store.answer(s, moshi, event.id, s.get(type(b), b.id), "maybe", now=NOW)
        store.mark_attendance(s, moshi, event.id, s.get(type(c), c.id), event.starts_at)
        assert [m.id for m in select_members(s, moshi, parse_segment(f"event:{event.id}"))] == [a.id, c.id]
        with pytest.raises(SegmentError) as unknown:
            select_members(s, moshi, parse_segment("event:999"))
        assert unknown.value.code == "unknown_event"


def _forms(lang: str, message) -> list[str]:
    """Every text a message can take in a language: one, or each plural form (1, 2, 5, 1200 pick them)."""
    if not message.plural:
        return [i18n.gettext_for(lang, message.msgid)]
    return list(dict.fromkeys(i18n.ngettext_for(lang, message.key, n) for n in (1, 2, 5, 1200)))


def test_every_message_is_translated_and_fits_one_sms():
    samples = {"name": "Mwanaisha Abdallah Mwakalinga", "number": "MOSHI-1234", "count": "1200",
               "keyword": "GHAIRITUKIO", "word": "sector-tailoring", **handlers.SAMPLES}
    problems = []
    for message in (m for m in extract().values() if m.domain == "events"):
        msgid = message.msgid
        values = {name: samples[name] for name in message.placeholders}
        for lang in i18n.LANGUAGES:
            for text in _forms(lang, message):
                if lang != "en" and text in (msgid, message.plural):
                    problems.append(f"{lang} untranslated: {msgid}")
                if placeholders(text) != message.placeholders:
                    problems.append(f"{lang} placeholders differ: {msgid}")
                filled = text.format(**values)
                limit = 134 if sms.encode(filled).encoding == "UCS-2" else 160
                if not sms.fits(filled) or len(filled) > limit:
                    problems.append(f"{lang} too long ({len(filled)}): {filled}")
    assert problems == []


def test_translations_name_the_keywords_of_their_own_language():
    with open(router.KEYWORDS_DIR / "events.toml", "rb") as fh:
        commands = tomllib.load(fh)
    commands = {name: words for name, words in commands.items()}
    problems = []
    for message in (m for m in extract().values() if m.domain == "events"):
        msgid = message.msgid
        for lang in ("sw", "fr", "am"):
            for text, (name, words) in ((t, c) for t in _forms(lang, message) for c in commands.items()):
                english, own = name, words[lang][0].upper()
                if f"{english} " in msgid and english != own and f"{english} " in text:
                    problems.append(f"{lang}: {english} left in {text}")
    assert problems == []
    for name, words in commands.items():
        for lang, spelled in words.items():
            for word in spelled:
                assert router.match(f"{word} 12").command == name, (lang, word)
