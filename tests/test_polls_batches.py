"""A poll round's fan-out commits in batches (on a real SQLite file, and on PostgreSQL): another connection
sees each batch as soon as it is done, a crash mid-way keeps every committed send (claim, recipient and outbox rows together)
and the next run sends only what is left, each member's messages exactly once."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from bot.handlers import polls as handler
from bot.jobs import polls as job
from bot.scheduler import run_due
from storage import polls as store
from storage.clusters import Cluster
from storage.db import make_engine, session_scope
from storage.members import create_member
from storage.messages import OutboundMessage
from storage.polls import PollRecipient, Schedule
from storage.schedule import ScheduledSlot

START = datetime(2030, 3, 2, 15, 0, tzinfo=UTC)
MEMBERS = 250  # two full batches and a half


@pytest.fixture
def round_due(db, cluster):
    """MEMBERS active members and a one-question poll whose round sends to all of them at START."""
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        for i in range(MEMBERS):
            create_member(s, c, phone=f"+25571300{i:04d}", status="active", language="en", name=f"M{i}",
                          business="Shop", sector="tailoring", location="Moshi", gender="female", role="firm")
        poll = handler.create_checked(s, c, {"title": "Quick", "questions": [{"kind": "yesno", "text": "Ok?"}]},
                                      "test")
        store.schedule_poll(s, poll, c, Schedule(START.replace(tzinfo=None) + timedelta(hours=3), 0, 3, 7, 0, 1),
                            START - timedelta(hours=1))
    return START


def raw(settings) -> sqlite3.Connection:
    """A second connection to the same file, as another process (a web worker) would have."""
    return sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), timeout=0)


COUNTS = ("SELECT count(*) FROM poll_recipients WHERE sent_at IS NOT NULL",
          "SELECT count(*) FROM outbound_messages WHERE kind = 'poll'",
          "SELECT count(*) FROM scheduled_slots WHERE job = 'polls.send'")


def committed(settings) -> tuple[int, int, int]:
    """(recipients asked, poll messages queued, send claims) as other connections see them now."""
    if settings.database_url.startswith("sqlite"):
        with raw(settings) as conn:
            return tuple(conn.execute(query).fetchone()[0] for query in COUNTS)
    other = make_engine(settings.database_url)  # PostgreSQL: another connection sees only what is committed
    try:
        with other.connect() as conn:
            return tuple(conn.execute(text(query)).scalar() for query in COUNTS)
    finally:
        other.dispose()


def test_each_batch_is_committed_before_the_next_begins(db, settings, round_due, monkeypatch):
    seen: list[tuple[int, int, int]] = []
    send_first = job._send_first

    def watched(session, recipient, rnd, now):
        seen.append(committed(settings))
        return send_first(session, recipient, rnd, now)

    monkeypatch.setattr(job, "_send_first", watched)
    assert run_due(db, settings, round_due)["polls.rounds"] == 2 * MEMBERS
    assert seen[0] == (0, 0, 0)
    assert seen[job.BATCH] == (job.BATCH, 2 * job.BATCH, job.BATCH)  # the first batch, visible to all
    assert seen[2 * job.BATCH] == (2 * job.BATCH, 4 * job.BATCH, 2 * job.BATCH)
    assert committed(settings) == (MEMBERS, 2 * MEMBERS, MEMBERS)


def test_between_batches_another_connection_can_write(db, settings, round_due, monkeypatch):
    """No transaction spans the fan-out: before each one begins, another connection takes the writer lock
    at once (timeout 0), as an inbound message's transaction would. SQLite's lock: PostgreSQL has none."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer: PostgreSQL writers do not queue for one lock")
    scopes: list[tuple[int, int, int]] = []
    real = job.session_scope

    @contextmanager
    def watched(engine):
        with raw(settings) as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        scopes.append(committed(settings))
        with real(engine) as session:
            yield session

    monkeypatch.setattr(job, "session_scope", watched)
    run_due(db, settings, round_due)
    # opening the round, three batches of sends, then the reminders' look-up
    assert scopes == [(0, 0, 0), (0, 0, 0), (100, 200, 100), (200, 400, 200), (MEMBERS, 2 * MEMBERS, MEMBERS)]


def test_a_crash_mid_way_loses_nothing_and_repeats_nothing(db, settings, round_due, monkeypatch):
    calls = []
    send_first = job._send_first

    def crashing(session, recipient, rnd, now):
        calls.append(recipient.id)
        if len(calls) == job.BATCH + job.BATCH // 2:
            raise RuntimeError("the process dies half-way through the second batch")
        return send_first(session, recipient, rnd, now)

    monkeypatch.setattr(job, "_send_first", crashing)
    assert run_due(db, settings, round_due)["polls.rounds"] == 0  # the job failed (and was logged)
    assert committed(settings) == (job.BATCH, 2 * job.BATCH, job.BATCH)  # the first batch stands, whole
    monkeypatch.setattr(job, "_send_first", send_first)
    assert run_due(db, settings, round_due + timedelta(minutes=1))["polls.rounds"] == 2 * (MEMBERS - job.BATCH)
    assert run_due(db, settings, round_due + timedelta(minutes=2))["polls.rounds"] == 0
    with session_scope(db) as s:
        per_member = s.exec(select(OutboundMessage.member_id, func.count()).where(OutboundMessage.kind == "poll")
                            .group_by(OutboundMessage.member_id)).all()
        assert len(per_member) == MEMBERS and {n for _m, n in per_member} == {2}  # intro and question, once
        assert len(s.exec(select(ScheduledSlot).where(ScheduledSlot.job == "polls.send")).all()) == MEMBERS
        assert s.exec(select(func.count()).select_from(PollRecipient).where(PollRecipient.sent_at == None)  # noqa: E711
                      ).one() == 0
