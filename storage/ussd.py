"""USSD sessions: where a dialled menu is, between the gateway's requests, keyed by its sessionId.

A USSD gateway calls once per screen with every answer of the session so far; the row holds how many of
those answers were acted on, the menu's position (JSON, read by bot/channels/ussd.py) and the last
screen, so a retry of the same request gets the same screen and acts once. The gateway's end-of-session
notification adds how the session ended and what it cost.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Field, Session, SQLModel, select

from storage.db import utcnow


class UssdSession(SQLModel, table=True):
    __tablename__ = "ussd_sessions"
    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(max_length=100, unique=True)
    phone: str = Field(max_length=64, index=True)
    identity_id: int | None = Field(default=None, foreign_key="identities.id", index=True)
    service_code: str = Field(default="", max_length=40)
    network_code: str = Field(default="", max_length=16)
    answers: int = 0  # how many answers of the session's text have been acted on
    state: str = Field(default="{}")  # the menu's position (bot/channels/ussd.py)
    screen: str = Field(default="")  # the last answer, "CON ..." or "END ..."
    ended: bool = False  # the last screen was an END
    status: str = Field(default="", max_length=20)  # from the end-of-session notification: Success, Failed...
    cost: str = Field(default="", max_length=40)  # as the gateway gave it, e.g. "KES 0.0000"
    duration_ms: int = 0
    hops: int = 0
    error: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


def find(session: Session, session_id: str) -> UssdSession | None:
    return session.exec(select(UssdSession).where(UssdSession.session_id == session_id)).first()


def record_end(session: Session, session_id: str, *, phone: str, status: str, cost: str, duration_ms: int,
               hops: int, error: str, now: datetime) -> UssdSession:
    """The gateway's end-of-session notification: how it ended and its cost, once per session (a repeat
    of the notification changes nothing but the same fields)."""
    row = find(session, session_id)
    if row is None:  # a session that ended before its first screen was stored (a timeout, a dropped call)
        row = UssdSession(session_id=session_id, phone=phone, ended=True)
    row.status, row.cost, row.error = status[:20], cost[:40], error[:200]
    row.duration_ms, row.hops = max(0, duration_ms), max(0, hops)
    row.ended = True
    row.ended_at = row.ended_at or now
    session.add(row)
    return row


def blank_screens_before(session: Session, cutoff: datetime, limit: int = 5000) -> int:
    """Erase what sessions older than `cutoff` showed (a balance, a name) and where they were, as message
    texts are erased (kept: who, when, how it ended, its cost)."""
    ids = session.exec(select(UssdSession.id).where(UssdSession.created_at < cutoff, UssdSession.screen != "")
                       .limit(limit)).all()
    if ids:
        session.execute(update(UssdSession).where(UssdSession.id.in_(ids)).values(screen="", state="{}"))
    return len(ids)


def forget(session: Session, identity_ids: list[int], phone: str) -> None:
    """A forgotten member's sessions go: their screens showed the member's money and name."""
    if identity_ids:
        session.execute(delete(UssdSession).where(UssdSession.identity_id.in_(identity_ids)))
    if phone:
        session.execute(delete(UssdSession).where(UssdSession.phone == phone))
