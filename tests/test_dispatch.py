"""The outbox dispatcher against fake providers: rates, backoff, Retry-After, permanent errors, silencing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot import outbox
from bot.channels.telegram import TelegramTransport
from bot.channels.twilio_sms import TwilioTransport
from bot.dispatch import (
    GIVE_UP_AFTER,
    LEASE,
    Dispatcher,
    RateLimiter,
    SendError,
    backoff,
    claim,
    record_result,
)
from bot.runtime import transports
from storage.db import session_scope
from storage.members import get_or_create_identity
from tests.conftest import say, with_settings
from tests.fakes import FakeClock
from tests.fakes.outbox import identity, message, queue

pytest_plugins = ("tests.fakes.fixtures",)

PHONE = "+255712000001"


def queue_sms(db, address: str = PHONE, count: int = 1, text: str = "Hello {i}") -> list[int]:
    return queue(db, address, count, text)


@pytest.fixture
def sms(settings, db, fake_twilio, fake_clock):
    """A dispatcher sending SMS through the fake Twilio API on a fake clock."""
    sms_settings = with_settings(settings, twilio_api_base=fake_twilio.url, sms_rate=1000.0)
    dispatcher = Dispatcher(db, sms_settings, [TwilioTransport(sms_settings, timeout=2)], clock=fake_clock)
    yield dispatcher
    dispatcher.close()


def test_sends_each_queued_message_once_and_records_the_provider_id(sms, db, fake_twilio):
    ids = queue_sms(db, count=3)
    result = sms.drain()
    assert (result.sent, result.failed) == (3, 0)
    assert [m["Body"] for m in fake_twilio.messages] == ["Hello 0", "Hello 1", "Hello 2"]
    assert fake_twilio.messages[0]["StatusCallback"] == "https://bot.example.org/webhooks/twilio/status"
    sent = [message(db, i) for i in ids]
    assert [m.status for m in sent] == ["sent"] * 3
    assert [m.provider_id for m in sent] == [m["Sid"] for m in fake_twilio.messages]
    assert sms.drain().total == 0


def test_429_honours_retry_after_and_loses_nothing(sms, db, fake_twilio, fake_clock):
    ids = queue_sms(db, count=5)
    fake_twilio.fail(1, 429, retry_after=30)
    first = sms.drain()
    assert (first.sent, first.retried) == (0, 1)  # the round stops: the rest waits with the throttled one
    held = message(db, ids[0])
    assert held.status == "queued" and "429" in held.last_error
    assert held.next_attempt_at >= fake_clock.now() + timedelta(seconds=29)
    assert all(message(db, i).next_attempt_at == held.next_attempt_at for i in ids[1:])
    sms.drain(wait=True)
    assert sorted(m["Body"] for m in fake_twilio.messages) == [f"Hello {i}" for i in range(5)]
    assert fake_clock.offset == pytest.approx(30, abs=0.5)
    assert [message(db, i).status for i in ids] == ["sent"] * 5


def test_throttling_never_uses_up_a_message_s_attempts(sms, db, fake_twilio, settings):
    [msg_id] = queue_sms(db)
    fake_twilio.fail(settings.dispatch_max_attempts + 2, 429, retry_after=5)
    sms.drain(wait=True)
    assert message(db, msg_id).status == "sent"


def test_500_is_retried_with_exponential_backoff_then_delivered(sms, db, fake_twilio, fake_clock):
    [msg_id] = queue_sms(db)
    fake_twilio.fail(2, 500)
    sms.drain(wait=True)
    sent = message(db, msg_id)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 3, "")
    assert len(fake_twilio.calls()) == 3 and len(fake_twilio.messages) == 1
    waited = backoff(1).total_seconds() + backoff(2).total_seconds()
    assert fake_clock.offset == pytest.approx(waited, abs=0.5)  # slept through 2 s, then 4 s


def test_transient_errors_give_up_after_the_configured_attempts(db, settings, fake_twilio, fake_clock):
    few = with_settings(settings, twilio_api_base=fake_twilio.url, dispatch_max_attempts=3)
    dispatcher = Dispatcher(db, few, [TwilioTransport(few, timeout=2)], clock=fake_clock)
    [msg_id] = queue_sms(db)
    fake_twilio.fail(1000, 503)
    dispatcher.drain(wait=True)
    failed = message(db, msg_id)
    assert failed.status == "failed" and "503" in failed.last_error
    # an outage of hours loses nothing: a message is given up only after its attempts AND a day of trying
    assert failed.attempts > 3 and fake_clock.offset >= GIVE_UP_AFTER.total_seconds()
    assert len(fake_twilio.requests) == failed.attempts
    assert not identity(db, "sms", PHONE).opted_out  # an outage says nothing about the address


def test_refused_connections_are_retried_until_the_provider_is_back(sms, db, fake_twilio):
    ids = queue_sms(db, count=2)
    fake_twilio.refuse()
    assert sms.drain().retried == 1
    assert "connection" in message(db, ids[0]).last_error
    fake_twilio.accept()
    sms.drain(wait=True)
    assert [message(db, i).status for i in ids] == ["sent", "sent"]
    assert len(fake_twilio.messages) == 2


def test_a_timeout_is_retried(db, settings, fake_twilio, fake_clock):
    quick = with_settings(settings, twilio_api_base=fake_twilio.url)
    dispatcher = Dispatcher(db, quick, [TwilioTransport(quick, timeout=0.3)], clock=fake_clock)
    [msg_id] = queue_sms(db)
    fake_twilio.slow(1.0)
    dispatcher.drain(wait=True)
    sent = message(db, msg_id)
    assert (sent.status, sent.attempts) == ("sent", 2)


@pytest.mark.parametrize("code", [21211, 21610, 21614])
def test_permanent_address_errors_fail_with_reason_and_silence_the_address(sms, db, fake_twilio, settings, code):
    ids = queue_sms(db, count=3)
    queue_sms(db, "+255712000002")
    fake_twilio.fail(1, 400, code=code)
    result = sms.drain()
    failed = message(db, ids[0])
    assert failed.status == "failed" and str(code) in failed.last_error
    assert [message(db, i).status for i in ids[1:]] == ["failed", "failed"]  # not sent to a dead address
    assert "silenced" in message(db, ids[1]).last_error
    assert identity(db, "sms", PHONE).opted_out
    assert [m["To"] for m in fake_twilio.messages] == ["+255712000002"]
    assert result.failed == 3 and result.sent == 1
    queue_sms(db)
    assert sms.drain().total == 0  # queued later to the silenced address: dropped at claim
    say(db, settings, PHONE, "HELP")  # the owner writes again: sends resume
    assert not identity(db, "sms", PHONE).opted_out
    later = queue_sms(db)
    sms.drain()
    assert message(db, later[0]).status == "sent"


def test_a_message_level_permanent_error_does_not_silence_the_address(sms, db, fake_twilio):
    [msg_id] = queue_sms(db)
    fake_twilio.fail(1, 400, code=21617, message="body too long")
    sms.drain()
    assert message(db, msg_id).status == "failed"
    assert not identity(db, "sms", PHONE).opted_out


def test_telegram_blocked_bot_silences_the_chat(db, settings, fake_telegram, fake_clock):
    tg = with_settings(settings, telegram_bot_token="123:TEST", telegram_api_base=fake_telegram.url)
    transport = TelegramTransport(tg, timeout=2)
    dispatcher = Dispatcher(db, tg, [transport], clock=fake_clock)
    with session_scope(db) as s:
        chat = get_or_create_identity(s, "telegram", "7001")
        first = outbox.queue(s, chat, "one")
        outbox.queue(s, chat, "two")
    fake_telegram.blocked.add("7001")
    dispatcher.drain()
    failed = message(db, first.id)
    assert failed.status == "failed" and "blocked" in failed.last_error
    assert identity(db, "telegram", "7001").opted_out
    assert fake_telegram.sent == []
    dispatcher.close()


def test_rate_limiter_spaces_units_at_the_configured_rate():
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock.monotonic, clock.sleep)
    for _ in range(10):
        limiter.acquire()
    assert clock.offset == pytest.approx(4.5)  # one at once, then one every half second


def test_rate_limiter_counts_sms_segments():
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock.monotonic, clock.sleep)
    limiter.acquire(3)  # a 3-segment SMS goes at once and leaves a debt of two seconds
    limiter.acquire(1)
    assert clock.offset == pytest.approx(3.0)


def test_rate_limiter_pause_holds_everything_back():
    clock = FakeClock()
    limiter = RateLimiter(100.0, clock.monotonic, clock.sleep)
    limiter.pause(12)
    limiter.acquire()
    assert clock.offset == pytest.approx(12)


def test_dispatcher_respects_the_channel_rate(db, settings, fake_twilio, fake_clock):
    slow = with_settings(settings, twilio_api_base=fake_twilio.url, sms_rate=2.0)
    dispatcher = Dispatcher(db, slow, [TwilioTransport(slow)], clock=fake_clock)
    queue_sms(db, count=9)
    assert dispatcher.drain().sent == 9
    assert fake_clock.offset == pytest.approx(4.0, abs=0.01)


def test_a_provider_rate_limit_is_not_provoked_at_the_configured_rate(db, settings, fake_twilio):
    """Wall-clock pacing against a fake that answers 429 beyond 20 a second (no timing asserted)."""
    paced = with_settings(settings, twilio_api_base=fake_twilio.url, sms_rate=15.0)
    fake_twilio.limit_rate(20)
    dispatcher = Dispatcher(db, paced, [TwilioTransport(paced)])
    queue_sms(db, count=25)
    assert dispatcher.drain().sent == 25
    assert fake_twilio.throttled == 0


def test_claim_leases_rows_so_no_two_dispatchers_send_the_same(db, settings, fake_clock):
    queue_sms(db, count=3)
    now = fake_clock.now()
    first = claim(db, "sms", 2, now)
    second = claim(db, "sms", 10, now)
    assert len(first) == 2 and len(second) == 1
    assert not {m.id for m in first} & {m.id for m in second}
    assert claim(db, "sms", 10, now) == []
    again = claim(db, "sms", 10, now + LEASE + timedelta(seconds=1))  # a dispatcher died mid-send
    assert len(again) == 3 and all(m.attempts == 2 for m in again)


def test_a_result_for_a_message_no_longer_queued_changes_nothing(db, settings):
    [msg_id] = queue_sms(db)
    claim(db, "sms", 1)
    record_result(db, settings, msg_id, "SM1", None)
    after = record_result(db, settings, msg_id, None, SendError("late", permanent=True))
    assert (after.status, after.provider_id) == ("sent", "SM1")


def test_claim_size_stays_within_half_a_lease_at_slow_rates(db, settings):
    slow = with_settings(settings, sms_rate=0.1)
    dispatcher = Dispatcher(db, slow, [TwilioTransport(slow)])
    assert dispatcher.claim_size("sms") == 6


def test_stop_gives_the_unsent_rest_of_a_batch_back(db, settings, fake_twilio, fake_clock):
    paced = with_settings(settings, twilio_api_base=fake_twilio.url, sms_rate=1.0)
    ids = queue_sms(db, count=4)
    real_sleep = fake_clock.sleep

    def sleep_then_stop(seconds: float) -> None:  # asked to stop while waiting for the second send
        real_sleep(seconds)
        dispatcher.stopping.set()

    fake_clock.sleep = sleep_then_stop
    dispatcher = Dispatcher(db, paced, [TwilioTransport(paced)], clock=fake_clock)
    dispatcher.run_once("sms")
    statuses = [(message(db, i).status, message(db, i).attempts) for i in ids]
    assert statuses[0] == ("sent", 1)
    assert all(s == ("queued", 0) for s in statuses[2:])
    assert len(claim(db, "sms", 10, fake_clock.now())) >= 2  # due again at once, not after the lease


def test_worker_threads_send_when_woken(db, settings, fake_twilio):
    live = with_settings(settings, twilio_api_base=fake_twilio.url, sms_rate=100.0)
    dispatcher = Dispatcher(db, live, [TwilioTransport(live)])
    dispatcher.start()
    try:
        [msg_id] = queue_sms(db)
        dispatcher.wake.set()
        done = threading.Event()
        for _ in range(200):
            if message(db, msg_id).status == "sent":
                done.set()
                break
            done.wait(0.05)
        assert done.is_set()
    finally:
        dispatcher.stop()
    assert not any(t.is_alive() for t in dispatcher.threads)


def test_runtime_builds_a_transport_per_configured_channel(settings, fake_telegram):
    both = with_settings(settings, telegram_bot_token="123:TEST", telegram_api_base=fake_telegram.url,
                         telegram_rate=7.0, sms_rate=3.0)
    found = {t.channel: t for t in transports(both)}
    assert isinstance(found["sms"], TwilioTransport) and found["sms"].rate == 3.0
    assert isinstance(found["telegram"], TelegramTransport) and found["telegram"].rate == 7.0
    found["telegram"].close()
    simulator_only = with_settings(settings, twilio_account_sid="", simulator=True)
    assert [t.channel for t in transports(simulator_only)] == ["sms"]
