"""Scheduled work, one module per domain: each lists its JOBS; this file puts them in one visible table.

A job asks storage what is due at `now` and queues the messages. It is idempotent: each send first
claims a (job, slot) row in the same transaction as its outbox rows (storage.schedule.claim), so a late,
repeated or concurrent run never sends twice, and a run after downtime still sends what was missed.
"""

from __future__ import annotations

from bot.jobs import broadcasts, events, glossary, polls, purchases, retention, savings
from bot.jobs.job import Job

MODULES = (events, purchases, savings, polls, glossary, broadcasts, retention)

JOBS: tuple[Job, ...] = tuple(job for module in MODULES for job in module.JOBS)

__all__ = ["JOBS", "Job"]
