"""Scheduled work: APScheduler wakes each domain's job (bot/jobs/) every interval; what is sent is claimed in the database.

A job asks storage what is due at `now` and queues the messages. It is idempotent: each send first
claims a (job, slot) row in the same transaction as its outbox rows (storage.schedule.claim), so a late,
repeated or concurrent run never sends twice, and a run after downtime still sends what was missed.
Tests call `run_due(db, settings, now)` with any clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from bot.config import Settings
from bot.jobs import JOBS, Job
from storage.db import session_scope, utcnow

log = logging.getLogger(__name__)


def _run(db: Engine, settings: Settings, job: Job, now: datetime | None = None,
         wake: Callable[[], None] | None = None) -> int:
    try:
        if job.batched:
            count = job.run(db, settings, now or utcnow())
        else:
            with session_scope(db) as session:
                count = job.run(session, settings, now or utcnow())
    except Exception:
        log.exception("scheduled job %s failed", job.name)
        return 0
    if count:
        log.info("job %s queued %d messages", job.name, count)
        if wake is not None:
            wake()
    return count


def run_due(db: Engine, settings: Settings, now: datetime | None = None,
            jobs: tuple[Job, ...] = JOBS) -> dict[str, int]:
    """Run every job once at `now`: what the scheduler would do at that moment."""
    return {job.name: _run(db, settings, job, now or utcnow()) for job in jobs}


def start(db: Engine, settings: Settings, wake: Callable[[], None] | None = None,
          jobs: tuple[Job, ...] = JOBS) -> BackgroundScheduler:
    """Start APScheduler with one interval job per domain job, each calling `_run` with this process's
    engine, settings and dispatcher wake-up passed in, not looked up in module state.

    The jobs live in APScheduler's memory store: a job's schedule is rebuilt from `jobs` at every start
    (each runs at once, then every interval), and what matters across restarts, what was already sent,
    is claimed in the database by the job itself (storage.schedule.claim), so nothing is lost or repeated
    when the leader changes.
    """
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        timezone="UTC",
    )
    for job in jobs:
        scheduler.add_job(_run, "interval", seconds=job.every_seconds, id=job.name, name=job.name,
                          args=[db, settings, job], kwargs={"wake": wake}, next_run_time=utcnow())
    scheduler.start()
    return scheduler
