"""Group commit: messages that reach the engine together are taken in one transaction and committed once
(bot.engine.Batch; on SQLite the webhooks use it, bot/app.py's _GroupCommit). The rules: a batched message
gets the answer it would get alone; nothing of it is visible, and nobody is answered, before the COMMIT; a
message that needs a transaction of its own (a failing handler, a delivery already seen) or a failed COMMIT
ends the batch and every message in it is taken again alone, none lost and none recorded twice; messages
of one sender in one batch see each other (the flood count, a conversation begun)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest
from sqlmodel import Session, select

from bot.app import EngineWork, create_app
from bot.engine import Batch, Inbound, receive
from bot.handlers import TABLE
from storage.db import session_scope
from storage.members import Identity
from storage.messages import InboundMessage, OutboundMessage, mark_status
from storage.savings import Request
from tests.conftest import next_sid, sign, speaker, twiml_texts, with_settings
from tests.test_handler_failures import apology, count, failing_after

SENDERS = [("+255713500001", "en", "BAL"), ("+255713500002", "sw", "salio"), ("+255713500003", "fr", "AIDE"),
           ("+255713500004", "am", "እርዳታ"), ("+255713500005", "en", "HELP")]


@pytest.fixture
def quiet(settings):
    return with_settings(settings, flood_limit=0)


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_a_batch_answers_as_each_message_alone_would_and_shows_nothing_before_its_commit(db, quiet, add_member,
                                                                                        channel):
    speakers = [(speaker(db, add_member, phone, lang, channel)[1], text) for phone, lang, text in SENDERS]
    batch = Batch(db)
    taken = [batch.take(quiet, Inbound(channel, address, text, next_sid("G")), reply_status="sent")
             for address, text in speakers]
    assert count(db, InboundMessage) == 0 and count(db, OutboundMessage) == 0  # another connection sees nothing
    results = batch.commit()
    assert count(db, InboundMessage) == len(SENDERS)
    alone = [[r.text for r in receive(db, quiet, Inbound(channel, address, text, next_sid("A")),
                                      reply_status="sent").replies] for address, text in speakers]
    assert [[r.text for r in results[i].replies] for i in taken] == alone
    assert all(len(replies) == 1 for replies in alone)
    with session_scope(db) as s:  # every reply stored with its own message
        for i in taken:
            assert [m.text for m in s.exec(select(OutboundMessage).where(
                OutboundMessage.inbound_id == results[i].inbound_id))] == [r.text for r in results[i].replies]


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_a_failing_handler_in_a_batch_loses_none_of_the_others_and_runs_once(db, quiet, add_member, monkeypatch,
                                                                           lang):
    member, address = speaker(db, add_member, "+255713500010", lang, "sms")
    others = [speaker(db, add_member, phone, lg, "sms")[1] for phone, lg, _ in SENDERS[:3]]
    save = TABLE.commands["SAVE"]
    runs = []

    def counted(ctx):
        runs.append(ctx.text)
        failing_after(save.handler)(ctx)

    monkeypatch.setitem(TABLE.commands, "SAVE", replace(save, handler=counted))
    batch = Batch(db)
    before = [batch.take(quiet, Inbound("sms", a, "HELP", next_sid("B"))) for a in others[:2]]
    failed = batch.take(quiet, Inbound("sms", address, "SAVE 5000 QK12AB", next_sid("F")))
    after = batch.take(quiet, Inbound("sms", others[2], "HELP", next_sid("C")))
    results = batch.commit()
    assert [r.text for r in results[failed].replies] == [apology(lang)]
    assert len(runs) == 1  # taken again with the apology, the handler not run again
    assert count(db, Request) == 0  # what the failing handler wrote went with the rolled-back batch
    assert count(db, InboundMessage) == 4  # every message recorded once
    for i in before + [after]:
        assert len(results[i].replies) == 1 and not results[i].duplicate
        assert count(db, OutboundMessage, OutboundMessage.inbound_id == results[i].inbound_id) == 1


def test_a_delivery_seen_before_or_twice_in_one_batch_is_recorded_once(db, quiet, add_member):
    (_, address), (_, other) = speaker(db, add_member, "+255713500020", "sw", "sms"), \
        speaker(db, add_member, "+255713500021", "fr", "sms")
    first = receive(db, quiet, Inbound("sms", address, "salio", "SMdup-1"), reply_status="sent")
    batch = Batch(db)
    new = batch.take(quiet, Inbound("sms", other, "AIDE", "SMdup-2"), reply_status="sent")
    again = batch.take(quiet, Inbound("sms", address, "salio", "SMdup-1"), reply_status="sent")
    twice = batch.take(quiet, Inbound("sms", other, "AIDE", "SMdup-2"), reply_status="sent")
    results = batch.commit()
    assert results[again].duplicate and results[again].inbound_id == first.inbound_id
    assert [r.text for r in results[again].replies] == [r.text for r in first.replies]
    assert not results[new].duplicate and results[twice].duplicate
    assert results[twice].inbound_id == results[new].inbound_id
    assert [r.text for r in results[twice].replies] == [r.text for r in results[new].replies]
    assert count(db, InboundMessage) == 2
    assert count(db, OutboundMessage) == 2


def test_a_failed_commit_takes_every_message_again_alone(db, quiet, add_member, monkeypatch):
    speakers = [speaker(db, add_member, phone, lang, "sms")[1] for phone, lang, _ in SENDERS[:3]]
    real = Session.commit
    failures = []

    def commit_once_fails(self):
        if not failures:
            failures.append(self)
            raise RuntimeError("disk I/O error")
        return real(self)

    batch = Batch(db)
    taken = [batch.take(quiet, Inbound("sms", a, "HELP", next_sid("K"))) for a in speakers]
    monkeypatch.setattr(Session, "commit", commit_once_fails)
    results = batch.commit()
    monkeypatch.setattr(Session, "commit", real)
    assert len(failures) == 1
    assert count(db, InboundMessage) == 3 and count(db, OutboundMessage) == 3
    assert all(len(results[i].replies) == 1 for i in taken)


def test_one_senders_messages_in_one_batch_see_each_other(db, settings, cluster, add_member):
    limited = with_settings(settings, flood_limit=2)
    batch = Batch(db)
    join = batch.take(limited, Inbound("sms", "+255713500030", "jiunge", next_sid("J")), reply_status="sent")
    taken = [batch.take(limited, Inbound("sms", "+255713500030", "salio", next_sid("J")), reply_status="sent")
             for _ in range(3)]
    results = batch.commit()
    assert results[join].conversation  # registration begun ...
    assert len(results[taken[0]].replies) == 1  # ... and the next message answered inside it (the name)
    # the flood count saw the batch's own earlier messages: the third is the first past the limit of 2
    assert len(results[taken[1]].replies) == 1  # the notice, said once
    assert results[taken[2]].replies == []
    with session_scope(db) as s:
        commands = s.exec(select(InboundMessage.command).order_by(InboundMessage.id)).all()
    assert commands[2:] == ["FLOOD", "FLOOD"]


def _form(number: str, text: str) -> dict[str, str]:
    return {"From": number, "To": "+15005550006", "Body": text, "MessageSid": next_sid()}


async def _post_together(app, forms: list[dict[str, str]], committed) -> list[httpx.Response]:
    """The webhooks posted at once; each answer checked, as it arrives, against what another connection sees."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        async def post(form):
            r = await http.post("/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": sign(form)})
            committed(form["MessageSid"])  # answered: its message must be committed already
            return r

        return await asyncio.gather(*(post(f) for f in forms))


