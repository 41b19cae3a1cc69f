"""Idempotency of scheduled sends: one row per (job, time slot), written with the messages it caused."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, Session, SQLModel, UniqueConstraint

from storage.db import insert_once, utcnow


class ScheduledSlot(SQLModel, table=True):
    __tablename__ = "scheduled_slots"
    __table_args__ = (UniqueConstraint("job", "slot"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=80)
    slot: str = Field(max_length=80)
    done_at: datetime = Field(default_factory=utcnow)


def claim(session: Session, job: str, slot: str) -> bool:
    """True the first time a (job, slot) is claimed; the claim commits or rolls back with its sends."""
    return insert_once(session, ScheduledSlot(job=job, slot=slot))
