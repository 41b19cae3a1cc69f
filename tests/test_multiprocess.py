"""Several worker processes on one database: each message sent once, one scheduler leader at a time.

Each worker is a real child process (`python -m benchmarks.worker`, the same start_workers as
`clusterbot worker`) sending to the fake Twilio server in this process. Several dispatchers share the
outbox only on PostgreSQL (FOR UPDATE SKIP LOCKED); on SQLite one dispatcher is expected, so the SQLite
run checks the same things with one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import func, select

from storage import broadcasts
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.members import Member
from storage.messages import OutboundMessage
from storage.schedule import ScheduledSlot
from tests.fakes import server as fake_server
from tests.fakes.outbox import queue
from tests.support_workers import Worker, wait_for, worker_env

pytest_plugins = ("tests.fakes.fixtures",)

pytestmark = pytest.mark.slow

MESSAGES = 5000
ADDRESSES = 50


def count_sent(db, batch: str | None = None) -> int:
    with session_scope(db) as s:
        stmt = select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status == "sent")
        if batch is not None:
            stmt = stmt.where(OutboundMessage.batch == batch)
        return s.exec(stmt).one()


def queued_for(db, batch: str) -> list[OutboundMessage]:
    with session_scope(db) as s:
        return list(s.exec(select(OutboundMessage).where(OutboundMessage.batch == batch)))


@pytest.fixture(autouse=True)
def no_nagle(monkeypatch):
    """The fake answers headers and body in two writes: without TCP_NODELAY each send waits ~40 ms for a
    delayed ACK, which would measure the fake rather than the dispatchers."""
    monkeypatch.setattr(fake_server._Handler, "disable_nagle_algorithm", True)


@pytest.fixture
def fast(settings, fake_twilio):
    """Settings for workers that send to the fake Twilio as fast as it answers."""
    return replace(settings, twilio_api_base=fake_twilio.url, sms_rate=100000.0)


@pytest.fixture
def workers(tmp_path):
    """Start workers with `start(env, *flags)`; every one still running is stopped after the test."""
    started: list[Worker] = []

    def start(env: dict[str, str], *flags: str) -> Worker:
        worker = Worker(env, tmp_path / f"worker{len(started)}.log", *flags)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def test_dispatcher_processes_send_each_of_5000_messages_exactly_once(db, fast, fake_twilio, backend, workers):
    for n in range(ADDRESSES):
        queue(db, f"+2557120{n:05d}", MESSAGES // ADDRESSES, text=f"to {n} number {{i}}")
    count = 4 if backend == "postgres" else 1
    senders = [f"+1500555{n:04d}" for n in range(count)]
    for sender in senders:
        workers(worker_env(fast, TWILIO_FROM_NUMBER=sender), "--no-scheduler")
    wait_for(lambda: count_sent(db) == MESSAGES, 50, f"{MESSAGES} messages sent")

    sent = fake_twilio.messages
    assert len(sent) == MESSAGES
    assert len({(m["To"], m["Body"]) for m in sent}) == MESSAGES
    with session_scope(db) as s:
        rows = list(s.exec(select(OutboundMessage)))
    assert {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {1}  # no row was claimed twice
    assert sorted(r.provider_id for r in rows) == sorted(m["Sid"] for m in sent)
    by_process = Counter(m["From"] for m in sent)
    assert set(by_process) == set(senders), by_process  # every process took its share


@pytest.fixture
def members(db, cluster, add_member) -> list[Member]:
    author = add_member("+255712900000", admin_role="facilitator")
    return [author] + [add_member(f"+2557129{n:05d}") for n in range(1, 30)]


def schedule_broadcast(db, cluster: Cluster, author: Member, text: str) -> str:
    """A broadcast to everyone whose time has just come; returns its outbox batch."""
    now = utcnow()
    with session_scope(db) as s:
        b = broadcasts.create(s, s.get(Cluster, cluster.id), author.id, "all", text,
                              now=now - timedelta(minutes=2), send_at=now - timedelta(minutes=1))
        return broadcasts.batch_key(b)


def assert_once_each(db, batch: str, members: list[Member]) -> None:
    rows = queued_for(db, batch)
    assert sorted(r.address for r in rows) == sorted(m.phone for m in members)
    with session_scope(db) as s:
        slots = s.exec(select(ScheduledSlot).where(ScheduledSlot.job == "broadcast.send")).all()
    assert len(slots) == len({slot.slot for slot in slots})


def test_two_scheduler_processes_send_each_scheduled_message_once(db, fast, fake_twilio, backend, workers,
                                                                   cluster, members):
    batch = schedule_broadcast(db, cluster, members[0], "Market day moved to Friday")
    env = worker_env(fast)
    first = workers(env)
    second = workers(env, *([] if backend == "postgres" else ["--no-dispatcher"]))
    wait_for(lambda: count_sent(db, batch) == len(members), 40, "the broadcast sent")
    assert [first.leads(), second.leads()].count(True) == 1
    assert_once_each(db, batch, members)
    texts = Counter(m["To"] for m in fake_twilio.messages if m["Body"] == "Market day moved to Friday")
    assert texts == Counter({m.phone: 1 for m in members})


def test_killing_the_leader_lets_the_other_scheduler_take_over(db, settings, workers, cluster, members):
    first = schedule_broadcast(db, cluster, members[0], "Before the crash")
    env = worker_env(settings)
    both = [workers(env, "--no-dispatcher"), workers(env, "--no-dispatcher")]
    wait_for(lambda: len(queued_for(db, first)) == len(members), 20, "the leader to send the first broadcast")
    leader, follower = sorted(both, key=lambda w: not w.leads())
    assert leader.leads() and not follower.leads()

    leader.kill()
    second = schedule_broadcast(db, cluster, members[0], "After the crash")
    wait_for(follower.leads, 20, "the follower to take the lead")
    wait_for(lambda: len(queued_for(db, second)) == len(members), 20, "the new leader to send")
    assert_once_each(db, first, members)
    assert_once_each(db, second, members)
