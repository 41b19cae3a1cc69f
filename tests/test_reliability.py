"""Reliability odds and ends: concurrent first contacts and registrations, a dispatcher dying mid-send,
privacy of the logs over a whole session, and restoring a backup that passes `savings check`."""

from __future__ import annotations

import logging
import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import func, select

from bot.channels.twilio_sms import TwilioTransport
from bot.dispatch import LEASE, Dispatcher, claim
from bot.engine import Inbound, receive
from storage.db import make_engine, session_scope
from storage.members import Identity, Member
from storage.messages import OutboundMessage
from storage.savings import Entry
from tests.conftest import next_sid, say, with_settings
from tests.fakes.outbox import message, queue

pytest_plugins = ("tests.fakes.fixtures",)

APOLOGY = "Sorry, something went wrong"
ANSWERS = ["JOIN MOSHI", "Asha Juma", "Asha Designs", "tailoring", "Moshi", "1", "1", "1"]


@pytest.fixture
def open_settings(settings):
    return with_settings(settings, flood_limit=0)


def test_registrations_finishing_at_the_same_moment_all_succeed(db, open_settings, cluster):
    """Member numbers are handed out one at a time even when many people finish JOIN together."""
    phones = [f"+2557140000{i:02d}" for i in range(12)]
    for phone in phones:
        for answer in ANSWERS[:-1]:
            say(db, open_settings, phone, answer)

    def last_answer(phone: str) -> list[str]:
        return [r.text for r in receive(db, open_settings, Inbound("sms", phone, "1", next_sid()),
                                        reply_status="sent").replies]

    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(last_answer, phones))
    assert all(len(r) == 1 and not r[0].startswith(APOLOGY) for r in replies), replies
    with session_scope(db) as s:
        numbers = s.exec(select(Member.number).where(Member.phone.in_(phones))).all()
    assert len(numbers) == len(set(numbers)) == len(phones)


def test_a_new_address_writing_several_times_at_once_gets_one_identity(db, open_settings, cluster):
    address = "+255714999001"

    def send(_):
        return [r.text for r in receive(db, open_settings, Inbound("sms", address, "HELP", next_sid()),
                                        reply_status="sent").replies]

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(send, range(8)))
    assert all(len(r) == 1 and not r[0].startswith(APOLOGY) for r in replies), replies
    with session_scope(db) as s:
        assert s.exec(select(func.count()).select_from(Identity).where(Identity.address == address)).one() == 1


def test_a_dispatcher_killed_after_claiming_leaves_the_messages_to_the_next_one(db, settings, fake_twilio, fake_clock):
    """A claim is a lease: when its holder dies, the messages go out once the lease runs out, once each."""
    sms = with_settings(settings, twilio_api_base=fake_twilio.url, sms_rate=1000.0)
    ids = queue(db, "+255712000001", 5)
    claimed = claim(db, "sms", 50, fake_clock.now())  # the dead dispatcher's claim: never sent, never released
    assert [m.id for m in claimed] == ids
    survivor = Dispatcher(db, sms, [TwilioTransport(sms, timeout=2)], clock=fake_clock)
    assert survivor.drain().total == 0  # leased: not sent twice while the first might still be sending
    fake_clock.advance(LEASE.total_seconds() + 1)
    survivor.drain()
    survivor.close()
    assert [message(db, i).status for i in ids] == ["sent"] * 5
    assert sorted(m["Body"] for m in fake_twilio.messages) == [f"Hello {i}" for i in range(5)]


SESSION = [
    ("+255712000101", "JOIN MOSHI"), ("+255712000101", "Zawadi Kilimanjaro"), ("+255712000101", "Zawadi Tailoring Works"),
    ("+255712000101", "tailoring"), ("+255712000101", "Himo"), ("+255712000101", "1"), ("+255712000101", "1"),
    ("+255712000101", "1"), ("+255712000009", "APPROVE +255712000101"), ("+255712000101", "SAVE 7000 QX99SECRET"),
    ("+255712000008", "CONFIRM 1"), ("+255712000101", "BAL"), ("+255712000101", "STMT"),
    ("+255712000101", "PROFILE"), ("+255712000101", "DEF cluster"), ("+255712000101", "EVENTS"),
    ("+255712000101", "BUY"), ("+255712000101", "LOAN 50000 6"), ("+255712000009", "BCAST all Kikao Ijumaa saa nne"),
    ("+255712000009", "KPI"), ("+255712000101", "xyzzy private words 0712345678"), ("+255712000101", "STOP"),
    ("+255712000101", "START"), ("+255712000008", "DEP +255712000101 3000 RCPTSECRET"),
]


def test_logs_never_hold_a_phone_number_or_a_message_body(db, open_settings, cluster, add_member, client, caplog):
    add_member("+255712000009", admin_role="facilitator", name="Fatma Facilitator")
    add_member("+255712000008", admin_role="treasurer", name="Tumaini Treasurer")
    with caplog.at_level(logging.DEBUG):
        for phone, text in SESSION:
            say(db, open_settings, phone, text)
        receive(db, open_settings, Inbound("telegram", "987654321", "HELP private words", next_sid()))
    logged = caplog.text
    assert "handler failed" not in logged
    assert not re.search(r"\+?255\d{9}|0712345678|987654321", logged), re.findall(r".{40}255\d{9}", logged)
    for secret in ("Zawadi", "Kilimanjaro", "QX99SECRET", "RCPTSECRET", "xyzzy", "Kikao", "private words"):
        assert secret not in logged, secret
    assert logged.count("inbound sms") >= len(SESSION)  # the session was logged, masked


def test_a_restored_backup_passes_the_savings_check(db, open_settings, cluster, add_member, cli_run, tmp_path,
                                                     backend, monkeypatch):
    if backend != "sqlite":
        pytest.skip("`clusterbot backup` copies SQLite; PostgreSQL deployments use pg_dump (README)")
    add_member("+255712000008", admin_role="treasurer", name="Tumaini Treasurer")
    members = [add_member(f"+2557120002{i:02d}", name=f"Saver {i}") for i in range(5)]
    for i, m in enumerate(members):
        say(db, open_settings, "+255712000008", f"DEP {m.number} {1000 * (i + 1)}")
    backup = tmp_path / "backup.db"
    assert cli_run("backup", str(backup))[0] == 0
    say(db, open_settings, "+255712000008", f"DEP {members[0].number} 99999")  # after the backup: not in it
    restored = tmp_path / "restored.db"
    shutil.copy(backup, restored)  # restore: the backup file becomes the database
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{restored}")
    code, out, _ = cli_run("savings", "check")
    assert code == 0 and "passed" in out
    engine = make_engine(f"sqlite:///{restored}")
    with session_scope(engine) as s:
        total = s.exec(select(func.sum(Entry.amount_minor))).one()
    engine.dispose()
    assert total == sum(1000 * (i + 1) for i in range(5)) * 100


def test_outbox_rows_survive_a_restart_of_the_process(db, settings, open_settings, cluster, add_member):
    """What a handler queued is in the database before the provider is told: a new engine still sees it."""
    add_member("+255712000008", admin_role="treasurer", name="Tumaini Treasurer")
    member = add_member("+255712000201", name="Saver")
    say(db, open_settings, "+255712000008", f"DEP {member.number} 1000")
    db.dispose()
    fresh = make_engine(settings.database_url)
    with session_scope(fresh) as s:
        queued = s.exec(select(OutboundMessage).where(OutboundMessage.status == "queued")).all()
    fresh.dispose()
    assert [m.address for m in queued] == ["+255712000201"]
