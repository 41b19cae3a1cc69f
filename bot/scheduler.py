"""Scheduled work: APScheduler (jobs persisted in the database) wakes each domain's job every interval.

A job asks storage what is due at `now` and queues the messages. It is idempotent: each send first
claims a (job, slot) row in the same transaction as its outbox rows (storage.schedule.claim), so a late,
repeated or concurrent run never sends twice, and a run after downtime still sends what was missed.
Tests call `run_due(db, settings, now)` with any clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Settings
from storage.db import session_scope, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Session, Settings, datetime], int]  # returns how many messages it queued
    every_seconds: int = 60


def all_jobs() -> list[Job]:
    from bot.handlers import MODULES

    return [job for module in MODULES for job in getattr(module, "JOBS", [])]


_runtime: dict[str, object] = {}


def run_job(name: str, now: datetime | None = None) -> int:
    """Entry point APScheduler calls by reference (so the job store can persist it)."""
    db, settings = _runtime["db"], _runtime["settings"]
    job = next(j for j in all_jobs() if j.name == name)
    return _run(db, settings, job, now or utcnow())


def _run(db: Engine, settings: Settings, job: Job, now: datetime) -> int:
    try:
        with session_scope(db) as session:
            count = job.run(session, settings, now)
    except Exception:
        log.exception("scheduled job %s failed", job.name)
        return 0
    if count:
        log.info("job %s queued %d messages", job.name, count)
        wake = _runtime.get("wake")
        if wake is not None:
            wake()
    return count


def run_due(db: Engine, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Run every job once at `now`: what the scheduler would do at that moment."""
    return {job.name: _run(db, settings, job, now or utcnow()) for job in all_jobs()}


def start(db: Engine, settings: Settings, wake: Callable[[], None] | None = None) -> BackgroundScheduler:
    _runtime.update(db=db, settings=settings, wake=wake)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=db, tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        timezone="UTC",
    )
    scheduler.start(paused=True)
    wanted = {job.name for job in all_jobs()}
    for stale in scheduler.get_jobs():
        if stale.id not in wanted:
            stale.remove()
    for job in all_jobs():
        scheduler.add_job("bot.scheduler:run_job", "interval", seconds=job.every_seconds, args=[job.name],
                          id=job.name, name=job.name, replace_existing=True, next_run_time=utcnow())
    scheduler.resume()
    return scheduler
