"""The audit log: every change an admin makes, who made it, and what it touched."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Field, Session, SQLModel

from storage.db import utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    actor_member_id: int | None = Field(default=None, foreign_key="members.id")
    actor: str = Field(default="", max_length=80)
    action: str = Field(max_length=60)
    subject: str = Field(default="", max_length=120)
    details: str = Field(default="{}")


def record(session: Session, action: str, *, cluster_id: int | None, actor_member_id: int | None = None,
           actor: str = "", subject: str = "", **details) -> AuditEntry:
    entry = AuditEntry(cluster_id=cluster_id, actor_member_id=actor_member_id, actor=actor, action=action,
                       subject=subject, details=json.dumps(details, default=str, ensure_ascii=False))
    session.add(entry)
    return entry
