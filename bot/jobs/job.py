"""What a scheduled job is: a name, the function the scheduler calls, and how often."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Settings


@dataclass(frozen=True)
class Job:
    """`run(session, settings, now)` returns how many messages it queued; the scheduler commits them in one
    transaction. A fan-out too large for one (a poll round) sets `batched` and gets the engine instead,
    `run(engine, settings, now)`, to commit batch by batch so inbound messages never wait behind it."""

    name: str
    run: Callable[[Session, Settings, datetime], int] | Callable[[Engine, Settings, datetime], int]
    every_seconds: int = 60
    batched: bool = False
