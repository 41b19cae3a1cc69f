"""Putting messages in the outbox: every message the bot sends is a row before any provider sees it."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import insert as sa_insert
from sqlmodel import Session

from bot import i18n, sms
from storage.clusters import Cluster, quiet_until
from storage.db import build, utcnow
from storage.members import UNSOLICITED, Identity, Member, contact_identity
from storage.messages import OutboundMessage


def render_for_channel(channel: str, text: str) -> tuple[str, int, str]:
    """SMS text is normalised and held to the budget; Telegram gets the text unchanged."""
    if channel != "sms":
        return text, 1, "UTF-8"
    encoded = sms.encode(text)
    if encoded.segments > sms.budget(encoded.encoding):
        encoded = sms.encode(sms.truncate(encoded.text))
    return encoded.text, encoded.segments, encoded.encoding


def queue(session: Session, identity: Identity, text: str, *, kind: str = "reply",
          buttons: list[tuple[str, str]] | None = None, member_id: int | None = None,
          cluster_id: int | None = None, inbound_id: int | None = None, batch: str = "",
          status: str = "queued", provider: str | None = None, link_id: str = "",
          now: datetime | None = None, urgent: bool = False) -> OutboundMessage:
    """`provider`: who sends it (a reply: the provider the person wrote through); None: the cluster's SMS
    provider, '' when it has none (the dispatcher's default, SMS_PROVIDER). `now`/`urgent`: quiet hours
    (held_until). The row is written with the session's next flush."""
    msg = compose(session, identity, text, kind=kind, buttons=buttons, member_id=member_id, cluster_id=cluster_id,
                  inbound_id=inbound_id, batch=batch, status=status, provider=provider, link_id=link_id,
                  now=now, urgent=urgent)
    session.add(msg)
    return msg


def compose(session: Session, identity: Identity, text: str, *, kind: str = "reply",
            buttons: list[tuple[str, str]] | None = None, member_id: int | None = None,
            cluster_id: int | None = None, inbound_id: int | None = None, batch: str = "",
            status: str = "queued", provider: str | None = None, link_id: str = "",
            now: datetime | None = None, urgent: bool = False) -> OutboundMessage:
    """The outbox row queue() writes, not yet in the session (insert() writes rows composed this way)."""
    body, segments, encoding = render_for_channel(identity.channel, text)
    if provider is None:
        provider = _cluster_provider(session, identity.channel, cluster_id)
    held = None if urgent else held_until(session, kind, cluster_id, now or utcnow())
    msg = build(OutboundMessage, channel=identity.channel, provider=provider, link_id=link_id,
                address=identity.address, identity_id=identity.id,
                member_id=member_id if member_id is not None else identity.member_id,
                cluster_id=cluster_id, inbound_id=inbound_id, kind=kind, batch=batch, text=body,
                buttons=json.dumps(buttons) if buttons and identity.channel == "telegram" else "",
                segments=segments, encoding=encoding, status=status)
    if held is not None:
        msg.next_attempt_at = held
    return msg


def insert(session: Session, rows: list[OutboundMessage]) -> None:
    """Write composed rows now, one Core INSERT each, outside the ORM's unit of work (which costs more
    Python than the INSERT itself): the engine's replies, the last rows of a message's transaction. The
    objects stay out of the session, with their ids set. Whatever the session holds is flushed first, so
    ids keep the order in which rows were queued."""
    if not rows:
        return
    session.flush()
    connection = session.connection()
    for row in rows:
        row.id = connection.execute(_INSERT, {name: getattr(row, name) for name in _COLUMNS}).scalar_one()


_TABLE = OutboundMessage.__table__
_COLUMNS = tuple(c.name for c in _TABLE.columns if c.name != "id")
_INSERT = sa_insert(_TABLE).returning(_TABLE.c.id)  # built once


def _cluster_provider(session: Session, channel: str, cluster_id: int | None) -> str:
    if channel != "sms" or cluster_id is None:
        return ""
    cluster = session.get(Cluster, cluster_id)
    return cluster.sms_provider if cluster is not None else ""


def held_until(session: Session, kind: str, cluster_id: int | None, now: datetime) -> datetime | None:
    """When a message of this kind queued at `now` may go: the end of the cluster's quiet hours for what a
    STOP blocks too (storage.members.UNSOLICITED: broadcasts, invitations, reminders, polls, digests),
    None (now) for answers and notices about the person's own business. The one rule of quiet hours:
    queue() asks it for every row, whoever queues it."""
    if kind not in UNSOLICITED or cluster_id is None:
        return None
    cluster = session.get(Cluster, cluster_id)
    return quiet_until(cluster, now) if cluster is not None else None


def word(member: Member, cluster: Cluster, channel: str, msgid: str | i18n.Plural, /, **kwargs) -> str:
    """A message in the member's language for this cluster; by SMS its names are shortened to fit one
    message (sms.fit), never the words around them."""
    def render(values: dict) -> str:
        return i18n.translate(member.language, msgid, region=cluster.region, tz=cluster.timezone, **values)

    return sms.for_channel(render, kwargs, channel=channel, lang=member.language)


def notify(session: Session, member: Member, msgid: str, /, *, kind: str = "notice", batch: str = "",
           buttons: list[tuple[str, str]] | None = None, in_cluster: Cluster | None = None,
           now: datetime | None = None, **kwargs) -> OutboundMessage | None:
    """Word a message in the member's own language and queue it to the address they last used.

    What a STOP blocks (broadcasts, invitations, reminders, polls: storage.members.UNSOLICITED) is not
    sent to a member who sent it, and waits out the cluster's quiet hours (held_until; `now` is the
    moment it is queued). Returns None when the member cannot be reached.
    """
    identity = contact_identity(session, member, kind)
    if identity is None:
        return None
    cluster = in_cluster
    if cluster is None or cluster.id != member.cluster_id:
        cluster = session.get(Cluster, member.cluster_id)
    text = word(member, cluster, identity.channel, msgid, **kwargs)
    labels = [(i18n.translate(member.language, label), value) for label, value in (buttons or [])]
    return queue(session, identity, text, kind=kind, buttons=labels, member_id=member.id,
                 cluster_id=member.cluster_id, batch=batch, now=now)
