"""The outbox dispatcher: sends queued messages at each channel's rate, retries with backoff, records status.

A message is claimed by pushing its next attempt a lease into the future in a short transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several dispatchers never claim the same row), sent outside
any transaction, then marked sent or rescheduled. A crash between claim and result leaves the row to be
retried when the lease runs out.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import select

from bot.config import Settings
from bot.logsafe import mask
from storage.db import is_postgres, session_scope, utcnow
from storage.members import Identity
from storage.messages import OutboundMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
MAX_BACKOFF = timedelta(minutes=30)


class SendError(Exception):
    """A provider refused a message. Permanent errors are not retried; opt-outs silence the address."""

    def __init__(self, reason: str, *, permanent: bool = False, opt_out: bool = False,
                 retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent or opt_out
        self.opt_out = opt_out
        self.retry_after = retry_after


class Transport(Protocol):
    channel: str
    rate: float  # units per second (segments for SMS, messages for Telegram)

    def send(self, message: OutboundMessage) -> str:
        """Hand one message to the provider; return its id or raise SendError."""


@dataclass
class Result:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class RateLimiter:
    """A token bucket: at most `rate` units a second, bursts of one second's worth."""

    def __init__(self, rate: float, clock=time.monotonic, sleep=time.sleep):
        self.rate = max(rate, 0.001)
        self.clock, self.sleep = clock, sleep
        self.tokens = min(1.0, self.rate)
        self.stamp = clock()
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def acquire(self, units: float = 1.0) -> None:
        while True:
            now = self.clock()
            if now < self.paused_until:
                self.sleep(self.paused_until - now)
                continue
            self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= units or (self.tokens >= 1.0 and units > max(self.rate, 1.0)):
                self.tokens -= units
                return
            self.sleep((units - self.tokens) / self.rate)


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    delay = timedelta(seconds=min(2 ** attempts, MAX_BACKOFF.total_seconds()))
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


def claim(db: Engine, channel: str, limit: int, now: datetime | None = None) -> list[OutboundMessage]:
    """Take up to `limit` due messages of one channel for this dispatcher, for one lease."""
    now = now or utcnow()
    with session_scope(db) as session:
        stmt = (select(OutboundMessage)
                .where(OutboundMessage.channel == channel, OutboundMessage.status == "queued",
                       OutboundMessage.next_attempt_at <= now)
                .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id).limit(limit))
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(session.exec(stmt))
        for row in rows:
            row.next_attempt_at = now + LEASE
            row.attempts += 1
            session.add(row)
        return rows


def record_result(db: Engine, settings: Settings, msg_id: int, provider_id: str | None,
                  error: SendError | None, now: datetime | None = None) -> str:
    """Store what the provider said; returns the message's new status."""
    now = now or utcnow()
    with session_scope(db) as session:
        msg = session.get(OutboundMessage, msg_id)
        if msg.status != "queued":
            return msg.status
        if error is None:
            msg.status, msg.provider_id, msg.sent_at, msg.last_error = "sent", provider_id or "", now, ""
        elif error.permanent or msg.attempts >= settings.dispatch_max_attempts:
            msg.status, msg.last_error = "failed", error.reason[:300]
            if error.opt_out or error.permanent:
                silence_address(session, msg, error.reason)
        else:
            msg.last_error = error.reason[:300]
            msg.next_attempt_at = now + backoff(msg.attempts, error.retry_after)
        session.add(msg)
        return msg.status


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


class Dispatcher:
    """Sends every channel's queue; one thread per channel so a slow provider does not hold up another."""

    def __init__(self, db: Engine, settings: Settings, transports: list[Transport], batch: int = 50):
        self.db, self.settings, self.batch = db, settings, batch
        self.transports = {t.channel: t for t in transports}
        self.limiters = {t.channel: RateLimiter(t.rate) for t in transports}
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def run_once(self, channel: str) -> Result:
        """Send what is due on one channel now; returns counts. Blocks only for the rate limit."""
        transport, limiter = self.transports[channel], self.limiters[channel]
        result = Result()
        for msg in claim(self.db, channel, self.batch):
            if self.stopping.is_set():
                break
            limiter.acquire(msg.segments if channel == "sms" else 1)
            try:
                provider_id, error = transport.send(msg), None
            except SendError as exc:
                provider_id, error = None, exc
                if exc.retry_after:
                    limiter.pause(exc.retry_after)
            except Exception as exc:  # a provider fault we did not foresee is retried like a 500
                log.exception("send failed to %s", mask(msg.address))
                provider_id, error = None, SendError(f"{type(exc).__name__}: {exc}")
            status = record_result(self.db, self.settings, msg.id, provider_id, error)
            if status == "sent":
                result.sent += 1
            elif status == "failed":
                result.failed += 1
            else:
                result.retried += 1
        return result

    def drain(self, channel: str | None = None, max_rounds: int = 1000) -> Result:
        """Send until nothing more is due now (tests and the `chat` command use this)."""
        total = Result()
        for _ in range(max_rounds):
            progress = Result()
            for name in ([channel] if channel else list(self.transports)):
                r = self.run_once(name)
                progress.sent += r.sent
                progress.retried += r.retried
                progress.failed += r.failed
            total.sent += progress.sent
            total.retried += progress.retried
            total.failed += progress.failed
            if progress.sent + progress.retried + progress.failed == 0:
                break
        return total

    def _loop(self, channel: str) -> None:
        while not self.stopping.is_set():
            try:
                r = self.run_once(channel)
            except Exception:
                log.exception("dispatcher round failed on %s", channel)
                r = Result()
            if r.sent + r.retried + r.failed == 0:
                self.wake.wait(0.5)
                self.wake.clear()

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._loop, args=(c,), name=f"dispatch-{c}", daemon=True)
                   for c in self.transports]
        for t in threads:
            t.start()
        return threads

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
