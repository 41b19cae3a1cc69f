"""The one path every message takes: record, deduplicate, resolve identity, route, handle, commit."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from bot import i18n, outbox, router
from bot.config import Settings
from bot.context import Ctx, refusal_for
from bot.handlers import COMMANDS, FLOWS, PRIORITY
from bot.logsafe import mask
from storage.clusters import Cluster
from storage.db import insert_once, session_scope, utcnow
from storage.members import Member, get_or_create_identity
from storage.messages import Conversation, InboundMessage, OutboundMessage, find_inbound, replies_to

log = logging.getLogger(__name__)

MAX_TEXT = 1600
CONVERSATION_TTL = timedelta(hours=24)


@dataclass
class Inbound:
    channel: str  # "sms" or "telegram": the kind of address
    address: str  # E.164 phone, or Telegram chat id
    text: str
    provider_id: str  # MessageSid, update_id, or a simulator id
    contact_phone: str = ""  # a phone number a Telegram user shared with the contact button


@dataclass
class Outcome:
    replies: list[OutboundMessage] = field(default_factory=list)
    duplicate: bool = False
    inbound_id: int | None = None


def clean_text(text: str) -> str:
    """Drop control characters and cap the length; what is left is what a handler sees."""
    kept = "".join(ch if ch in "\n" or unicodedata.category(ch)[0] != "C" else " " for ch in text or "")
    return " ".join(kept.split())[:MAX_TEXT]


def receive(db: Engine, settings: Settings, inbound: Inbound, *, now: datetime | None = None,
            reply_status: str = "queued") -> Outcome:
    """Act on one provider delivery exactly once and store the replies with the changes, atomically.

    `reply_status` is "sent" when the channel hands the replies back in its own answer (TwiML, the
    simulator) and "queued" when the dispatcher must send them (Telegram).
    """
    now = now or utcnow()
    text = clean_text(inbound.text)
    inbound = replace(inbound, address=clean_text(inbound.address)[:64],
                      provider_id=clean_text(inbound.provider_id)[:64])
    with session_scope(db) as session:
        record = InboundMessage(channel=inbound.channel, provider_id=inbound.provider_id,
                                address=inbound.address, text=text, received_at=now)
        if not insert_once(session, record):
            earlier = find_inbound(session, inbound.channel, inbound.provider_id)
            return Outcome(replies=replies_to(session, earlier.id), duplicate=True, inbound_id=earlier.id)
        identity = get_or_create_identity(session, inbound.channel, inbound.address)
        if identity.opted_out:
            identity.opted_out = False  # writing again lifts a carrier opt-out or a block
            identity.opt_out_reason = ""
        identity.last_seen_at = now
        session.add(identity)
        member = session.get(Member, identity.member_id) if identity.member_id else None
        cluster = session.get(Cluster, member.cluster_id) if member else None
        ctx = Ctx(session=session, settings=settings, identity=identity, member=member, cluster=cluster,
                  lang=_language(member, identity, text, settings), text=text, channel=inbound.channel, now=now)
        record.identity_id, record.member_id = identity.id, identity.member_id
        if _flooded(session, settings, inbound, now, record):
            ctx.command = "FLOOD"
            if _flood_count(session, inbound, now) == settings.flood_limit + 1:
                ctx.reply("You are sending too many messages. Please wait a minute, then try again.")
        else:
            _handle(ctx, inbound)
        record.command = ctx.command[:40]
        session.add(record)
        rows = [outbox.queue(session, identity, r.text, buttons=r.buttons, inbound_id=record.id,
                             cluster_id=ctx.cluster.id if ctx.cluster else None, status=reply_status,
                             member_id=identity.member_id)
                for r in ctx.replies]
        for row in rows:
            if reply_status == "sent":
                row.sent_at = now
        session.flush()
        log.info("inbound %s from %s -> %s (%d replies)", inbound.channel, mask(inbound.address),
                 ctx.command or "-", len(rows))
        return Outcome(replies=rows, inbound_id=record.id)


def _language(member: Member | None, identity, text: str, settings: Settings) -> str:
    if member is not None:
        return member.language
    if identity.language:
        return identity.language
    found = router.match(text)
    if found and found.lang in i18n.LANGUAGES:
        return found.lang
    return settings.default_language


def _flood_count(session: Session, inbound: Inbound, now: datetime) -> int:
    return session.exec(select(func.count()).select_from(InboundMessage).where(
        InboundMessage.channel == inbound.channel, InboundMessage.address == inbound.address,
        InboundMessage.received_at > now - timedelta(minutes=1))).one()


def _flooded(session: Session, settings: Settings, inbound: Inbound, now: datetime, record) -> bool:
    if settings.flood_limit <= 0:
        return False
    session.flush()
    return _flood_count(session, inbound, now) > settings.flood_limit


def _handle(ctx: Ctx, inbound: Inbound) -> None:
    """Run the handler inside a savepoint: if it fails, its changes go and an apology is the reply."""
    try:
        with ctx.session.begin_nested():
            _route(ctx, inbound)
    except Exception:
        log.exception("handler failed for %s", ctx.command or "flow")
        ctx.replies = []
        ctx.conversation = None
        ctx.reply("Sorry, something went wrong. Please try again later.")


def _route(ctx: Ctx, inbound: Inbound) -> None:
    ctx.conversation = ctx.session.exec(
        select(Conversation).where(Conversation.identity_id == ctx.identity.id)).first()
    if inbound.contact_phone:
        ctx.args = inbound.contact_phone
        return _run(ctx, "LINK")
    if not ctx.text:
        ctx.command = "EMPTY"
        ctx.reply("Your message was empty. Send HELP to see what you can send.")
        return
    found = router.match(ctx.text)
    conv = ctx.conversation
    if conv is not None and conv.updated_at < ctx.now - CONVERSATION_TTL:
        ctx.end_flow()
        conv = None
        if found is None:
            ctx.command = "EXPIRED"
            ctx.reply("Your last conversation expired after 24 hours. Nothing was saved from it. "
                      "Send HELP to start again.")
            return
    if found and (found.command in PRIORITY or conv is None or conv.step not in FLOWS[conv.flow].free_text):
        ctx.args = found.args
        return _run(ctx, found.command)
    if conv is not None:
        ctx.command = f"{conv.flow}.{conv.step}"[:40]
        FLOWS[conv.flow].handler(ctx)
        return
    ctx.command = "UNKNOWN"
    if ctx.member is None:
        ctx.reply("Welcome! To register with your cluster send JOIN, or HELP for more.")
    else:
        ctx.reply("Sorry, I did not understand that. Send HELP to see what you can send.")


def _run(ctx: Ctx, name: str) -> None:
    ctx.command = name
    command = COMMANDS[name]
    refusal = refusal_for(command.access, ctx.member)
    if refusal:
        ctx.reply(refusal)
        return
    command.handler(ctx)
