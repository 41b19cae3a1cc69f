"""Personal contacts: a facilitator's visits and calls to members, the evidence for the contact KPI."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Field, Session, SQLModel, select

from storage import audit
from storage.clusters import Cluster
from storage.db import utcnow
from storage.exports import local
from storage.members import Member

KINDS = ("visit", "call")
MAX_NOTE = 160


class Visit(SQLModel, table=True):
    __tablename__ = "visits"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    by_member_id: int | None = Field(default=None, foreign_key="members.id")
    kind: str = Field(default="visit", max_length=8)
    note: str = Field(default="", max_length=MAX_NOTE)
    at: datetime = Field(default_factory=utcnow, index=True)


class VisitError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def log_visit(session: Session, member: Member, by: Member | None, *, kind: str = "visit", note: str = "",
              at: datetime | None = None) -> Visit:
    """One contact with one member; the member must belong to the facilitator's own cluster."""
    if kind not in KINDS:
        raise VisitError("bad_kind")
    if by is not None and by.cluster_id != member.cluster_id:
        raise VisitError("other_cluster")
    if member.status not in ("active", "pending"):
        raise VisitError("not_member")
    if len(note) > MAX_NOTE:
        raise VisitError("note_too_long")
    visit = Visit(cluster_id=member.cluster_id, member_id=member.id, by_member_id=by.id if by else None,
                  kind=kind, note=note.strip(), at=at or utcnow())
    session.add(visit)
    audit.record(session, "visit.log", cluster_id=member.cluster_id, actor_member_id=visit.by_member_id,
                 subject=member.number, kind=kind)
    return visit


def visits_rows(session: Session, cluster: Cluster):
    columns = ["id", "at", "kind", "member_number", "member_name", "by_number", "note"]
    numbers = {m.id: m for m in session.exec(select(Member).where(Member.cluster_id == cluster.id))}

    def rows():
        for v in session.exec(select(Visit).where(Visit.cluster_id == cluster.id).order_by(Visit.at, Visit.id)):
            member, by = numbers.get(v.member_id), numbers.get(v.by_member_id)
            yield [v.id, local(v.at, cluster), v.kind, member.number if member else "",
                   member.name if member else "", by.number if by else "", v.note]

    return columns, rows()


def forget_member(session: Session, member_id: int) -> None:
    """Erasing a member: the notes written about them go; the visits stay, so the contact KPI is unchanged."""
    session.execute(update(Visit).where(Visit.member_id == member_id).values(note=""))


EXPORTS = {"visits": visits_rows}
