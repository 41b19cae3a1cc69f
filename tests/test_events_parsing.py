"""Reading dates and segments as facilitators write them, and the events catalog in every language."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest

from bot import i18n, router, sms
from bot.catalog import extract, placeholders
from bot.handlers import events as handlers
from bot.handlers.events import WhenError, parse_when
from storage import events as store
from storage.clusters import Cluster
from storage.db import session_scope
from storage.segments import Segment, SegmentError, count_members, describe, parse_segment, select_members
from tests.test_events import NOW, make_event

TZ = "Africa/Dar_es_Salaam"
DEC_12_14H = datetime(2026, 12, 12, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["12/12 14:00", "2026-12-12 14:00", "12 Dec 14:00", "12 déc. 14h", "Dec 12 2pm",
                                  "12 Desemba 14:00", "12/12/26 14.00", "12 December 2026 14:00", "12-12 2 PM"])
def test_dates_in_the_usual_formats_are_read_in_the_cluster_timezone(text):
    assert parse_when(text, TZ, NOW) == (DEC_12_14H, None)


def test_ranges_dates_without_year_and_dates_alone():
    assert parse_when("12/12 14:00-17:30", TZ, NOW) == (DEC_12_14H, datetime(2026, 12, 12, 14, 30, tzinfo=UTC))
    assert parse_when("1 Jan 09:00", TZ, datetime(2026, 6, 1, tzinfo=UTC))[0].year == 2027  # the coming one
    assert parse_when("01/03 10:00", TZ, NOW)[0] < NOW  # yesterday stays yesterday, to be refused
    assert parse_when("12/12", TZ, NOW, need_time=False)[0] == datetime(2026, 12, 12, 20, 59, tzinfo=UTC)
    assert parse_when("12/12 14:00", "Africa/Dakar", NOW)[0] == datetime(2026, 12, 12, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("text,code", [("tomorrow", "format"), ("32/12 14:00", "format"), ("12/12", "no_time"),
                                       ("12/12 25:00", "format"), ("12/13 10:00", "format"), ("", "format"),
                                       ("12/12 13pm", "format"), ("12/12 10:00-11:00-12:00", "format")])
def test_unreadable_dates_are_refused(text, code):
    with pytest.raises(WhenError) as refused:
        parse_when(text, TZ, NOW)
    assert refused.value.code == code


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
    from storage.clusters import create_cluster

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


def _events_messages() -> list[str]:
    return [m.msgid for m in extract().values() if m.domain == "events"]


def test_every_message_is_translated_and_fits_one_sms():
    samples = {"name": "Mwanaisha Abdallah Mwakalinga", "number": "MOSHI-1234", "count": "1200",
               "keyword": "GHAIRITUKIO", "word": "sector-tailoring", **handlers.SAMPLES}
    problems = []
    for msgid in _events_messages():
        values = {name: samples[name] for name in placeholders(msgid)}
        for lang in i18n.LANGUAGES:
            text = i18n.gettext_for(lang, msgid)
            if lang != "en" and text == msgid:
                problems.append(f"{lang} untranslated: {msgid}")
            if placeholders(text) != placeholders(msgid):
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
    for msgid in _events_messages():
        for lang in ("sw", "fr", "am"):
            text = i18n.gettext_for(lang, msgid)
            for name, words in commands.items():
                english, own = name, words[lang][0].upper()
                if f"{english} " in msgid and english != own and f"{english} " in text:
                    problems.append(f"{lang}: {english} left in {text}")
    assert problems == []
    for name, words in commands.items():
        for lang, spelled in words.items():
            for word in spelled:
                assert router.match(f"{word} 12").command == name, (lang, word)
