"""Queue outbox rows and read them back, for tests of the dispatcher and the channels."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from bot import outbox
from storage.db import session_scope
from storage.members import Identity, get_or_create_identity
from storage.messages import OutboundMessage


def queue(db: Engine, address: str, count: int = 1, text: str = "Hello {i}", *, channel: str = "sms",
          buttons: list[tuple[str, str]] | None = None) -> list[int]:
    """Queue `count` notices to one address (its identity created if needed); returns their ids."""
    with session_scope(db) as s:
        identity = get_or_create_identity(s, channel, address)
        rows = [outbox.queue(s, identity, text.format(i=i), kind="notice", buttons=buttons) for i in range(count)]
        s.flush()
        return [r.id for r in rows]


def message(db: Engine, msg_id: int) -> OutboundMessage:
    with session_scope(db) as s:
        return s.get(OutboundMessage, msg_id)


def identity(db: Engine, channel: str, address: str) -> Identity:
    with session_scope(db) as s:
        return s.exec(select(Identity).where(Identity.channel == channel, Identity.address == address)).one()
