"""The scheduler's leader lock and the Leadership thread, in one process (the crash test is multi-process)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.leader import LOCK_KEY, LeaderLock, Leadership
from bot.runtime import start_workers
from tests.conftest import with_settings
from tests.support_workers import wait_for


def test_only_one_lock_holder_until_it_releases(db):
    first, second = LeaderLock(db), LeaderLock(db)
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.still_held()
    first.release()
    assert second.try_acquire()
    second.release()


def test_a_dead_lock_connection_frees_the_lock_on_postgres(db, backend):
    if backend != "postgres":
        pytest.skip("PostgreSQL only: on SQLite the lock is a file lock the kernel frees with the process")
    leader, other = LeaderLock(db), LeaderLock(db)
    assert leader.try_acquire()
    with db.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks "
                           "WHERE locktype = 'advisory' AND objid = :k AND pid <> pg_backend_pid()"),
                      {"k": LOCK_KEY})
        admin.commit()
    assert not leader.still_held()
    assert other.try_acquire()
    other.release()
    leader.release()


class Lead:
    """A stand-in for the scheduler: counts starts and stops."""

    def __init__(self):
        self.started = self.stopped = 0
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.started += 1

        def stop() -> None:
            with self.lock:
                self.stopped += 1

        return stop


def test_one_of_two_leads_and_the_other_takes_over_when_it_stops(db):
    lead_a, lead_b = Lead(), Lead()
    a, b = Leadership(db, lead_a, interval=0.05), Leadership(db, lead_b, interval=0.05)
    a.start()
    wait_for(a.leading.is_set, 5, "the first to lead")
    b.start()
    try:
        threading.Event().wait(0.3)
        assert not b.leading.is_set() and lead_b.started == 0
        a.stop()
        assert (lead_a.started, lead_a.stopped) == (1, 1)
        wait_for(b.leading.is_set, 5, "the second to take over")
        assert lead_b.started == 1
    finally:
        a.stop()
        b.stop()
    assert lead_b.stopped == 1


def test_a_failing_start_releases_the_lock_and_is_retried(db):
    calls = []

    def lead():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        return lambda: None

    leadership = Leadership(db, lead, interval=0.05)
    leadership.start()
    try:
        wait_for(lambda: len(calls) >= 2 and leadership.leading.is_set(), 5, "a second, successful start")
    finally:
        leadership.stop()
    assert not held_elsewhere(db)


def test_workers_elect_a_scheduler_and_leader_interval_comes_from_the_environment(db, settings):
    assert Settings.from_env({"LEADER_INTERVAL": "0.5"}).leader_interval == 0.5
    assert Settings.from_env({}).leader_interval == 5.0
    quick = with_settings(settings, simulator=False, twilio_account_sid="", leader_interval=0.2)
    _dispatcher, stop = start_workers(db, quick)
    try:
        wait_for(lambda: held_elsewhere(db), 5, "the workers to take the scheduler lock")
    finally:
        stop()
    assert not held_elsewhere(db)


def held_elsewhere(db) -> bool:
    probe = LeaderLock(db)
    if probe.try_acquire():
        probe.release()
        return False
    return True
