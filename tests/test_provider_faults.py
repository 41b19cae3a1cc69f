"""Provider faults: fake Twilio and Telegram APIs that fail, throttle, hang and vanish for a while.

Every message to a reachable address is delivered once the provider recovers (a timed-out call the provider
did accept may be delivered twice: never lost); permanent errors fail the message with the reason and
silence the address until its owner writes again.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import outbox
from bot.channels.telegram import TelegramTransport, inbound_from_update
from bot.channels.twilio_sms import TwilioTransport
from bot.dispatch import Dispatcher, backoff
from bot.engine import receive
from storage.db import session_scope
from storage.members import get_or_create_identity
from storage.messages import OutboundMessage
from tests.conftest import say, with_settings
from tests.fakes import FakeClock, FakeTelegram, FakeTwilio
from tests.fakes.server import Answer, Fault, Recorded
from tests.fakes.telegram import text_update

TIMEOUT, HANG = 0.3, 0.6
PHONES = [f"+2557120002{i:02d}" for i in range(12)]
CHATS = [str(660000 + i) for i in range(12)]
INVALID_PHONES, BLOCKED_CHATS = set(PHONES[:2]), set(CHATS[:2])
PER_ROUND = 5
ROUNDS = 30


class InvalidNumbersTwilio(FakeTwilio):
    """A fake Twilio that answers 21211 (not a valid phone number) for the numbers in `invalid`."""

    def __init__(self, invalid: set[str]):
        super().__init__()
        self.invalid = invalid

    def answer(self, record: Recorded) -> Answer:
        if record.params.get("To") in self.invalid:
            return self.error(record, Fault(400, code=21211))
        return super().answer(record)


@pytest.fixture
def providers(settings, db):
    twilio, telegram = InvalidNumbersTwilio(INVALID_PHONES).start(), FakeTelegram().start()
    telegram.blocked.update(BLOCKED_CHATS)
    both = with_settings(settings, twilio_api_base=twilio.url, telegram_bot_token="123:TEST",
                         telegram_api_base=telegram.url, telegram_webhook_secret="s", sms_rate=1000.0,
                         telegram_rate=1000.0)
    clock = FakeClock()
    dispatcher = Dispatcher(db, both, [TwilioTransport(both, timeout=TIMEOUT), TelegramTransport(both, timeout=TIMEOUT)],
                            clock=clock)
    yield twilio, telegram, dispatcher, clock, both
    dispatcher.close()
    twilio.stop()
    telegram.stop()


def queue_round(db, round_no: int) -> dict[int, tuple[str, str, str]]:
    """A few notices on both channels, to every address in turn: id → (channel, address, text)."""
    made = {}
    with session_scope(db) as s:
        for channel, addresses in (("sms", PHONES), ("telegram", CHATS)):
            for k in range(PER_ROUND):
                address = addresses[(round_no * PER_ROUND + k) % len(addresses)]
                identity = get_or_create_identity(s, channel, address)
                text = f"Notice {round_no}.{k} for {address}"
                row = outbox.queue(s, identity, text, kind="notice")
                s.flush()
                made[row.id] = (channel, address, text)
    return made


def rows(db) -> dict[int, OutboundMessage]:
    with session_scope(db) as s:
        return {m.id: m for m in s.exec(select(OutboundMessage))}


def inject(rng: random.Random, fake, counts: Counter) -> str:
    """One fault on one provider for the next round; returns its kind."""
    kind = rng.choice(["500", "429", "timeout", "refused", "none"])
    if kind == "500":
        n = rng.randint(1, 3)
        fake.fail(n, rng.choice([500, 502, 503]))
        counts["500"] += n
    elif kind == "429":
        fake.fail(1, 429, retry_after=rng.randint(1, 20))
        counts["429"] += 1
    elif kind == "timeout":
        fake.slow(HANG)
        counts["timeout"] += 1
    elif kind == "refused":
        fake.refuse()
        counts["refused"] += 1
    return kind


@pytest.mark.slow
def test_a_stormy_provider_loses_nothing_and_dead_addresses_are_silenced(db, providers, progress):
    twilio, telegram, dispatcher, clock, both = providers
    rng = random.Random(20250101)
    counts: Counter = Counter()
    made: dict[int, tuple[str, str, str]] = {}
    for round_no in range(ROUNDS):
        made.update(queue_round(db, round_no))
        kinds = [inject(rng, fake, counts) for fake in (twilio, telegram)]
        dispatcher.drain()
        for fake, kind in zip((twilio, telegram), kinds, strict=True):
            if kind == "refused":
                fake.accept()  # back after one round of refused connections
        clock.advance(rng.randint(1, 40))
    dispatcher.drain(wait=True)
    for fake in (twilio, telegram):  # faults never reached (no call was due) were not injected after all
        for left in list(fake._faults):
            counts["timeout" if left.delay else "429" if left.status == 429 else "500"] -= 1
        fake._faults.clear()

    stored = rows(db)
    delivered = Counter((m["To"], m["Body"]) for m in twilio.messages)
    delivered += Counter((m["chat_id"], m["text"]) for m in telegram.sent)
    timeouts = counts["timeout"]
    for msg_id, (_channel, address, text) in made.items():
        msg = stored[msg_id]
        if address in INVALID_PHONES | BLOCKED_CHATS:
            assert msg.status == "failed" and delivered[(address, text)] == 0
            assert ("21211" in msg.last_error or "blocked" in msg.last_error), msg.last_error
        else:
            assert msg.status == "sent", (msg.status, msg.last_error, msg.attempts)
            assert 1 <= delivered[(address, text)] <= 1 + timeouts
            assert msg.attempts <= both.dispatch_max_attempts
    duplicates = sum(n - 1 for n in delivered.values() if n > 1)
    assert duplicates <= timeouts  # only a call that timed out after the provider took it goes twice
    for dead in INVALID_PHONES:  # asked once, then silenced: no further call to that address
        assert len([c for c in twilio.calls() if c.params.get("To") == dead]) == 1
    for dead in BLOCKED_CHATS:
        assert len([c for c in telegram.calls() if c.params.get("chat_id") == dead]) == 1
    injected = sum(counts.values())
    assert injected >= 20 and counts["429"] and counts["500"] and counts["timeout"] and counts["refused"]
    progress(f"[provider faults] {len(made)} messages, {injected} faults injected {dict(counts)}, "
             f"{sum(1 for m in stored.values() if m.status == 'sent')} delivered, "
             f"{duplicates} duplicates after timeouts, {len(INVALID_PHONES) + len(BLOCKED_CHATS)} dead addresses "
             f"silenced, {clock.offset:.0f} s of provider time")


class Timed:
    """Wraps a transport to note the (fake) time of every attempt."""

    def __init__(self, inner, clock: FakeClock):
        self.inner, self.clock = inner, clock
        self.channel, self.rate = inner.channel, inner.rate
        self.at: list = []

    def send(self, message):
        self.at.append(self.clock.now())
        return self.inner.send(message)

    def close(self):
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_retries_back_off_exponentially_and_honour_retry_after(db, providers, channel):
    twilio, telegram, _, clock, both = providers
    fake = twilio if channel == "sms" else telegram
    inner = TwilioTransport(both, timeout=TIMEOUT) if channel == "sms" else TelegramTransport(both, timeout=TIMEOUT)
    timed = Timed(inner, clock)
    dispatcher = Dispatcher(db, both, [timed], clock=clock)
    with session_scope(db) as s:
        identity = get_or_create_identity(s, channel, PHONES[5] if channel == "sms" else CHATS[5])
        msg = outbox.queue(s, identity, "Patience", kind="notice")
        s.flush()
        msg_id = msg.id
    fake.fail(3, 500)
    fake.fail(1, 429, retry_after=45)
    dispatcher.drain(wait=True)
    dispatcher.close()
    assert rows(db)[msg_id].status == "sent"
    gaps = [(b - a).total_seconds() for a, b in zip(timed.at, timed.at[1:], strict=False)]
    assert len(gaps) == 4
    for attempt, gap in enumerate(gaps[:3], start=1):
        assert gap >= backoff(attempt).total_seconds() - 0.01
    assert gaps[0] < gaps[1] < gaps[2]
    assert gaps[3] >= 45 - 0.01  # Retry-After honoured, however short the backoff would be


def queue_notice(db, channel: str, address: str, text: str) -> int:
    with session_scope(db) as s:
        row = outbox.queue(s, get_or_create_identity(s, channel, address), text, kind="notice")
        s.flush()
        return row.id


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_a_silenced_address_is_not_tried_until_its_owner_writes_again(db, providers, channel):
    twilio, telegram, dispatcher, _, both = providers
    address = sorted(INVALID_PHONES)[0] if channel == "sms" else sorted(BLOCKED_CHATS)[0]
    fake = twilio if channel == "sms" else telegram
    first_id = queue_notice(db, channel, address, "First")
    dispatcher.drain()
    assert rows(db)[first_id].status == "failed"
    later_id = queue_notice(db, channel, address, "Later")
    calls = len(fake.calls())
    dispatcher.drain()
    assert len(fake.calls()) == calls  # the provider is not asked again
    assert rows(db)[later_id].status == "failed" and "silenced" in rows(db)[later_id].last_error
    # the number is fixed / the bot unblocked, and the owner writes: sends resume
    (INVALID_PHONES if channel == "sms" else BLOCKED_CHATS).discard(address)
    if channel == "sms":
        twilio.invalid.discard(address)
        replies = say(db, both, address, "HELP")
        assert replies
    else:
        telegram.blocked.discard(address)
        receive(db, both, inbound_from_update(text_update(int(address), "HELP")))
    again_id = queue_notice(db, channel, address, "Again")
    dispatcher.drain()
    assert rows(db)[again_id].status == "sent"
    INVALID_PHONES.add(address) if channel == "sms" else BLOCKED_CHATS.add(address)


def test_an_outage_longer_than_the_backoff_cap_still_delivers(db, providers):
    """Twenty minutes of refused connections: the messages wait, then all go when the provider is back."""
    twilio, _, dispatcher, clock, both = providers
    with session_scope(db) as s:
        identity = get_or_create_identity(s, "sms", PHONES[6])
        ids = []
        for k in range(10):
            row = outbox.queue(s, identity, f"Outage {k}", kind="notice")
            s.flush()
            ids.append(row.id)
    twilio.refuse()
    start = clock.now()
    while clock.now() - start < timedelta(minutes=20):
        dispatcher.drain()
        clock.advance(30)
    twilio.accept()
    dispatcher.drain(wait=True)
    stored = rows(db)
    assert [stored[i].status for i in ids] == ["sent"] * 10
    assert sorted(m["Body"] for m in twilio.messages) == sorted(f"Outage {k}" for k in range(10))
