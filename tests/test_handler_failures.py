"""A handler that fails changes nothing and is still answered: the rule receive() keeps by rolling the
message's transaction back and taking the message again without the handler (no savepoint per message).
Tried with a handler that writes and then raises, one whose SQL fails (on PostgreSQL that aborts the
transaction), a failing step of a guided flow, a repeated delivery, in four languages and on both channels."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from bot import i18n, sms
from bot.engine import Inbound, receive
from bot.handlers import TABLE
from storage.db import session_scope
from storage.members import Identity, Member
from storage.messages import Conversation, InboundMessage, OutboundMessage
from storage.savings import Request
from tests.conftest import next_sid, say, speaker, with_settings

APOLOGY = "Sorry, something went wrong. Please try again later."
LANGS = ["en", "sw", "fr", "am"]


@pytest.fixture
def quiet_settings(settings):
    return with_settings(settings, flood_limit=0)


def apology(lang: str, channel: str = "sms") -> str:
    said = i18n.translate(lang, APOLOGY)
    return sms.outgoing(said) if channel == "sms" else said


def failing_after(real):
    """A handler that does all its real work (its writes included), then fails."""
    def handler(ctx):
        real(ctx)
        raise RuntimeError("the handler broke")
    return handler


def count(db, model, *where) -> int:
    with session_scope(db) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_deposit_whose_handler_fails_is_not_recorded_and_is_answered(db, quiet_settings, add_member,
                                                                     monkeypatch, lang, channel, caplog):
    member, address = speaker(db, add_member, "+255713400001", lang, channel)
    save = TABLE.commands["SAVE"]
    monkeypatch.setitem(TABLE.commands, "SAVE", replace(save, handler=failing_after(save.handler)))
    sid = next_sid("F")
    outcome = receive(db, quiet_settings, Inbound(channel, address, "SAVE 5000 QK12AB", sid), reply_status="sent")
    assert [r.text for r in outcome.replies] == [apology(lang, channel)]
    assert count(db, Request) == 0  # the deposit request the handler wrote went with its transaction
    assert count(db, OutboundMessage, OutboundMessage.inbound_id == None) == 0  # noqa: E711  no notice either
    with session_scope(db) as s:
        row = s.exec(select(InboundMessage).where(InboundMessage.provider_id == sid)).one()
        assert (row.command, row.member_id) == ("SAVE", member.id)  # the message itself is recorded
        assert s.exec(select(OutboundMessage).where(OutboundMessage.inbound_id == row.id)).one().text == \
            apology(lang, channel)
        seen = s.exec(select(Identity).where(Identity.address == address)).one().last_seen_at
        assert seen is not None
    assert "handler failed for SAVE" in caplog.text
    # the same delivery again is the same answer, acted on once
    again = receive(db, quiet_settings, Inbound(channel, address, "SAVE 5000 QK12AB", sid), reply_status="sent")
    assert again.duplicate and [r.text for r in again.replies] == [apology(lang, channel)]
    assert count(db, InboundMessage, InboundMessage.provider_id == sid) == 1
    # with the handler mended the next message is recorded as usual
    monkeypatch.setitem(TABLE.commands, "SAVE", save)
    say(db, quiet_settings, address, "SAVE 5000 QK12AB", channel=channel)
    assert count(db, Request) == 1


@pytest.mark.parametrize("lang", LANGS)
def test_a_failed_statement_in_a_handler_leaves_the_message_answered(db, quiet_settings, add_member, monkeypatch,
                                                                     lang):
    """On PostgreSQL a failed statement aborts the whole transaction: nothing written before it could stay."""
    _member, address = speaker(db, add_member, "+255713400002", lang, "sms")

    def broken(ctx):
        ctx.session.connection().execute(text("SELECT no_such_column FROM members"))

    monkeypatch.setitem(TABLE.commands, "BAL", replace(TABLE.commands["BAL"], handler=broken))
    assert say(db, quiet_settings, address, "BAL") == [apology(lang)]
    assert count(db, InboundMessage, InboundMessage.address == address, InboundMessage.command == "BAL") == 1


@pytest.mark.parametrize("lang", LANGS)
def test_a_failing_step_of_a_guided_flow_keeps_the_step_it_was_at(db, quiet_settings, cluster, lang, monkeypatch):
    address = "+255713400003"
    join = {"en": "join", "sw": "jiunge", "fr": "adhérer", "am": "ተቀላቀል"}[lang]
    say(db, quiet_settings, address, join)
    with session_scope(db) as s:
        before = s.exec(select(Conversation.flow, Conversation.step, Conversation.data)).one()
    flow = TABLE.flows[before.flow]
    monkeypatch.setattr(flow, "handle", failing_after(flow.handle))
    assert say(db, quiet_settings, address, "MOSHI") == [apology(lang)]
    with session_scope(db) as s:
        assert s.exec(select(Conversation.flow, Conversation.step, Conversation.data)).one() == before
        assert s.exec(select(func.count()).select_from(Member)).one() == 0  # the cluster has no member yet
    monkeypatch.undo()
    assert say(db, quiet_settings, address, "MOSHI") != [apology(lang)]
    with session_scope(db) as s:
        assert s.exec(select(Conversation.step)).one() != before.step  # the mended flow moves on
