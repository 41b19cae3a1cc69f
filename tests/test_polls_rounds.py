"""Scheduled rounds with a controllable clock: recurring dates in the cluster's timezone, the send window,
reminders to non-respondents only, closing, and restarts that neither skip nor repeat."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.scheduler import run_due
from storage import polls as store
from storage.clusters import Cluster, create_cluster
from storage.db import make_engine, session_scope
from storage.polls import Poll, PollError, PollRecipient, PollRound, Schedule
from tests.conftest import outbox, say
from tests.test_polls import make_poll

UTC = ZoneInfo("UTC")
START = datetime(2030, 1, 15, 15, 0, tzinfo=UTC)  # 18:00 in Dar es Salaam (UTC+3)


def phones(n: int) -> list[str]:
    return [f"+2557120001{i:02d}" for i in range(n)]


def rounds(db) -> list[PollRound]:
    with session_scope(db) as s:
        return list(s.exec(select(PollRound).order_by(PollRound.number)))


def test_half_yearly_rounds_open_at_local_time_every_six_months(db, settings, cluster, add_member):
    add_member(phones(1)[0])
    make_poll(db, cluster, start=START, every=6)
    assert run_due(db, settings, START - timedelta(minutes=1))["polls.rounds"] == 0
    run_due(db, settings, START)
    run_due(db, settings, START + timedelta(days=30))
    assert [r.number for r in rounds(db)] == [1]
    run_due(db, settings, datetime(2030, 7, 15, 14, 59, tzinfo=UTC))
    assert len(rounds(db)) == 1
    run_due(db, settings, datetime(2030, 7, 15, 15, 0, tzinfo=UTC))
    run_due(db, settings, datetime(2031, 1, 15, 15, 0, tzinfo=UTC))
    assert [(r.number, r.due_at) for r in rounds(db)] == [
        (1, START), (2, datetime(2030, 7, 15, 15, 0, tzinfo=UTC)), (3, datetime(2031, 1, 15, 15, 0, tzinfo=UTC))]
    assert len(outbox(db, phones(1)[0], kind="poll")) == 3 * 2  # intro + question; no wake-up on reminder days


def test_recurrence_follows_the_clusters_timezone_across_daylight_saving(db):
    with session_scope(db) as s:
        paris = create_cluster(s, "Lyon Textile", "LYON", timezone="Europe/Paris", region="FR")
        poll = store.create_poll(s, paris, store.load_template("services"))
        store.schedule_poll(s, poll, paris, Schedule(datetime(2030, 1, 31, 18, 0), every_months=1),
                            datetime(2030, 1, 1, tzinfo=UTC))
        dues = [store.round_due(poll, paris.timezone, i) for i in range(4)]
    local = [d.astimezone(ZoneInfo("Europe/Paris")) for d in dues]
    assert [(d.month, d.day, d.hour) for d in local] == [(1, 31, 18), (2, 28, 18), (3, 31, 18), (4, 30, 18)]
    assert [d.hour for d in dues] == [17, 17, 16, 16]  # UTC shifts with summer time, local time does not


def test_first_messages_are_spread_over_three_evenings(db, settings, cluster, add_member):
    numbers = phones(12)
    for number in numbers:
        add_member(number)
    make_poll(db, cluster, start=START, window_hours=2, window_days=3)
    with session_scope(db) as s:
        expected = store.slot_times(START, "Africa/Dar_es_Salaam", 12, 2, 3)
    assert expected[0] == START and expected[4] == START + timedelta(days=1)
    assert max(expected) < START + timedelta(days=2, hours=2)
    run_due(db, settings, START)
    assert len(outbox(db, kind="poll")) == 1 * 2
    run_due(db, settings, START + timedelta(hours=1, minutes=59))
    assert len(outbox(db, kind="poll")) == 4 * 2
    run_due(db, settings, START + timedelta(hours=3))
    assert len(outbox(db, kind="poll")) == 4 * 2  # nothing outside the evening window
    run_due(db, settings, START + timedelta(days=1, hours=2))
    run_due(db, settings, START + timedelta(days=2, hours=2))
    assert len(outbox(db, kind="poll")) == 12 * 2
    with session_scope(db) as s:
        slots = sorted(r.slot_at for r in s.exec(select(PollRecipient)))
        assert slots == expected
        assert all(18 <= slot.astimezone(ZoneInfo("Africa/Dar_es_Salaam")).hour < 20 for slot in slots)


def test_reminders_go_only_to_members_who_answered_nothing(db, settings, cluster, add_member):
    answered, skipped_only, silent = phones(3)
    for number in (answered, skipped_only, silent):
        add_member(number)
    spec = {"title": "Short", "questions": [{"kind": "text", "text": "Any idea?"},
                                            {"kind": "rating", "text": "How good?"}]}
    make_poll(db, cluster, start=START, spec=spec, remind_days=3)
    run_due(db, settings, START)
    say(db, settings, answered, "More fairs", now=START + timedelta(hours=1))
    say(db, settings, skipped_only, "SKIP", now=START + timedelta(hours=1))
    run_due(db, settings, START + timedelta(days=2, hours=23))
    assert all(len(outbox(db, n, kind="poll")) == 2 for n in (answered, skipped_only, silent))
    run_due(db, settings, START + timedelta(days=3))
    run_due(db, settings, START + timedelta(days=4))
    assert len(outbox(db, answered, kind="poll")) == 2
    reminded = [m.text for m in outbox(db, silent, kind="poll")[2:]] + \
        [m.text for m in outbox(db, skipped_only, kind="poll")[2:]]
    assert len(reminded) == 2 and all(t.startswith("Reminder:") and "Reply POLL" in t for t in reminded)
    assert rounds(db)[0].status == "reminder"
    assert say(db, settings, silent, "POLL", now=START + timedelta(days=4))[0].startswith("1/2 Any idea?")


def test_restart_mid_round_neither_skips_nor_repeats(settings, cluster, add_member):
    numbers = phones(9)
    for number in numbers:
        add_member(number)
    add_member("+255712000999", admin_role="facilitator")
    first = make_engine(settings.database_url)
    make_poll(first, cluster, start=START, window_hours=2, window_days=3, remind_days=3, close_days=7)
    run_due(first, settings, START + timedelta(hours=1))
    run_due(first, settings, START + timedelta(hours=1))
    sent_first_evening = len(outbox(first, kind="poll"))
    first.dispose()  # the process stops; only the database remains
    second = make_engine(settings.database_url)
    run_due(second, settings, START + timedelta(hours=1))
    assert len(outbox(second, kind="poll")) == sent_first_evening
    gap = START + timedelta(days=5, hours=2)  # a gap: two evenings and the reminders at once
    run_due(second, settings, gap)
    run_due(second, settings, gap)
    polls = outbox(second, kind="poll")
    assert len([m for m in polls if m.text.startswith("1/")]) == 10  # every recipient once (facilitator too)
    assert len([m for m in polls if m.text.startswith("Reminder:")]) == 10
    for _ in range(3):
        run_due(second, settings, START + timedelta(days=8))
    notices = [m for m in outbox(second, "+255712000999") if m.kind == "notice"]
    assert len(notices) == 1 and "0 of 10 members answered" in notices[0].text
    assert len(outbox(second, kind="poll")) == 30  # intro, first question, reminder: once each
    assert [r.status for r in rounds(second)] == ["closed"]
    second.dispose()


def test_cancelled_poll_opens_no_more_rounds(db, settings, cluster, add_member):
    add_member(phones(1)[0])
    poll_id = make_poll(db, cluster, start=START, every=6)
    run_due(db, settings, START)
    with session_scope(db) as s:
        store.cancel_poll(s, s.get(Poll, poll_id), START + timedelta(days=1))
    run_due(db, settings, START + timedelta(days=400))
    assert [(r.number, r.status) for r in rounds(db)] == [(1, "closed")]


@pytest.mark.parametrize("schedule, code", [
    (Schedule(datetime(2030, 1, 15, 18, 0), every_months=1, close_days=30), "bad_close"),
    (Schedule(datetime(2030, 1, 15, 18, 0), remind_days=7, close_days=7), "bad_close"),
    (Schedule(datetime(2030, 1, 15, 18, 0), window_days=9), "bad_window"),
    (Schedule(datetime(2020, 1, 15, 18, 0)), "start_past"),
])
def test_bad_schedules_are_refused_and_nothing_changes(db, cluster, schedule, code):
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        poll = store.create_poll(s, c, store.load_template("satisfaction"))
        with pytest.raises(PollError) as caught:
            store.schedule_poll(s, poll, c, schedule, datetime(2030, 1, 1, tzinfo=UTC))
        assert caught.value.code == code and poll.status == "draft" and poll.start_at is None