def test_webhooks_arriving_together_share_a_commit_and_are_answered_after_it(db, quiet, add_member, backend,
                                                                           monkeypatch):
    if backend != "sqlite":
        pytest.skip("group commit serves SQLite; on PostgreSQL each message commits in a worker thread")
    for phone, lang, _ in SENDERS:
        add_member(phone, language=lang)
    sizes = []
    real_commit = Batch.commit

    def counted(self):
        sizes.append(len(self.results))
        return real_commit(self)

    monkeypatch.setattr(Batch, "commit", counted)
    seen = []

    def committed(sid):
        with session_scope(db) as s:
            seen.append(s.exec(select(InboundMessage).where(InboundMessage.provider_id == sid)).first() is not None)

    forms = [_form(phone, text) for phone, _, text in SENDERS]
    responses = asyncio.run(_post_together(create_app(quiet, db), forms, committed))
    assert [r.status_code for r in responses] == [200] * len(SENDERS)
    assert all(len(twiml_texts(r.text)) == 1 for r in responses)
    assert seen == [True] * len(SENDERS)
    assert sum(sizes) == len(SENDERS) and max(sizes) > 1  # at least two shared a COMMIT


def test_other_engine_work_beside_an_open_batch_commits_the_batch_first(db, quiet, add_member, backend):
    """The loop's thread holds the writer for its open batch: other engine work on it (a delivery status, a
    USSD screen) commits the batch first instead of waiting on SQLite's lock from its own connection (30 s,
    then 'database is locked')."""
    if backend != "sqlite":
        pytest.skip("group commit serves SQLite only")
    add_member("+255713500040", language="sw")
    work = EngineWork(db)

    def status_callback():
        with session_scope(db) as s:
            assert mark_status(s, "SMnone", "delivered", "") is None
            s.add(Identity(channel="sms", address="+255713500041"))  # a write: it needs the writer
        return count(db, InboundMessage)

    async def scenario():
        message = asyncio.create_task(work.receive(quiet, Inbound("sms", "+255713500040", "salio", next_sid("S")),
                                                   reply_status="sent"))
        await asyncio.sleep(0)  # the message is taken and waits in the open batch for its COMMIT
        assert not message.done()
        seen = await work.run(status_callback)
        return seen, await message

    seen, outcome = asyncio.run(scenario())
    assert seen == 1  # the batch was committed before the callback's own transaction began
    assert len(outcome.replies) == 1 and count(db, Identity, Identity.address == "+255713500041") == 1
