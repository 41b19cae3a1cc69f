"""The one path every message takes: record, deduplicate, resolve identity, route, handle, commit."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, func, select

from bot import flow, i18n, outbox, router
from bot.config import Settings
from bot.context import CONVERSATION_TTL, Ctx, refusal_for
from bot.handlers import PRIORITY, TABLE
from bot.logsafe import mask
from storage.clusters import Cluster
from storage.db import claim_writer, insert_new, session_scope, utcnow
from storage.glossary import GlossaryIndex
from storage.members import Identity, Member, get_or_create_identity
from storage.messages import Conversation, InboundMessage, OutboundMessage, find_inbound, replies_to

log = logging.getLogger(__name__)

MAX_TEXT = 1600
LAST_SEEN_STEP = timedelta(minutes=1)  # identities.last_seen_at is written at most this often per address


@dataclass
class Inbound:
    channel: str  # "sms" or "telegram": the kind of address
    address: str  # E.164 phone, or Telegram chat id
    text: str
    provider_id: str  # MessageSid, update_id, or a simulator id
    contact_phone: str = ""  # a phone number a Telegram user shared with the contact button
    provider: str = ""  # who carried it ("twilio", "africastalking", ...): the replies go back the same way
    link_id: str = ""  # Africa's Talking's linkId, passed back with the replies


@dataclass
class Outcome:
    replies: list[OutboundMessage] = field(default_factory=list)
    duplicate: bool = False
    inbound_id: int | None = None
    conversation: str = ""  # the flow left open for the next message ('' when none)


def clean_text(text: str) -> str:
    """Drop control characters and cap the length; what is left is what a handler sees."""
    kept = "".join(ch if ch in "\n" or unicodedata.category(ch)[0] != "C" else " " for ch in text or "")
    return " ".join(kept.split())[:MAX_TEXT]


def receive(db: Engine, settings: Settings, inbound: Inbound, *, now: datetime | None = None,
            reply_status: str = "queued", glossary: GlossaryIndex | None = None,
            route: Callable[[Ctx], None] | None = None) -> Outcome:
    """Act on one provider delivery exactly once and store the replies with the changes, atomically.

    `reply_status` is "sent" when the channel hands the replies back in its own answer (TwiML, the
    simulator) and "queued" when the dispatcher must send them (Telegram). `glossary` is the process's
    lookup index, kept by whoever keeps the engine; without it a lookup builds one for itself. `route`
    replaces the keyword routing for a channel that reads its answers itself (a USSD menu: the answer is
    a menu choice, bot/channels/ussd.py); it runs where the handler would, with the same Ctx.

    A handler that fails changes nothing: its whole transaction is rolled back and the message is taken
    again, recorded with an apology as its reply and the handler not run (rare, so no savepoint is paid
    for on every message; on PostgreSQL a failed statement leaves nothing to roll back to anyway).
    """
    return _alone(db, _Taking(settings, *_cleaned(inbound), now or utcnow(), reply_status, glossary, route))


def _cleaned(inbound: Inbound) -> tuple[Inbound, str]:
    return (replace(inbound, address=clean_text(inbound.address)[:64], provider_id=clean_text(inbound.provider_id)[:64]),
            clean_text(inbound.text))


@dataclass(frozen=True)
class _Taking:
    """What taking one message needs, kept so that a batch can take it again on its own."""
    settings: Settings
    inbound: Inbound
    text: str
    now: datetime
    reply_status: str
    glossary: GlossaryIndex | None
    route: Callable[[Ctx], None] | None


def _alone(db: Engine, taking: _Taking, failed: str | None = None) -> Outcome:
    """A message in a transaction of its own; a handler that fails is rolled back and the message taken again."""
    if failed is None:
        try:
            with session_scope(db) as session:
                return _take(session, taking)
        except _HandlerFailed as failure:
            failed = failure.command
    with session_scope(db) as session:
        return _take(session, taking, failed=failed)


class Batch:
    """Messages taken in one transaction and committed together: group commit, for a webhook under load on
    SQLite, where every write takes its turn at one writer anyway and a COMMIT (WAL frames for every B-tree
    page touched, the checkpoints they bring) costs as much as a handler. Each message's changes are
    flushed as it is taken; its outcome holds only once `commit()` has run, and nobody is answered before.

    A message that needs a transaction of its own (a handler failed, a delivery already seen, any error)
    ends the batch: the transaction is rolled back and every message in it taken again alone, exactly as
    receive() takes one (nothing was committed or answered yet); the next message opens a new batch.
    Results are Outcomes, or the exception a message raised when taken alone."""

    def __init__(self, db: Engine):
        self.db = db
        self.results: list[Outcome | Exception] = []
        self._session: Session | None = None
        self._open: list[tuple[int, _Taking]] = []  # taken in the open transaction: (index, taking)

    def take(self, settings: Settings, inbound: Inbound, *, now: datetime | None = None,
             reply_status: str = "queued", glossary: GlossaryIndex | None = None) -> int:
        """Take a message into the batch (what receive() takes); its index in `results`."""
        taking = _Taking(settings, *_cleaned(inbound), now or utcnow(), reply_status, glossary, None)
        index = len(self.results)
        self.results.append(None)
        if self._session is None:
            self._session = Session(self.db, expire_on_commit=False)
        try:
            self.results[index] = _take(self._session, taking, batched=True)
            self._session.flush()
        except Exception as exc:
            self._redo_alone()
            self.results[index] = self._one(taking, exc.command if isinstance(exc, _HandlerFailed) else None)
        else:
            self._open.append((index, taking))
        return index

    def commit(self) -> list[Outcome | Exception]:
        """COMMIT what is open (taken again alone if the COMMIT fails) and return every message's result."""
        if self._session is not None:
            try:
                self._session.commit()
            except Exception:
                log.exception("a batch of %d messages failed to commit: taking them one by one", len(self._open))
                self._redo_alone()
            else:
                self._session.close()
                self._session, self._open = None, []
        return self.results

    def _redo_alone(self) -> None:
        session, taken = self._session, self._open
        self._session, self._open = None, []
        try:
            session.rollback()
        except Exception:
            log.exception("rolling a batch back failed: its connection is dropped")
        finally:
            session.close()
        for index, taking in taken:
            self.results[index] = self._one(taking)

    def _one(self, taking: _Taking, failed: str | None = None) -> Outcome | Exception:
        try:
            return _alone(self.db, taking, failed)
        except Exception as exc:
            return exc


