"""Replays: the same provider delivery, repeated in any order and at the same time, is acted on once."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.engine import Inbound, receive
from storage.db import session_scope
from storage.members import get_or_create_identity
from storage.messages import InboundMessage, OutboundMessage
from storage.savings import Entry, Request, unit
from tests.conftest import next_sid, sign, twiml_texts, with_settings
from tests.fakes.telegram import text_update

MEMBERS = [f"+2557120001{i:02d}" for i in range(6)]
TREASURER = "+255712000099"
SECRET = "replay-secret"
COPIES = 4


def count(db, model, *where) -> int:
    with session_scope(db) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def people(add_member):
    """Six active members and a treasurer; the treasurer also receives a notice per SAVE."""
    treasurer = add_member(TREASURER, admin_role="treasurer", name="Tina Treasurer")
    return [add_member(p, name=f"Member {i}") for i, p in enumerate(MEMBERS)], treasurer


@pytest.fixture
def unthrottled(settings):
    return with_settings(settings, flood_limit=0, telegram_bot_token="123:TEST", telegram_webhook_secret=SECRET,
                         telegram_api_base="http://127.0.0.1:9")


def _deliveries(members) -> list[tuple[str, str, str, int]]:
    """(address, text, provider id, amount): each member saves three times, the treasurer deposits for each."""
    found = []
    for i, member in enumerate(members):
        for k in range(3):
            amount = 1000 * (i + 1) + k
            found.append((member.phone, f"SAVE {amount}", next_sid(), amount))
        found.append((TREASURER, f"DEP {member.number} {500 + i}", next_sid(), 500 + i))
    return found


def _check_once(db, deliveries) -> None:
    saves = sorted(a * unit("TZS") for _, text, _, a in deliveries if text.startswith("SAVE"))
    deposits = sorted(a * unit("TZS") for _, text, _, a in deliveries if text.startswith("DEP"))
    with session_scope(db) as s:
        assert sorted(s.exec(select(Request.amount_minor)).all()) == saves
        assert sorted(s.exec(select(Entry.amount_minor)).all()) == deposits
        assert s.exec(select(func.count()).select_from(InboundMessage)).one() == len(deliveries)
        replies = s.exec(select(OutboundMessage.inbound_id, func.count()).where(OutboundMessage.inbound_id != None)  # noqa: E711
                         .group_by(OutboundMessage.inbound_id)).all()
        assert len(replies) == len(deliveries) and {n for _, n in replies} == {1}
        notices = s.exec(select(func.count()).select_from(OutboundMessage)
                         .where(OutboundMessage.inbound_id == None)).one()  # noqa: E711
    assert notices == len(deliveries)  # one notice to the treasurer per SAVE, one to the member per DEP


def test_engine_deliveries_repeated_concurrently_in_any_order_act_once(db, unthrottled, cluster, people):
    members, _ = people
    deliveries = _deliveries(members)
    copies = [d for d in deliveries for _ in range(COPIES)]
    random.Random(7).shuffle(copies)

    def deliver(item):
        address, text, sid, _ = item
        outcome = receive(db, unthrottled, Inbound("sms", address, text, sid), reply_status="sent")
        return sid, outcome.duplicate, tuple(r.text for r in outcome.replies)

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(deliver, copies))
    by_sid: dict[str, set] = {}
    for sid, _, texts in results:
        by_sid.setdefault(sid, set()).add(texts)
    assert all(len(answers) == 1 for answers in by_sid.values())  # every copy got the same answer
    assert sum(1 for _, dup, _ in results if not dup) == len(deliveries)
    _check_once(db, deliveries)


def test_twilio_webhooks_repeated_concurrently_act_once(db, unthrottled, cluster, people):
    members, _ = people
    deliveries = _deliveries(members)
    copies = [d for d in deliveries for _ in range(COPIES)]
    random.Random(11).shuffle(copies)
    with TestClient(create_app(unthrottled, db)) as web:
        def post(item):
            address, text, sid, _ = item
            params = {"From": address, "To": "+15005550006", "Body": text, "MessageSid": sid}
            r = web.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": sign(params)})
            return sid, r.status_code, tuple(twiml_texts(r.text))

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(post, copies))
    assert {status for _, status, _ in results} == {200}
    answers: dict[str, set] = {}
    for sid, _, texts in results:
        answers.setdefault(sid, set()).add(texts)
    assert all(len(a) == 1 and len(next(iter(a))) == 1 for a in answers.values())
    _check_once(db, deliveries)


def test_telegram_updates_repeated_concurrently_act_once(db, unthrottled, cluster, people):
    """Telegram members (linked chats) saving: each update_id is acted on once whatever the order."""
    members, _ = people
    chats = {m.phone: 880000 + i for i, m in enumerate(members)}
    with session_scope(db) as s:
        for m in members:
            ident = get_or_create_identity(s, "telegram", str(chats[m.phone]))
            ident.member_id = m.id
            s.add(ident)
    updates = [text_update(chats[m.phone], f"SAVE {2000 + i * 10 + k}") for i, m in enumerate(members)
               for k in range(3)]
    copies = [u for u in updates for _ in range(COPIES)]
    random.Random(3).shuffle(copies)
    with TestClient(create_app(unthrottled, db)) as web:
        def post(update):
            return web.post("/webhooks/telegram", json=update,
                            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(post, copies)) == {200}
    assert count(db, InboundMessage) == len(updates)
    with session_scope(db) as s:
        assert sorted(s.exec(select(Request.amount_minor)).all()) == sorted(
            int(u["message"]["text"].split()[1]) * unit("TZS") for u in updates)
        assert s.exec(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.channel == "telegram")).one() == len(updates)  # one queued reply per update


def test_the_same_update_id_from_another_channel_is_a_different_delivery(db, unthrottled, cluster, people):
    """Ids are unique per channel only: an SMS whose sid happens to equal a Telegram update id is new."""
    members, _ = people
    receive(db, unthrottled, Inbound("telegram", "55", "HELP", "424242"))
    receive(db, unthrottled, Inbound("sms", members[0].phone, "SAVE 700", "424242"), reply_status="sent")
    assert count(db, InboundMessage) == 2 and count(db, Request) == 1


@pytest.mark.parametrize("change", [
    {"Body": "SAVE 999999"},
    {"From": "+255712000098"},
    {"To": "+15005550007"},
    {"MessageSid": "SM" + "f" * 32},
    {"Extra": "1"},
])
def test_a_replayed_twilio_request_with_anything_changed_fails_the_signature(client, db, cluster, people, change):
    members, _ = people
    params = {"From": members[0].phone, "To": "+15005550006", "Body": "SAVE 5000", "MessageSid": next_sid()}
    signature = sign(params)
    assert client.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}).status_code == 200
    before = (count(db, InboundMessage), count(db, OutboundMessage), count(db, Request))
    tampered = {**params, **change}
    r = client.post("/webhooks/twilio/sms", data=tampered, headers={"X-Twilio-Signature": signature})
    assert r.status_code == 403
    assert (count(db, InboundMessage), count(db, OutboundMessage), count(db, Request)) == before


def test_a_signature_for_another_path_or_host_is_refused(client, db, cluster, people):
    members, _ = people
    params = {"From": members[0].phone, "To": "+15005550006", "Body": "SAVE 5000", "MessageSid": next_sid()}
    for signature in (sign(params, path="/webhooks/twilio/status"), sign(params, token="another-token")):
        r = client.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
        assert r.status_code == 403
    assert count(db, InboundMessage) == 0 and count(db, Request) == 0
