"""Inbound messages (each provider delivery acted on once) and the outbox (every message sent is a row)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Field, Index, Session, SQLModel, UniqueConstraint, select

from storage.db import utcnow

OUTBOX_STATUSES = ("queued", "sent", "delivered", "failed")


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "provider_id"),
                      Index("ix_inbound_messages_address_time", "address", "received_at"))
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=12)
    provider_id: str = Field(max_length=64)
    address: str = Field(max_length=64)
    identity_id: int | None = Field(default=None, foreign_key="identities.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="members.id", index=True)
    text: str = Field(default="")
    command: str = Field(default="", max_length=40)
    received_at: datetime = Field(default_factory=utcnow, index=True)


class OutboundMessage(SQLModel, table=True):
    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_due", "status", "channel", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=12, index=True)
    # Which provider sends it ("twilio", "africastalking", ...); '' : the channel's default provider.
    provider: str = Field(default="", max_length=20)
    address: str = Field(max_length=64, index=True)
    identity_id: int | None = Field(default=None, foreign_key="identities.id")
    member_id: int | None = Field(default=None, foreign_key="members.id", index=True)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    inbound_id: int | None = Field(default=None, foreign_key="inbound_messages.id", index=True)
    kind: str = Field(default="reply", max_length=20)
    batch: str = Field(default="", max_length=40, index=True)
    text: str = Field(default="")
    buttons: str = Field(default="")
    segments: int = 1
    encoding: str = Field(default="GSM-7", max_length=8)
    status: str = Field(default="queued", max_length=10, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    provider_id: str = Field(default="", max_length=64, index=True)
    link_id: str = Field(default="", max_length=100)  # Africa's Talking's linkId of the message answered
    last_error: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None
    delivered_at: datetime | None = None


class Conversation(SQLModel, table=True):
    """The question an identity is answering: a flow name, a step and the answers so far (JSON)."""

    __tablename__ = "conversations"
    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identities.id", unique=True)
    flow: str = Field(max_length=40)
    step: str = Field(max_length=40)
    data: str = Field(default="{}")
    updated_at: datetime = Field(default_factory=utcnow)


def replies_to(session: Session, inbound_id: int) -> list[OutboundMessage]:
    return list(session.exec(select(OutboundMessage).where(OutboundMessage.inbound_id == inbound_id)
                             .order_by(OutboundMessage.id)))


def find_inbound(session: Session, channel: str, provider_id: str) -> InboundMessage | None:
    return session.exec(select(InboundMessage).where(InboundMessage.channel == channel,
                                                     InboundMessage.provider_id == provider_id)).first()


def mark_status(session: Session, provider_id: str, status: str, error: str = "") -> OutboundMessage | None:
    """Move a message forward (queued → sent → delivered, or failed); never backwards."""
    msg = session.exec(select(OutboundMessage).where(OutboundMessage.provider_id == provider_id)).first()
    if msg is None:
        return None
    order = {"queued": 0, "sent": 1, "delivered": 2, "failed": 2}
    if order.get(status, -1) < order[msg.status] or msg.status in ("delivered", "failed"):
        return msg
    msg.status = status
    if error:
        msg.last_error = error[:300]
    if status == "delivered":
        msg.delivered_at = utcnow()
    session.add(msg)
    return msg


def blank_texts_before(session: Session, cutoff: datetime, limit: int = 5000) -> int:
    """Erase the text of messages older than `cutoff` (kept: who, when, status, segments); returns how many."""
    done = 0
    for model, stamp in ((InboundMessage, InboundMessage.received_at), (OutboundMessage, OutboundMessage.created_at)):
        ids = session.exec(select(model.id).where(stamp < cutoff, model.text != "").limit(limit)).all()
        if ids:
            session.execute(update(model).where(model.id.in_(ids)).values(text=""))
            done += len(ids)
    return done