class _HandlerFailed(Exception):
    """A handler raised: its transaction is rolled back and the message taken again without it."""

    def __init__(self, command: str):
        super().__init__(command)
        self.command = command


class _OwnTransaction(Exception):
    """A batched message that must be taken in a transaction of its own (a delivery already seen)."""


def _take(session: Session, taking: _Taking, failed: str | None = None, batched: bool = False) -> Outcome:
    """Take one message in `session`'s transaction; `failed`: the command whose handler failed in the
    attempt before. The caller commits."""
    settings, inbound, text, now = taking.settings, taking.inbound, taking.text, taking.now
    reply_status, glossary, route = taking.reply_status, taking.glossary, taking.route
    claim_writer(session)  # every message writes (its inbound row first): queue before reading its sender
    identity, member, cluster, conversation, earlier = _load(session, inbound, now)
    guess = _likely_command(text, conversation, route)  # written with the row: no UPDATE when it holds
    inbound_id = insert_new(session, InboundMessage, channel=inbound.channel, provider_id=inbound.provider_id,
                            address=inbound.address, identity_id=identity.id, member_id=identity.member_id,
                            text=text, command=guess, received_at=now)
    if inbound_id is None:
        if batched:
            raise _OwnTransaction()
        session.rollback()  # a delivery already seen changes nothing, not even a first-contact identity
        earlier = find_inbound(session, inbound.channel, inbound.provider_id)
        return Outcome(replies=replies_to(session, earlier.id), duplicate=True, inbound_id=earlier.id)
    if identity.opted_out and route is None:
        # writing again lifts a carrier opt-out or a block; a USSD dial (route given) says nothing
        # about the SMS the carrier blocked
        identity.opted_out = False
        identity.opt_out_reason = ""
    if identity.last_seen_at is None or identity.last_seen_at < now - LAST_SEEN_STEP:
        # which address a member last wrote from: a minute is precise enough. One Core UPDATE, the
        # object told it is stored (an ORM flush of the identity cost more than the rest of a BAL)
        session.connection().execute(_SEEN, {"row_id": identity.id, "seen": now})
        set_committed_value(identity, "last_seen_at", now)
    ctx = Ctx(session=session, settings=settings, identity=identity, member=member, cluster=cluster,
              lang=_language(member, identity, text, settings), text=text, channel=inbound.channel, now=now,
              conversation=conversation, table=TABLE, glossary=glossary or GlossaryIndex())
    # a menu channel (route given) paces itself: one screen per answer, sessions timed by the gateway
    if failed is not None:
        ctx.command = failed
        ctx.conversation = None
        ctx.reply("Sorry, something went wrong. Please try again later.")
    elif route is None and _flooded(settings, earlier + 1, member):  # + 1: this message
        ctx.command = "FLOOD"
        if earlier == settings.flood_limit:  # the first message past the limit: say it once
            ctx.reply("You are sending too many messages. Please wait a minute, then try again.")
    else:
        _handle(ctx, inbound, route)
    if ctx.command[:40] != guess:
        session.connection().execute(_SET_COMMAND, {"row_id": inbound_id, "new_command": ctx.command[:40]})
    rows = [outbox.compose(session, identity, r.text, buttons=r.buttons, inbound_id=inbound_id,
                           cluster_id=ctx.cluster.id if ctx.cluster else None, status=reply_status,
                           member_id=identity.member_id, provider=inbound.provider,
                           link_id=inbound.link_id[:100])
            for r in ctx.replies]
    for row in rows:
        if reply_status == "sent":
            row.sent_at = now
    outbox.insert(session, rows)
    log.info("inbound %s from %s -> %s (%d replies)", inbound.channel, mask(inbound.address),
             ctx.command or "-", len(rows))
    return Outcome(replies=rows, inbound_id=inbound_id,
                   conversation=ctx.conversation.flow if ctx.conversation is not None else "")


