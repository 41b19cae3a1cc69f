"""The outbox dispatcher: sends queued messages at each channel's rate, retries with backoff, records status.

A message is claimed by pushing its next attempt a lease into the future in a short transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several dispatchers never claim the same row), sent outside
any transaction, then marked sent or rescheduled. A crash between claim and result leaves the row to be
retried when the lease runs out.

Each (channel, provider) pair is a lane with its own rate limit and thread: SMS may go out through
Twilio and Africa's Talking at once. A row names its provider; a row with none ('' , or a provider this
process has no transport for) goes through the channel's default lane (SMS_PROVIDER for SMS).

When the provider throttles (429) or fails in a way that may pass (5xx, timeout, refused connection),
the round stops and the rest of the claimed batch goes back to the queue, due when the failed message
is: nobody keeps hammering a provider that is down, and no lease runs out while we wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import select

from bot.config import Settings
from bot.logsafe import mask
from storage.db import claim_writer, is_postgres, session_scope, utcnow
from storage.members import Identity, blocks, stopped_addresses
from storage.messages import OutboundMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
MAX_BACKOFF = timedelta(minutes=30)
# A provider outage of hours must not lose messages: a message that keeps failing is given up only once it
# has had its attempts AND is this old (with backoff capped at MAX_BACKOFF, it is tried about 50 times).
GIVE_UP_AFTER = timedelta(hours=24)
IDLE_WAIT = 0.5


class SendError(Exception):
    """A provider refused a message.

    `permanent`: retrying this message will not help (it is marked failed with the reason).
    `opt_out`: this address cannot or will not receive (carrier opt-out, invalid number, blocked bot):
    the message fails and the address is silenced until its owner writes again.
    `retry_after`: the provider said when to come back (a 429's Retry-After); such a throttle is not
    counted against the message's attempts.
    """

    def __init__(self, reason: str, *, permanent: bool = False, opt_out: bool = False,
                 retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent or opt_out
        self.opt_out = opt_out
        self.retry_after = retry_after

    @property
    def throttled(self) -> bool:
        return not self.permanent and self.retry_after is not None


class Transport(Protocol):
    channel: str  # "sms" or "telegram": the kind of address
    provider: str  # "twilio", "africastalking", "simulator", "telegram"
    rate: float  # units per second (segments for SMS, messages for Telegram)

    def send(self, message: OutboundMessage) -> str:
        """Hand one message to the provider; return its id or raise SendError."""


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def now(self) -> datetime: ...


class SystemClock:
    """Wall time; sleeping ends early when `interrupt` is set (the dispatcher is stopping)."""

    def __init__(self, interrupt: threading.Event):
        self.interrupt = interrupt

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        self.interrupt.wait(max(0.0, seconds))

    def now(self) -> datetime:
        return utcnow()


@dataclass
class Result:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: Result) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed


class RateLimiter:
    """Paces sending to `rate` units a second: a unit is a message, or an SMS segment.

    No bursts: at most one unit is saved up while idle, so no one-second window ever holds more than
    `rate` + 1 units and a provider counting per second never sees us exceed its limit. A message of
    several units goes as soon as one is available and leaves a debt the next ones wait for.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate = max(rate, 0.001)
        self.clock, self.sleep = clock, sleep
        self.tokens = 1.0
        self.stamp = clock()
        self.paused_until = float("-inf")

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` (the provider asked us to wait)."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def acquire(self, units: float = 1.0) -> None:
        while True:
            now = self.clock()
            if now < self.paused_until:
                self.sleep(self.paused_until - now)
                continue
            self.tokens = min(1.0, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0 - 1e-9:
                self.tokens -= units
                return
            self.sleep((1.0 - self.tokens) / self.rate)


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """2, 4, 8, ... seconds after the 1st, 2nd, 3rd failure, at most MAX_BACKOFF, never before Retry-After."""
    delay = timedelta(seconds=min(2 ** max(attempts, 1), MAX_BACKOFF.total_seconds()))
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


def claim(db: Engine, channel: str, limit: int, now: datetime | None = None, provider: str | None = None,
          *, others: tuple[str, ...] | None = None) -> list[OutboundMessage]:
    """Take up to `limit` due messages of one channel for this dispatcher, for one lease.

    `provider`: only the rows that provider sends; with `others` (the channel's other lanes) this is the
    default lane, which also takes every row none of the others sends. None: any row of the channel.
    Messages due to an address that is silenced are failed here instead of sent, and so are the kinds a
    STOP blocks to a person who sent STOP after they were queued.
    """
    now = now or utcnow()
    with session_scope(db) as session:
        stmt = (select(OutboundMessage)
                .where(OutboundMessage.channel == channel, OutboundMessage.status == "queued",
                       OutboundMessage.next_attempt_at <= now)
                .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id).limit(limit))
        if others is not None:
            stmt = stmt.where(OutboundMessage.provider.notin_(others)) if others else stmt
        elif provider is not None:
            stmt = stmt.where(OutboundMessage.provider == provider)
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        else:
            claim_writer(session)  # no other dispatcher may claim the rows read here
        rows = list(session.exec(stmt))
        silenced = _silenced(session, channel, {row.address for row in rows})
        stopped = stopped_addresses(session, channel, {row.address for row in rows if blocks(row.kind)})
        claimed = []
        for row in rows:
            if row.address in silenced:
                row.status, row.last_error = "failed", f"address silenced: {silenced[row.address]}"[:300]
            elif row.address in stopped and blocks(row.kind):
                row.status, row.last_error = "failed", "held back: the person sent STOP"
            else:
                row.next_attempt_at = now + LEASE
                row.attempts += 1
                claimed.append(row)
            session.add(row)
        return claimed


def _silenced(session, channel: str, addresses: set[str]) -> dict[str, str]:
    if not addresses:
        return {}
    found = session.exec(select(Identity).where(Identity.channel == channel, Identity.address.in_(addresses),
                                                Identity.opted_out == True))  # noqa: E712
    return {identity.address: identity.opt_out_reason or "opted out" for identity in found}


def release(db: Engine, ids: list[int], due: datetime) -> None:
    """Give claimed but unsent messages back to the queue, due at `due`, their attempt not counted."""
    if not ids:
        return
    with session_scope(db) as session:
        for msg in session.exec(select(OutboundMessage).where(OutboundMessage.id.in_(ids),
                                                              OutboundMessage.status == "queued")):
            msg.next_attempt_at = due
            msg.attempts = max(0, msg.attempts - 1)
            session.add(msg)


def record_result(db: Engine, settings: Settings, msg_id: int, provider_id: str | None,
                  error: SendError | None, now: datetime | None = None) -> OutboundMessage:
    """Store what the provider said; returns the message as it now stands."""
    now = now or utcnow()
    with session_scope(db) as session:
        msg = session.get(OutboundMessage, msg_id)
        if msg is None or msg.status != "queued":
            return msg
        if error is None:
            msg.status, msg.provider_id, msg.sent_at, msg.last_error = "sent", provider_id or "", now, ""
        elif error.throttled:
            msg.last_error = error.reason[:300]
            msg.next_attempt_at = now + timedelta(seconds=max(error.retry_after, 1.0))
        elif error.permanent or (msg.attempts >= settings.dispatch_max_attempts
                                 and now - msg.created_at >= GIVE_UP_AFTER):
            msg.status, msg.last_error = "failed", error.reason[:300]
            if error.opt_out:
                silence_address(session, msg, error.reason)
        else:
            msg.last_error = error.reason[:300]
            msg.next_attempt_at = now + backoff(msg.attempts, error.retry_after)
        session.add(msg)
        return msg


def silence_address(session, msg: OutboundMessage, reason: str) -> None:
    """No more sends to an address the provider says cannot or will not receive, until it writes again."""
    identity = session.exec(select(Identity).where(Identity.channel == msg.channel,
                                                   Identity.address == msg.address)).first()
    if identity is not None:
        identity.opted_out = True
        identity.opt_out_reason = reason[:120]
        session.add(identity)
    for other in session.exec(select(OutboundMessage).where(
            OutboundMessage.channel == msg.channel, OutboundMessage.address == msg.address,
            OutboundMessage.status == "queued", OutboundMessage.id != msg.id)):
        other.status, other.last_error = "failed", f"address silenced: {reason}"[:300]
        session.add(other)
    log.info("silenced %s on %s: %s", mask(msg.address), msg.channel, reason[:120])


Lane = tuple[str, str]  # (channel, provider)


class Dispatcher:
    """Sends every lane's queue; one thread per (channel, provider) so a slow provider holds up no other.

    `clock` (monotonic, sleep, now) is injectable so tests check rates and backoffs without waiting.
    """

    def __init__(self, db: Engine, settings: Settings, transports: list[Transport], batch: int = 50,
                 clock: Clock | None = None):
        self.db, self.settings, self.batch = db, settings, batch
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.clock = clock or SystemClock(self.stopping)
        self.transports: dict[Lane, Transport] = {(t.channel, _provider(t)): t for t in transports}
        self.limiters = {lane: RateLimiter(t.rate, self.clock.monotonic, self.clock.sleep)
                         for lane, t in self.transports.items()}
        self.defaults = {}  # channel -> the provider of its default lane
        for channel, provider in self.transports:
            wanted = settings.default_sms_provider if channel == "sms" else provider
            if channel not in self.defaults or provider == wanted:
                self.defaults[channel] = provider

    def lanes(self, channel: str | None = None) -> list[Lane]:
        return [lane for lane in self.transports if channel is None or lane[0] == channel]

    def claim_size(self, lane: Lane | str) -> int:
        """No more than half a lease's worth at the lane's rate, so a claimed row is sent in time.
        (A channel alone means its default lane.)"""
        if isinstance(lane, str):
            lane = (lane, self.defaults[lane])
        rate = self.transports[lane].rate
        return max(1, min(self.batch, int(rate * LEASE.total_seconds() / 2)))

    def _claim(self, lane: Lane) -> list[OutboundMessage]:
        channel, provider = lane
        if self.defaults.get(channel) == provider:
            others = tuple(p for c, p in self.transports if c == channel and p != provider)
            return claim(self.db, channel, self.claim_size(lane), self.clock.now(), provider, others=others)
        return claim(self.db, channel, self.claim_size(lane), self.clock.now(), provider)

    def run_once(self, channel: str, provider: str | None = None) -> Result:
        """Send what is due now on one lane (every lane of the channel without `provider`); returns counts.
        Blocks only for the rate limit."""
        if provider is None:
            total = Result()
            for lane in self.lanes(channel):
                total.add(self._run_lane(lane))
            return total
        return self._run_lane((channel, provider))

    def _run_lane(self, lane: Lane) -> Result:
        channel = lane[0]
        transport, limiter = self.transports[lane], self.limiters[lane]
        result = Result()
        silenced: set[str] = set()  # failing a send to a dead address also failed the rest of the batch's
        batch = self._claim(lane)
        for index, msg in enumerate(batch):
            if self.stopping.is_set():
                release(self.db, [m.id for m in batch[index:]], self.clock.now())
                break
            if msg.address in silenced:
                result.failed += 1
                continue
            limiter.acquire(msg.segments if channel == "sms" else 1)
            error = None
            try:
                provider_id = transport.send(msg)
            except SendError as exc:
                provider_id, error = None, exc
            except Exception as exc:  # a provider fault we did not foresee is retried like a 500
                log.exception("send failed to %s", mask(msg.address))
                provider_id, error = None, SendError(f"{type(exc).__name__}: {exc}"[:300])
            stored = record_result(self.db, self.settings, msg.id, provider_id, error, self.clock.now())
            _count(result, stored)
            if error is not None and error.opt_out:
                silenced.add(msg.address)
            if error is not None and not error.permanent:
                self._hold_back(limiter, error, stored, batch[index + 1:])
                break
        return result

    def _hold_back(self, limiter: RateLimiter, error: SendError, failed: OutboundMessage,
                   rest: list[OutboundMessage]) -> None:
        """The provider is throttling or failing: wait as long as it asked, and return the rest."""
        if error.throttled:
            limiter.pause(error.retry_after)
        log.warning("%s send held back: %s", failed.channel, error.reason[:120])
        due = failed.next_attempt_at if failed.status == "queued" else self.clock.now()
        release(self.db, [m.id for m in rest], due)

    def drain(self, channel: str | None = None, max_rounds: int = 1000, wait: bool = False) -> Result:
        """Send until nothing more is due now (tests and the `chat` command use this).

        With `wait`, also sleep (on the dispatcher's clock) through backoffs until the queue is empty.
        """
        lanes = self.lanes(channel)
        channels = sorted({c for c, _p in lanes})
        total = Result()
        for _ in range(max_rounds):
            progress = Result()
            for lane in lanes:
                progress.add(self._run_lane(lane))
            total.add(progress)
            if progress.total:
                continue
            due = self.next_due(channels) if wait else None
            if due is None:
                break
            self.clock.sleep(max(0.0, (due - self.clock.now()).total_seconds()) + 0.001)
        return total

    def next_due(self, channels: list[str]) -> datetime | None:
        """When the earliest queued message of these channels may be sent."""
        with session_scope(self.db) as session:
            row = session.exec(select(OutboundMessage.next_attempt_at)
                               .where(OutboundMessage.channel.in_(channels), OutboundMessage.status == "queued")
                               .order_by(OutboundMessage.next_attempt_at).limit(1)).first()
        if row is not None and row.tzinfo is None:
            row = row.replace(tzinfo=utcnow().tzinfo)
        return row

    def _loop(self, lane: Lane) -> None:
        while not self.stopping.is_set():
            try:
                r = self._run_lane(lane)
            except Exception:
                log.exception("dispatcher round failed on %s/%s", *lane)
                r = Result()
            if r.total == 0:
                self.wake.wait(IDLE_WAIT)
                self.wake.clear()

    def start(self) -> list[threading.Thread]:
        self.threads = [threading.Thread(target=self._loop, args=(lane,), name=f"dispatch-{lane[0]}-{lane[1]}",
                                         daemon=True)
                        for lane in self.transports]
        for t in self.threads:
            t.start()
        return self.threads

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the message in hand, give the rest of the batch back, then free the transports."""
        self.stopping.set()
        self.wake.set()
        for t in self.threads:
            t.join(timeout)
        if not any(t.is_alive() for t in self.threads):
            self.close()

    def close(self) -> None:
        for transport in self.transports.values():
            close = getattr(transport, "close", None)
            if close is not None:
                close()


def _provider(transport: Transport) -> str:
    """A transport written before providers had names is its channel's only one."""
    return getattr(transport, "provider", "") or transport.channel


def _count(result: Result, msg: OutboundMessage | None) -> None:
    if msg is None:
        return
    if msg.status == "sent":
        result.sent += 1
    elif msg.status == "failed":
        result.failed += 1
    else:
        result.retried += 1
