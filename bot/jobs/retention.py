"""Keeping message texts only as long as they are useful: RETENTION_DAYS after which bodies are erased.

Who wrote, when, on which channel and what happened to a message stay (delivery reports and KPIs need
them); the words themselves go, and so do the screens a USSD session showed. Ledger entries, pledges and answers are not messages and are kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config import Settings
from bot.jobs.job import Job
from storage.messages import blank_texts_before
from storage.ussd import blank_screens_before


def erase_old_texts(session: Session, settings: Settings, now: datetime) -> int:
    if settings.retention_days > 0:
        cutoff = now - timedelta(days=settings.retention_days)
        blank_texts_before(session, cutoff)
        blank_screens_before(session, cutoff)
    return 0  # nothing queued to send


COMMANDS: list = []
JOBS = [Job("messages.retention", erase_old_texts, every_seconds=3600)]