# Built once: constructing a statement costs more Python than the SQLite query it runs.
_FLOOD_COUNT = (select(func.count()).select_from(InboundMessage)
                .where(InboundMessage.channel == bindparam("channel"), InboundMessage.address == bindparam("address"),
                       InboundMessage.received_at > bindparam("since"))
                .scalar_subquery())
_LOAD = (select(Identity, Member, Cluster, Conversation, _FLOOD_COUNT)
         .where(Identity.channel == bindparam("channel"), Identity.address == bindparam("address"))
         .outerjoin(Member, Member.id == Identity.member_id)
         .outerjoin(Cluster, Cluster.id == Member.cluster_id)
         .outerjoin(Conversation, Conversation.identity_id == Identity.id))
_SEEN = update(Identity).where(Identity.id == bindparam("row_id")).values(last_seen_at=bindparam("seen"))
_SET_COMMAND = (update(InboundMessage).where(InboundMessage.id == bindparam("row_id"))
                .values(command=bindparam("new_command")))


def _likely_command(text: str, conversation: Conversation | None, route) -> str:
    """The command the inbound row will most likely record, known before the handler runs: a keyword sent
    outside a conversation (most messages). Anything else is recorded once routing has decided."""
    if route is not None or conversation is not None:
        return ""
    found = router.match(text)
    return found.command if found is not None and found.command in TABLE.commands else ""


