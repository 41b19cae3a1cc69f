"""Publishing to a large segment: the invitations are recorded at once and queued in committed batches, so
an inbound message never waits behind the whole fan-out, and each invitation is queued exactly once even
when the process fails or is killed part-way (a real SQLite file, or PostgreSQL with --db postgres)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlmodel import func, select

from bot import scheduler
from bot.cli import main as cli_main
from bot.handlers import events as handlers
from storage import events as store
from storage.clusters import Cluster
from storage.db import make_engine, session_scope, utcnow
from storage.events import Event, Invitation
from storage.members import create_member
from storage.messages import OutboundMessage
from tests.conftest import outbox, say
from tests.test_events import FAC, NOW, START, facilitator, make_event

BATCH = store.INVITATION_BATCH
ROOT = Path(__file__).resolve().parent.parent


def crowd(db, cluster, count: int, sector: str = "dairy") -> list[str]:
    """`count` active members of one sector, made in one transaction; their phones."""
    phones = [f"+2557130{n:05d}" for n in range(count)]
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        for number in phones:
            create_member(s, c, phone=number, status="active", language="sw", name="Mkulima", business="Shamba",
                          sector=sector, location="Moshi", gender="female", role="firm")
    return phones


def invitations_by_address(db) -> Counter:
    return Counter(m.address for m in outbox(db, kind="invitation"))


def unsent(db) -> int:
    with session_scope(db) as s:
        return s.exec(select(func.count()).select_from(Invitation).where(Invitation.notified_at.is_(None))).one()


def draft(db, cluster, segment: str = "sector:dairy", **fields) -> Event:
    return make_event(db, cluster, segment=segment, publish=False, **fields)


def test_publish_queues_one_batch_and_the_job_the_rest_each_once(db, settings, cluster, add_member):
    facilitator(add_member)
    phones = crowd(db, cluster, 2 * BATCH + 50)
    draft(db, cluster)
    reply = say(db, settings, FAC, "PUBLISH 1", now=NOW)[0]
    assert f"{len(phones)} invitations on their way" in reply
    assert len(outbox(db, kind="invitation")) == BATCH  # the inbound transaction wrote one batch only
    assert unsent(db) == len(phones) - BATCH
    assert scheduler.run_due(db, settings, NOW)["events.invitations"] == BATCH
    assert scheduler.run_due(db, settings, NOW)["events.invitations"] == 50
    assert scheduler.run_due(db, settings, NOW)["events.invitations"] == 0
    sent = invitations_by_address(db)
    assert set(sent) == set(phones) and set(sent.values()) == {1}
    assert "Mwaliko" in outbox(db, phones[-1], kind="invitation")[0].text  # each in the member's language


def test_a_failure_mid_fan_out_then_a_rerun_sends_each_invitation_exactly_once(db, settings, cluster, monkeypatch):
    phones = crowd(db, cluster, 3 * BATCH + 20)
    event = draft(db, cluster)
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        store.publish(s, event.id, c, NOW)  # recorded, nothing queued yet: as if the process died here
    real_notify, calls = handlers.outbox.notify, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == BATCH + 70:  # part-way through the second batch
            raise RuntimeError("provider library blew up")
        return real_notify(*args, **kwargs)

    monkeypatch.setattr(handlers.outbox, "notify", failing)
    assert scheduler.run_due(db, settings, NOW)["events.invitations"] == BATCH
    assert scheduler.run_due(db, settings, NOW)["events.invitations"] == 0  # failed: its batch rolled back
    assert len(outbox(db, kind="invitation")) == BATCH and unsent(db) == len(phones) - BATCH
    monkeypatch.setattr(handlers.outbox, "notify", real_notify)
    restarted = make_engine(settings.database_url)  # the rerun is another process: only the database remains
    while scheduler.run_due(restarted, settings, NOW)["events.invitations"]:
        pass
    restarted.dispose()
    sent = invitations_by_address(db)
    assert set(sent) == set(phones) and set(sent.values()) == {1}
    assert unsent(db) == 0


def test_a_killed_cli_publish_leaves_the_rest_to_the_job(db, settings, cluster, tmp_path):
    """`clusterbot event publish` killed (os._exit, no cleanup) in its second batch: the first batch stays
    committed, the second is gone whole, and the scheduler's job queues the rest, each exactly once."""
    phones = crowd(db, cluster, 2 * BATCH + 30)
    draft(db, cluster, segment="all", start=utcnow() + timedelta(days=30))  # the CLI runs on the real clock
    script = textwrap.dedent(f"""
        import os
        from bot.cli import main
        from bot.handlers import events
        real, calls = events.outbox.notify, []
        def dying(*args, **kwargs):
            calls.append(1)
            if len(calls) == {BATCH + 40}:
                os._exit(9)
            return real(*args, **kwargs)
        events.outbox.notify = dying
        raise SystemExit(main(["event", "publish", "1"]))
    """)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == 9, done.stderr[-2000:]
    assert len(outbox(db, kind="invitation")) == BATCH
    with session_scope(db) as s:
        assert s.get(Event, 1).status == "published"
    while scheduler.run_due(db, settings)["events.invitations"]:
        pass
    sent = invitations_by_address(db)
    assert set(sent) == set(phones) and set(sent.values()) == {1}


def test_the_cli_publish_queues_every_batch_itself(db, settings, cluster, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    phones = crowd(db, cluster, BATCH + 10)
    draft(db, cluster, start=utcnow() + timedelta(days=30))
    assert cli_main(["event", "publish", "1"]) == 0
    assert f"{len(phones)} invitations queued" in capsys.readouterr().out
    assert set(invitations_by_address(db).values()) == {1} and len(invitations_by_address(db)) == len(phones)
    assert scheduler.run_due(db, settings)["events.invitations"] == 0


def test_no_invitation_for_walk_ins_cancelled_or_closed_events(db, settings, cluster, add_member):
    facilitator(add_member)
    walk_in = add_member("+255712000001", sector="dairy")
    add_member("+255712000002", sector="tailoring")
    make_event(db, cluster, segment="sector:tailoring")  # every invitation queued as it was published
    say(db, settings, FAC, f"ATTEND 1 {walk_in.number}", now=START)
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        cancelled = store.create_event(s, c, title="Fair", starts_at=START, now=NOW, segment="all")
        store.publish(s, cancelled.id, c, NOW)
        store.cancel(s, c, cancelled.id, NOW)
        closed = store.create_event(s, c, title="Visit", starts_at=START, now=NOW, segment="all",
                                    rsvp_deadline=NOW + store.CHECKIN_OPENS)
        store.publish(s, closed.id, c, NOW)
    assert scheduler.run_due(db, settings, NOW + store.CHECKIN_OPENS * 2)["events.invitations"] == 0
    assert outbox(db, walk_in.phone, kind="invitation") == []
    assert scheduler.run_due(db, settings, NOW)["events.invitations"] == 3  # the open one, to all three
    with session_scope(db) as s:
        rows = s.exec(select(OutboundMessage.batch).where(OutboundMessage.kind == "invitation")).all()
    assert sorted(rows) == ["event:1", *[f"event:{closed.id}"] * 3]
