"""What a scheduled job is: a name, the function the scheduler calls, and how often."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.config import Settings


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Session, Settings, datetime], int]  # returns how many messages it queued
    every_seconds: int = 60
