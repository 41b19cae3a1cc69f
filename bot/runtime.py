"""Starting the background parts: the outbox dispatcher, the scheduler and Telegram polling.

Every worker process runs a dispatcher (on PostgreSQL they share the outbox through `FOR UPDATE SKIP
LOCKED`; on SQLite one dispatcher is expected). The scheduler runs only in the process that holds the
leader lock (bot/leader.py): start as many workers as you like, exactly one of them schedules, and when
it dies another takes over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine

from bot import scheduler
from bot.channels.africastalking import AfricasTalkingTransport
from bot.channels.simulator import SimulatorTransport
from bot.channels.telegram import Poller, TelegramTransport
from bot.channels.twilio_sms import TwilioTransport
from bot.config import Settings
from bot.dispatch import Dispatcher, Transport
from bot.leader import Leadership

log = logging.getLogger(__name__)

def transports(settings: Settings) -> list[Transport]:
    """Every configured provider's transport: the dispatcher runs one lane per (channel, provider)."""
    found: list[Transport] = []
    if settings.twilio_enabled:
        found.append(TwilioTransport(settings))
    if settings.at_enabled:
        found.append(AfricasTalkingTransport(settings))
    if not settings.real_sms and settings.simulator:
        found.append(SimulatorTransport())
    if settings.telegram_enabled:
        found.append(TelegramTransport(settings))
    if settings.sms_provider and settings.sms_provider not in {t.provider for t in found if t.channel == "sms"}:
        log.warning("SMS_PROVIDER=%s is not configured: its SMS go through %s", settings.sms_provider,
                    next((t.provider for t in found if t.channel == "sms"), "nothing"))
    log.info("sending on %s", ", ".join(f"{t.channel}/{t.provider} ({t.rate:g}/s)" for t in found) or "nothing")
    return found


def scheduler_leadership(db: Engine, settings: Settings, wake: Callable[[], None] | None = None,
                         interval: float | None = None) -> Leadership:
    """The scheduler, started only while this process holds the leader lock and shut down when it loses it."""

    def lead() -> Callable[[], None]:
        sched = scheduler.start(db, settings, wake=wake)
        return lambda: sched.shutdown(wait=False)

    return Leadership(db, lead, interval=interval or settings.leader_interval)


def start_workers(db: Engine, settings: Settings, *, with_scheduler: bool = True,
                  with_dispatcher: bool = True) -> tuple[Dispatcher | None, Callable[[], None]]:
    """Start the dispatcher, the scheduler's leader election and Telegram polling; returns the dispatcher
    (None without one) and a stop function."""
    dispatcher = Dispatcher(db, settings, transports(settings)) if with_dispatcher else None
    if dispatcher is not None:
        dispatcher.start()
    wake = dispatcher.wake.set if dispatcher is not None else None
    leadership = scheduler_leadership(db, settings, wake) if with_scheduler else None
    if leadership is not None:
        leadership.start()
    poller = None
    if settings.telegram_enabled and settings.telegram_mode not in ("webhook", "polling"):
        log.warning("TELEGRAM_MODE=%s is neither webhook nor polling: using the webhook", settings.telegram_mode)
    if settings.telegram_enabled and settings.telegram_mode == "polling":
        poller = Poller(db, settings, wake=wake or (lambda: None))
        poller.start()

    def stop() -> None:
        if poller is not None:
            poller.stop()
        if leadership is not None:
            leadership.stop()
        if dispatcher is not None:
            dispatcher.stop()

    return dispatcher, stop
