"""SQLite's one writer: only transactions that write queue for it, and a reader that turns writer upgrades.

The engine here has SQLite's busy timeout set to zero: any moment where two of this process's
connections wanted the write lock at once would fail at once with "database is locked", instead of
sleeping in SQLite's busy handler. Passing proves the in-process queue is the only place writers wait.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from storage import savings
from storage.clusters import Cluster
from storage.db import make_engine, session_scope, utcnow
from storage.members import Member
from storage.savings import Account, Entry, SavingsError

WAIT = 20  # seconds an event may take before the test gives up: a hang fails, it never passes by timing


@pytest.fixture
def impatient(backend, settings, db):
    """A second engine on the test's SQLite file that never waits in SQLite's busy handler."""
    if backend != "sqlite":
        pytest.skip("the writer queue is SQLite's; PostgreSQL has row locks")
    engine = make_engine(settings.database_url)

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_conn, _record):
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    yield engine
    engine.dispose()


@pytest.fixture
def book(impatient, cluster, add_member):
    """A treasurer and ten members with open savings accounts."""
    treasurer = add_member("+255712000099", admin_role="treasurer")
    members = [add_member(f"+2557120002{i:02d}") for i in range(10)]
    with session_scope(impatient) as s:
        moshi = s.get(Cluster, cluster.id)
        for member in members:
            savings.account_for(s, moshi, member)
    return treasurer, members


def deposit(engine, cluster: Cluster, member: Member, treasurer: Member, amount: int) -> None:
    with session_scope(engine) as s:
        savings.record_deposit(s, s.get(Cluster, cluster.id), s.get(Member, member.id), amount,
                               s.get(Member, treasurer.id), utcnow())


def ledger(engine, member: Member) -> tuple[int, int]:
    """(the account's cached balance, the sum of its entries), read in one snapshot."""
    with session_scope(engine) as s:
        account = s.exec(select(Account).where(Account.member_id == member.id)).one()
        total = s.exec(select(func.coalesce(func.sum(Entry.amount_minor), 0))
                       .where(Entry.account_id == account.id, Entry.loan_id == None)).one()  # noqa: E711
        return account.balance_minor, total


def test_a_reader_reads_while_a_writer_holds_the_lock(impatient, cluster, book):
    treasurer, members = book
    writing, release, read_done = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[int, int]] = []

    def writer() -> None:
        with session_scope(impatient) as s:
            savings.record_deposit(s, s.get(Cluster, cluster.id), s.get(Member, members[0].id), 5000,
                                   s.get(Member, treasurer.id), utcnow())
            s.flush()
            writing.set()
            assert release.wait(WAIT)

    def reader() -> None:
        assert writing.wait(WAIT)
        seen.append(ledger(impatient, members[0]))
        read_done.set()

    with ThreadPoolExecutor(2) as pool:
        done = [pool.submit(writer), pool.submit(reader)]
        assert read_done.wait(WAIT), "the reader waited for the writer"
        assert not release.is_set()  # it read while the writer was still inside its transaction
        release.set()
        for future in done:
            future.result()
    assert seen == [(0, 0)]  # the last committed state, not the writer's unfinished one
    assert ledger(impatient, members[0]) == (5000, 5000)


def test_a_reader_that_turns_writer_after_another_commit_upgrades_safely(impatient, cluster, book):
    """Its snapshot predates the other commit: upgrading in place would fail with SQLITE_BUSY_SNAPSHOT."""
    treasurer, members = book
    has_read, other_committed = threading.Event(), threading.Event()

    def read_then_write() -> int:
        with session_scope(impatient) as s:
            before = s.exec(select(func.count()).select_from(Entry)).one()
            has_read.set()
            assert other_committed.wait(WAIT)
            savings.record_deposit(s, s.get(Cluster, cluster.id), s.get(Member, members[0].id), 700,
                                   s.get(Member, treasurer.id), utcnow())
            return before

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(read_then_write)
        assert has_read.wait(WAIT)
        deposit(impatient, cluster, members[0], treasurer, 300)
        other_committed.set()
        assert first.result() == 0
    assert ledger(impatient, members[0]) == (1000, 1000)  # both deposits, the balance moved by each


def test_many_threads_mixing_reads_and_writes_lose_nothing(impatient, cluster, book):
    treasurer, members = book
    rounds, threads = 40, 8
    moved = {m.id: 0 for m in members}
    moved_lock = threading.Lock()

    def worker(seed: int) -> dict[str, int]:
        rnd = random.Random(seed)
        done = {"read": 0, "deposit": 0, "withdrawal": 0, "refused": 0}
        for _ in range(rounds):
            member = rnd.choice(members)
            kind = rnd.choice(["read", "read", "deposit", "withdrawal"])
            if kind == "read":
                balance, total = ledger(impatient, member)
                assert balance == total  # every snapshot is consistent
                done["read"] += 1
                continue
            amount = rnd.randrange(1, 50) * 100
            with session_scope(impatient) as s:
                moshi, who = s.get(Cluster, cluster.id), s.get(Member, member.id)
                s.exec(select(Account).where(Account.member_id == member.id)).one()  # read first, then write
                try:
                    if kind == "deposit":
                        savings.record_deposit(s, moshi, who, amount, s.get(Member, treasurer.id), utcnow())
                    else:
                        savings.record_withdrawal(s, moshi, who, amount, s.get(Member, treasurer.id), utcnow())
                except SavingsError as exc:
                    assert exc.code == "insufficient"
                    done["refused"] += 1
                    continue
            with moved_lock:
                moved[member.id] += amount if kind == "deposit" else -amount
            done[kind] += 1
        return done

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, range(threads)))
    assert sum(r["deposit"] + r["withdrawal"] for r in results) > rounds  # the load really wrote
    for member in members:
        assert ledger(impatient, member) == (moved[member.id], moved[member.id])
        assert moved[member.id] >= 0  # no withdrawal beyond the balance, however the threads interleaved