def _load(session: Session, inbound: Inbound, now: datetime) -> tuple[Identity, Member | None, Cluster | None,
                                                                      Conversation | None, int]:
    """The sender's identity, member, cluster, open conversation and how many messages the address sent in
    the minute before this one (the flood count), in one query; a first contact adds the identity."""
    params = {"channel": inbound.channel, "address": inbound.address, "since": now - timedelta(minutes=1)}
    row = session.exec(_LOAD, params=params).first()
    if row is None:
        get_or_create_identity(session, inbound.channel, inbound.address)
        row = session.exec(_LOAD, params=params).one()
    return tuple(row)


def _language(member: Member | None, identity, text: str, settings: Settings) -> str:
    if member is not None:
        return member.language
    if identity.language:
        return identity.language
    found = router.match(text)
    if found and found.lang in i18n.LANGUAGES:
        return found.lang
    return settings.default_language


def _flooded(settings: Settings, count: int, member: Member | None) -> bool:
    """Whether `count` messages in a minute (this one included) put the sender past the flood limit. An
    active officer never is: approving a queue of members, confirming deposits or answering a guided flow
    step by step is their work, not a flood."""
    if settings.flood_limit <= 0 or (member is not None and member.is_admin and member.status == "active"):
        return False
    return count > settings.flood_limit


def _handle(ctx: Ctx, inbound: Inbound, route: Callable[[Ctx], None] | None = None) -> None:
    """Run the handler; if it fails, _HandlerFailed rolls its transaction back (see receive)."""
    try:
        if route is not None:
            route(ctx)
        else:
            _route(ctx, inbound)
    except Exception:
        log.exception("handler failed for %s", ctx.command or "flow")
        raise _HandlerFailed(ctx.command) from None


def route_text(ctx: Ctx) -> None:
    """Route `ctx.text` as a message's text (STOP/START/HELP, the open conversation, a keyword): for a
    channel whose own routing hands an answer on (a USSD flow's question)."""
    _route(ctx, None)


def _route(ctx: Ctx, inbound: Inbound | None) -> None:
    if inbound is not None and inbound.contact_phone:
        return ctx.run("LINK", inbound.contact_phone)
    if not ctx.text:
        ctx.command = "EMPTY"
        ctx.reply("Your message was empty. Send HELP to see what you can send.")
        return
    found = router.match(ctx.text)
    if found is not None and found.command not in TABLE.commands:
        found = None  # a word only flows read (BACK): the open flow gets it, outside one it means nothing
    conv = ctx.conversation
    if conv is not None and conv.updated_at < ctx.now - CONVERSATION_TTL:
        flow.leave(ctx, TABLE.flows.get(conv.flow))
        conv = None
        if found is None:
            ctx.command = "EXPIRED"
            ctx.reply("Your last conversation expired after 24 hours. Nothing was saved from it. "
                      "Send HELP to start again.")
            return
    if found and (found.command in PRIORITY or conv is None or _yields(ctx, TABLE.flows[conv.flow], found)):
        return ctx.run(found.command, found.args)
    if conv is not None:
        ctx.command = f"{conv.flow}.{conv.step}"[:40]
        TABLE.flows[conv.flow].handle(ctx)
        return
    ctx.command = "UNKNOWN"
    if ctx.member is None:
        ctx.reply("Welcome! To register with your cluster send JOIN, or HELP for more.")
    else:
        ctx.reply("Sorry, I did not understand that. Send HELP to see what you can send.")


def _yields(ctx: Ctx, current, found: router.Match) -> bool:
    """Whether a keyword sent during a flow runs its command (the flow waits) rather than answering."""
    allowed = refusal_for(TABLE.commands[found.command].access, ctx.member) is None
    return current.yields_to(ctx.conversation.step, ctx.text, found, allowed)
