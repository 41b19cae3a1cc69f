"""Event rules called directly: capacity under concurrent YES, reminders on a controlled clock, exports, CLI."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import scheduler
from bot.cli import main as cli_main
from storage import events as store
from storage.clusters import Cluster
from storage.db import make_engine, session_scope
from storage.events import Event, EventError, Invitation
from storage.members import Member
from storage.models import export_registry as registry
from tests.conftest import outbox, say
from tests.test_events import FAC, NOW, START, facilitator, make_event


def answer(db, cluster, event: Event, member: Member, choice: str, now: datetime = NOW) -> store.Answered:
    with session_scope(db) as s:
        return store.answer(s, s.get(Cluster, cluster.id), event.id, s.get(Member, member.id), choice, now=now)


def reminders(db, address: str) -> list[str]:
    return [m.text for m in outbox(db, address, kind="reminder")]


def test_concurrent_yes_never_exceeds_capacity(db, cluster, add_member):
    members = [add_member(f"+2557120001{i:02d}") for i in range(24)]
    event = make_event(db, cluster, capacity=5)
    barrier = threading.Barrier(len(members))
    errors: list[BaseException] = []

    def say_yes(member: Member) -> None:
        try:
            barrier.wait()
            answer(db, cluster, event, member, "yes")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=say_yes, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(db) as s:
        rows = s.exec(select(Invitation).where(Invitation.event_id == event.id)).all()
        assert sum(r.state == "yes" for r in rows) == 5
        waiting = [r for r in rows if r.state == "waitlist"]
        assert sorted(store.position(s, r) for r in waiting) == list(range(1, 20))
    declined = next(r for r in rows if r.state == "yes")
    first = min(waiting, key=lambda r: r.waitlist_seq)
    result = answer(db, cluster, event, next(m for m in members if m.id == declined.member_id), "no")
    assert [m.id for m in result.promoted] == [first.member_id]
    with session_scope(db) as s:
        assert s.exec(select(Invitation).where(Invitation.event_id == event.id,
                                               Invitation.state == "yes")).all().__len__() == 5


def test_waitlisted_member_who_declines_leaves_the_line(db, cluster, add_member):
    a, b, c = (add_member(f"+25571200000{i}") for i in (1, 2, 3))
    event = make_event(db, cluster, capacity=1)
    answer(db, cluster, event, a, "yes")
    assert answer(db, cluster, event, b, "yes").position == 1
    assert answer(db, cluster, event, c, "yes").position == 2
    assert answer(db, cluster, event, b, "maybe").promoted == []
    assert answer(db, cluster, event, c, "yes").position == 1


def test_reminders_fire_at_local_times_exactly_once_across_a_restart(db, settings, cluster, add_member):
    yes, maybe, silent, no = (add_member(f"+25571200000{i}") for i in (1, 2, 3, 4))
    event = make_event(db, cluster)
    answer(db, cluster, event, yes, "yes")
    answer(db, cluster, event, maybe, "maybe")
    answer(db, cluster, event, no, "no")
    day_before = START - timedelta(days=1)  # 11 March 14:00 in Dar es Salaam
    scheduler.run_due(db, settings, day_before - timedelta(minutes=1))
    assert outbox(db, kind="reminder") == []
    assert scheduler.run_due(db, settings, day_before)["events.reminders"] == 2
    assert len(reminders(db, yes.phone)) == 1 and "Thu 12 Mar 14:00" in reminders(db, yes.phone)[0]
    assert len(reminders(db, silent.phone)) == 1 and "Please answer" in reminders(db, silent.phone)[0]
    assert reminders(db, maybe.phone) == reminders(db, no.phone) == []
    scheduler.run_due(db, settings, day_before + timedelta(minutes=5))
    restarted = make_engine(settings.database_url)  # a new process: only the database remains
    scheduler.run_due(restarted, settings, day_before + timedelta(minutes=10))
    restarted.dispose()
    assert len(outbox(db, kind="reminder")) == 2
    scheduler.run_due(db, settings, START - timedelta(hours=2, minutes=1))
    assert len(reminders(db, yes.phone)) == 1
    scheduler.run_due(db, settings, START - timedelta(hours=2))
    assert len(reminders(db, yes.phone)) == 2
    scheduler.run_due(db, settings, START - timedelta(hours=1))
    scheduler.run_due(db, settings, START + timedelta(minutes=1))
    assert len(outbox(db, kind="reminder")) == 3


def test_late_run_sends_one_reminder_while_the_event_has_not_started(db, settings, cluster, add_member):
    yes = add_member("+255712000001")
    event = make_event(db, cluster)
    answer(db, cluster, event, yes, "yes")
    scheduler.run_due(db, settings, START - timedelta(minutes=30))  # down since before both reminders
    assert len(reminders(db, yes.phone)) == 1
    scheduler.run_due(db, settings, START - timedelta(minutes=20))
    assert len(reminders(db, yes.phone)) == 1


def test_reminders_are_configurable_per_event(db, settings, cluster, add_member):
    yes = add_member("+255712000001")
    event = make_event(db, cluster, reminders="3h", deadline_reminder=0)
    answer(db, cluster, event, yes, "yes")
    scheduler.run_due(db, settings, START - timedelta(days=1))
    scheduler.run_due(db, settings, START - timedelta(hours=3, minutes=1))
    assert reminders(db, yes.phone) == []
    scheduler.run_due(db, settings, START - timedelta(hours=3))
    assert len(reminders(db, yes.phone)) == 1
    with session_scope(db) as s:
        store.set_reminders(s, s.get(Cluster, cluster.id), event.id, "1d,90m")
    scheduler.run_due(db, settings, START - timedelta(minutes=91))
    assert len(reminders(db, yes.phone)) == 2  # the day-before slot, late, coalesced into one message
    scheduler.run_due(db, settings, START - timedelta(minutes=90))
    assert len(reminders(db, yes.phone)) == 3
    with pytest.raises(EventError):
        store.parse_reminders("3 weeks")


def test_moved_event_gets_new_reminders_and_cancelled_gets_none(db, settings, cluster, add_member):
    facilitator(add_member)
    yes = add_member("+255712000001")
    other = add_member("+255712000002", location="Arusha")
    make_event(db, cluster, segment="sector:tailoring location:Moshi")
    second = make_event(db, cluster, segment="location:Arusha")
    say(db, settings, yes.phone, "YES 1", now=NOW)
    say(db, settings, other.phone, "YES 2", now=NOW)
    scheduler.run_due(db, settings, START - timedelta(days=1))
    assert len(reminders(db, yes.phone)) == 1
    say(db, settings, FAC, "MOVE 1 19/03 10:00", now=START - timedelta(hours=23))
    say(db, settings, FAC, f"CANCELEVENT {second.id}", now=START - timedelta(hours=23))
    scheduler.run_due(db, settings, START - timedelta(hours=2))
    assert len(reminders(db, yes.phone)) == 1
    new_start = datetime(2026, 3, 19, 7, 0, tzinfo=UTC)
    scheduler.run_due(db, settings, new_start - timedelta(days=1))
    assert len(reminders(db, yes.phone)) == 2 and "Thu 19 Mar 10:00" in reminders(db, yes.phone)[1]
    assert len(reminders(db, other.phone)) == 1  # only the one sent before the cancellation


def test_cancel_and_move_refused_after_the_event(db, cluster, add_member):
    add_member("+255712000001")
    event = make_event(db, cluster)
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        with pytest.raises(EventError) as moved:
            store.move(s, c, event.id, START + timedelta(days=3), START + timedelta(minutes=1))
        with pytest.raises(EventError) as cancelled:
            store.cancel(s, c, event.id, START + timedelta(hours=4))
    assert (moved.value.code, cancelled.value.code) == ("started", "started")


def test_create_refuses_past_dates_and_bad_values(db, cluster):
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        for fields, code in (({"starts_at": NOW - timedelta(minutes=1)}, "past"),
                             ({"ends_at": START - timedelta(hours=1)}, "bad_end"),
                             ({"rsvp_deadline": START + timedelta(hours=1)}, "bad_deadline"),
                             ({"title": "x"}, "bad_title"), ({"kind": "party"}, "bad_kind"),
                             ({"capacity": -1}, "bad_capacity")):
            values = {"title": "Workshop", "starts_at": START, **fields}
            with pytest.raises(EventError) as refused:
                store.create_event(s, c, now=NOW, **values)
            assert refused.value.code == code
        assert s.exec(select(Event)).all() == []


def test_exports_events_and_attendance_list(db, settings, cluster, add_member, monkeypatch, capsys):
    facilitator(add_member)
    asha = add_member("+255712000001", name="Asha Juma")
    juma = add_member("+255712000002", name="Juma", gender="male")
    event = make_event(db, cluster, segment="sector:tailoring")
    answer(db, cluster, event, asha, "yes")
    answer(db, cluster, event, juma, "maybe")
    say(db, settings, asha.phone, f"HERE 1 {event.checkin_code}", now=START)
    kinds = registry()
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        columns, rows = kinds["events"](s, c)
        row = dict(zip(columns, next(rows), strict=True))
    assert (row["invited"], row["yes"], row["maybe"], row["attended"]) == (2, 1, 1, 1)
    assert row["starts_at"] == "2026-03-12T14:00:00+03:00"
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert cli_main(["export", "rsvps", "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_number = {r["member_number"]: r for r in table}
    assert by_number[asha.number]["answer"] == "yes" and by_number[asha.number]["attended"] == "True"
    assert by_number[asha.number]["checkin_method"] == "code"
    assert by_number[juma.number]["answer"] == "maybe" and by_number[juma.number]["attended"] == "False"
    assert cli_main(["export", "events", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["title"] == "Vision workshop"


def test_cli_creates_publishes_moves_attends_and_cancels(db, settings, cluster, add_member, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    asha = add_member("+255712000001")
    add_member("+255712000002", sector="dairy")
    assert cli_main(["event", "create", "Buyer visit", "--start", "2099-12-12 14:00", "--kind", "buyer_visit",
                     "--place", "Cold store", "--capacity", "10", "--segment", "sector:tailoring",
                     "--publish"]) == 0
    assert "published, 1 invitations queued" in capsys.readouterr().out
    assert len(outbox(db, asha.phone, kind="invitation")) == 1
    assert cli_main(["event", "create", "Past", "--start", "2001-01-01 10:00"]) == 2
    assert cli_main(["event", "create", "Odd", "--start", "2099-12-12 14:00", "--segment", "colour:red"]) == 2
    assert cli_main(["event", "move", "1", "--start", "2099-12-13 09:00"]) == 0
    assert cli_main(["event", "list"]) == 0
    assert "2099-12-13T09:00:00+03:00" in capsys.readouterr().out
    assert cli_main(["event", "remind", "1", "2d,1h", "--deadline-reminder", "0"]) == 0
    assert cli_main(["event", "attend", "1", asha.number]) == 2  # long before the event
    assert cli_main(["event", "show", "1"]) == 0
    assert "invited 1" in capsys.readouterr().out
    assert cli_main(["event", "cancel", "1"]) == 0
    with session_scope(db) as s:
        event = s.get(Event, 1)
        assert (event.status, event.reminders, event.deadline_reminder) == ("cancelled", "2880,60", 0)
        assert len(s.exec(select(Event)).all()) == 1
