"""Broadcasts: a facilitator's own text to a segment of members, sent now or at a set time.

A broadcast is one row; each message it causes is an outbox row with batch `broadcast:<id>`, so the
delivery report and the progress while it goes out are counts over the outbox, never a second tally
that could drift. No message text is built here: the text is the facilitator's own words.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, func, select

from storage import audit
from storage.clusters import Cluster
from storage.db import utcnow
from storage.exports import local
from storage.messages import OutboundMessage

STATUSES = ("scheduled", "sending", "done", "cancelled")
DUPLICATE_WINDOW = timedelta(hours=1)
MAX_TEXT = 1000
MAX_PARTS = 4


class Broadcast(SQLModel, table=True):
    __tablename__ = "broadcasts"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    author_member_id: int | None = Field(default=None, foreign_key="members.id")
    segment: str = Field(max_length=200)
    text: str = Field(default="")
    text_hash: str = Field(max_length=64, index=True)
    parts: int = 1
    recipients: int = 0
    skipped: int = 0
    segments_total: int = 0
    status: str = Field(default="sending", max_length=10, index=True)
    send_at: datetime | None = Field(default=None, index=True)
    urgent: bool = False  # the facilitator chose to send it through the cluster's quiet hours
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class BroadcastError(ValueError):
    """A broadcast rule refused the change; `code` names the rule for the handler's wording."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.code = code


def text_hash(text: str) -> str:
    """Two texts that differ only in spacing or case are the same broadcast for the duplicate check."""
    return hashlib.sha256(" ".join(text.split()).casefold().encode("utf-8")).hexdigest()


def batch_key(broadcast: Broadcast) -> str:
    return f"broadcast:{broadcast.id}"


def create(session: Session, cluster: Cluster, author_id: int | None, segment: str, text: str, *,
           parts: int = 1, now: datetime | None = None, send_at: datetime | None = None,
           urgent: bool = False) -> Broadcast:
    """Record a broadcast; `send_at` in the future makes it wait for the scheduler; `urgent` sends it
    through the cluster's quiet hours."""
    now = now or utcnow()
    text = text.strip()
    if not text:
        raise BroadcastError("empty")
    if len(text) > MAX_TEXT or not 1 <= parts <= MAX_PARTS:
        raise BroadcastError("too_long")
    if send_at is not None and send_at <= now:
        raise BroadcastError("past")
    broadcast = Broadcast(cluster_id=cluster.id, author_member_id=author_id, segment=segment[:200], text=text,
                          text_hash=text_hash(text), parts=parts, created_at=now, send_at=send_at, urgent=urgent,
                          status="scheduled" if send_at else "sending", started_at=None if send_at else now)
    session.add(broadcast)
    session.flush()
    audit.record(session, "broadcast.schedule" if send_at else "broadcast.send", cluster_id=cluster.id,
                 actor_member_id=author_id, subject=f"broadcast {broadcast.id}", segment=segment, parts=parts,
                 **({"urgent": True} if urgent else {}))
    return broadcast


def record_sent(session: Session, broadcast: Broadcast, recipients: int, skipped: int, segments: int,
                now: datetime) -> None:
    """What the send queued: the counts the report and the KPI pages show without re-counting."""
    broadcast.recipients, broadcast.skipped, broadcast.segments_total = recipients, skipped, segments
    broadcast.status = "sending" if recipients else "done"
    broadcast.started_at = broadcast.started_at or now
    if not recipients:
        broadcast.finished_at = now
    session.add(broadcast)


def recent_duplicate(session: Session, cluster: Cluster, segment: str, text: str,
                     now: datetime) -> Broadcast | None:
    """The same text to the same segment within the last hour, if any: sending again needs a yes.

    Segments compare without case, as members are selected ('location:moshi' reaches Moshi).
    """
    return session.exec(select(Broadcast).where(
        Broadcast.cluster_id == cluster.id, func.lower(Broadcast.segment) == segment[:200].lower(),
        Broadcast.text_hash == text_hash(text.strip()), Broadcast.status.in_(("sending", "done", "scheduled")),
        Broadcast.created_at > now - DUPLICATE_WINDOW).order_by(Broadcast.id.desc())).first()


def find(session: Session, cluster: Cluster, broadcast_id: int) -> Broadcast | None:
    """A broadcast of this cluster only: an id from another cluster is as good as unknown."""
    found = session.get(Broadcast, broadcast_id)
    return found if found is not None and found.cluster_id == cluster.id else None


def delivery(session: Session, broadcast: Broadcast) -> dict[str, int]:
    """Messages of the broadcast by outbox status: queued, sent, delivered, failed."""
    counts = dict.fromkeys(("queued", "sent", "delivered", "failed"), 0)
    for status, count in session.exec(select(OutboundMessage.status, func.count()).where(
            OutboundMessage.batch == batch_key(broadcast)).group_by(OutboundMessage.status)):
        counts[status] = counts.get(status, 0) + count
    return counts


def due(session: Session, now: datetime) -> list[Broadcast]:
    return list(session.exec(select(Broadcast).where(Broadcast.status == "scheduled", Broadcast.send_at <= now)
                             .order_by(Broadcast.send_at, Broadcast.id)))


def in_progress(session: Session) -> list[Broadcast]:
    return list(session.exec(select(Broadcast).where(Broadcast.status == "sending").order_by(Broadcast.id)))


def finish(session: Session, broadcast: Broadcast, now: datetime) -> None:
    broadcast.status, broadcast.finished_at = "done", now
    session.add(broadcast)


def cancel(session: Session, broadcast: Broadcast, actor_id: int | None) -> Broadcast:
    """Only a broadcast still waiting for its time can be cancelled; one going out is already queued."""
    if broadcast.status != "scheduled":
        raise BroadcastError("not_scheduled", broadcast.status)
    broadcast.status = "cancelled"
    session.add(broadcast)
    audit.record(session, "broadcast.cancel", cluster_id=broadcast.cluster_id, actor_member_id=actor_id,
                 subject=f"broadcast {broadcast.id}")
    return broadcast


def recent(session: Session, cluster: Cluster, limit: int = 20) -> list[Broadcast]:
    return list(session.exec(select(Broadcast).where(Broadcast.cluster_id == cluster.id)
                             .order_by(Broadcast.id.desc()).limit(limit)))


def broadcasts_rows(session: Session, cluster: Cluster):
    columns = ["id", "segment", "text", "parts", "status", "recipients", "skipped", "segments_total",
               "queued", "sent", "delivered", "failed", "created_at", "send_at", "finished_at"]

    def rows():
        for b in session.exec(select(Broadcast).where(Broadcast.cluster_id == cluster.id).order_by(Broadcast.id)):
            d = delivery(session, b)
            yield [b.id, b.segment, b.text, b.parts, b.status, b.recipients, b.skipped, b.segments_total,
                   d["queued"], d["sent"], d["delivered"], d["failed"], local(b.created_at, cluster),
                   local(b.send_at, cluster), local(b.finished_at, cluster)]

    return columns, rows()


EXPORTS = {"broadcasts": broadcasts_rows}
