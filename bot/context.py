"""What a handler receives (Ctx) and returns (replies), and the command table's entry type."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import i18n, sms
from bot.config import Settings
from bot.i18n import N_
from storage.clusters import Cluster
from storage.db import utcnow
from storage.glossary import GlossaryIndex
from storage.members import Identity, Member
from storage.messages import Conversation

# Who may run a command.
ANYONE = "anyone"  # strangers included
MEMBER = "member"  # any member record, pending included
ACTIVE = "active"  # approved members
FACILITATOR = "facilitator"
TREASURER = "treasurer"
ADMIN = "admin"  # facilitator or treasurer


@dataclass
class Reply:
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    msgid: str = ""  # what it says, for a caller that acts on it (a USSD receipt also sent by SMS)


@dataclass
class Command:
    name: str
    handler: Callable[[Ctx], None]
    access: str = ACTIVE
    help: bool = True


@dataclass
class Flow:
    """A guided conversation written as one step handler, until it becomes data for bot/flow.py.

    At steps not in `free_text` a command keyword runs the command and the flow waits; at free-text steps
    (a name, a place) only STOP, START and HELP interrupt.
    """

    handler: Callable[[Ctx], None]
    free_text: frozenset[str] = frozenset()

    def yields_to(self, step: str, text: str, found, allowed: bool) -> bool:
        return step not in self.free_text

    def handle(self, ctx: Ctx) -> None:
        self.handler(ctx)


@dataclass(frozen=True)
class CommandTable:
    """Every command, guided flow and MORE source, by name, and each domain's commands in HELP order.

    Built once from the handler modules (bot/handlers/__init__.py) and handed to every Ctx by the
    engine, so a handler that lists or runs other commands (HELP, a command sent mid-poll) reads it
    here instead of importing the table it belongs to.
    """

    commands: dict[str, Command] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    domains: tuple[tuple[Command, ...], ...] = ()
    more: dict[str, Callable[[Ctx], None]] = field(default_factory=dict)


CONVERSATION_TTL = timedelta(hours=24)


@dataclass
class Ctx:
    session: Session
    settings: Settings
    identity: Identity
    member: Member | None
    cluster: Cluster | None
    lang: str
    text: str
    channel: str
    now: datetime = field(default_factory=utcnow)
    command: str = ""
    args: str = ""
    conversation: Conversation | None = None
    replies: list[Reply] = field(default_factory=list)
    table: CommandTable = field(default_factory=CommandTable)
    glossary: GlossaryIndex = field(default_factory=GlossaryIndex)  # the process's, from whoever holds the engine

    @property
    def has_buttons(self) -> bool:
        return self.channel == "telegram"

    @property
    def region(self) -> str:
        return self.cluster.region if self.cluster else self.settings.default_region

    @property
    def currency(self) -> str:
        return self.cluster.currency if self.cluster else self.settings.default_currency

    @property
    def timezone(self) -> str:
        return self.cluster.timezone if self.cluster else self.settings.timezone

    def t(self, msgid: str, /, **kwargs) -> str:
        return i18n.translate(self.lang, msgid, region=self.region, tz=self.timezone, **kwargs)

    def reply(self, msgid: str, /, buttons: list[tuple[str, str]] | None = None, **kwargs) -> None:
        """Answer in the member's language; `buttons` are (label msgid, value) for Telegram. By SMS the
        names in it are shortened to fit one message (sms.fit), never the words around them."""
        labels = [(self.t(label), value) for label, value in (buttons or [])]
        text = sms.for_channel(lambda values: self.t(msgid, **values), kwargs, channel=self.channel, lang=self.lang)
        self.replies.append(Reply(text, labels, msgid if isinstance(msgid, str) else msgid.singular))

    def say(self, text: str, buttons: list[tuple[str, str]] | None = None) -> None:
        """Answer with text already worded (a definition, a list built from data)."""
        self.replies.append(Reply(text, list(buttons or [])))

    def money(self, minor: int, currency: str | None = None) -> str:
        return i18n.format_money(minor, currency or self.currency, self.lang, self.region)

    def number(self, value) -> str:
        return i18n.format_number(value, self.lang, self.region)

    def when(self, moment: datetime) -> str:
        return i18n.format_when(moment, self.lang, self.timezone, self.region)

    # Conversation state lives in the database: SMS has no session and processes restart.
    @property
    def data(self) -> dict:
        return json.loads(self.conversation.data) if self.conversation else {}

    def start_flow(self, flow: str, step: str, data: dict | None = None) -> None:
        if self.conversation is None:
            self.conversation = Conversation(identity_id=self.identity.id, flow=flow, step=step)
        self.conversation.flow = flow
        self.set_step(step, data or {})

    def set_step(self, step: str, data: dict | None = None) -> None:
        assert self.conversation is not None, "set_step needs an open flow"
        self.conversation.step = step
        if data is not None:
            self.conversation.data = json.dumps(data, ensure_ascii=False)
        self.conversation.updated_at = self.now
        self.session.add(self.conversation)

    def run(self, name: str, args: str) -> None:
        """Run command `name` with `args` as if the member had sent it, or say why they may not."""
        self.command, self.args = name, args
        command = self.table.commands[name]
        refusal = refusal_for(command.access, self.member)
        if refusal:
            self.reply(refusal)
            return
        command.handler(self)

    def end_flow(self) -> None:
        if self.conversation is not None and self.conversation.id is not None:
            self.session.delete(self.conversation)
        self.conversation = None


def refusal_for(access: str, member: Member | None) -> str | None:
    """The reason (a msgid) a person may not run a command, or None when they may."""
    if access == ANYONE:
        return None
    if member is None or member.status in ("rejected", "left"):
        return N_("You are not registered. Send JOIN to register with your cluster.")
    if access == MEMBER:
        return None
    if member.status != "active":
        return N_("Your registration is waiting for a facilitator's approval. We will tell you.")
    if access == ACTIVE:
        return None
    if access == FACILITATOR and member.admin_role != "facilitator":
        return N_("Only a facilitator can do that.")
    if access == TREASURER and member.admin_role != "treasurer":
        return N_("Only the treasurer can do that.")
    if access == ADMIN and not member.is_admin:
        return N_("Only a facilitator or the treasurer can do that.")
    return None
