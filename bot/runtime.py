"""Starting the background parts: the outbox dispatcher, the scheduler and Telegram polling."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine

from bot import scheduler
from bot.config import Settings
from bot.dispatch import Dispatcher, Transport

log = logging.getLogger(__name__)


def transports(settings: Settings) -> list[Transport]:
    found: list[Transport] = []
    if settings.twilio_enabled:
        from bot.channels.twilio_sms import TwilioTransport

        found.append(TwilioTransport(settings))
    elif settings.simulator:
        from bot.channels.simulator import SimulatorTransport

        found.append(SimulatorTransport())
    if settings.telegram_enabled:
        from bot.channels.telegram import TelegramTransport

        found.append(TelegramTransport(settings))
    log.info("sending on %s", ", ".join(f"{t.channel} ({type(t).__name__}, {t.rate:g}/s)" for t in found) or "nothing")
    return found


def start_workers(db: Engine, settings: Settings, *, with_scheduler: bool = True) -> tuple[Dispatcher, Callable]:
    """Start the dispatcher (and scheduler, and Telegram polling); returns it and a stop function."""
    dispatcher = Dispatcher(db, settings, transports(settings))
    dispatcher.start()
    sched = scheduler.start(db, settings, wake=dispatcher.wake.set) if with_scheduler else None
    poller = None
    if settings.telegram_enabled and settings.telegram_mode not in ("webhook", "polling"):
        log.warning("TELEGRAM_MODE=%s is neither webhook nor polling: using the webhook", settings.telegram_mode)
    if settings.telegram_enabled and settings.telegram_mode == "polling":
        from bot.channels.telegram import Poller

        poller = Poller(db, settings, wake=dispatcher.wake.set)
        poller.start()

    def stop() -> None:
        if poller is not None:
            poller.stop()
        if sched is not None:
            sched.shutdown(wait=False)
        dispatcher.stop()

    return dispatcher, stop
