"""Telegram over HTTP: secret-checked webhook updates, replies through a fake Bot API, buttons, linking."""

from __future__ import annotations

import json
import threading

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import func, select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.channels.telegram import (
    CONTACT,
    Poller,
    TelegramTransport,
    inbound_from_update,
    keyboard,
    set_webhook,
)
from bot.dispatch import Dispatcher
from bot.runtime import start_workers
from storage.db import session_scope
from storage.members import Identity, Member
from storage.messages import InboundMessage, OutboundMessage
from tests.conftest import with_settings
from tests.fakes import FakeClock, button_update, contact_update, text_update
from tests.fakes.outbox import identity, message, queue

pytest_plugins = ("tests.fakes.fixtures",)

SECRET = "s3cret-token_value"
CHAT = 7001


@pytest.fixture
def tg_settings(settings, fake_telegram):
    return with_settings(settings, telegram_bot_token="123:TEST", telegram_webhook_secret=SECRET,
                         telegram_api_base=fake_telegram.url)


@pytest.fixture
def tg_client(tg_settings, db):
    with TestClient(create_app(tg_settings, db)) as c:
        yield c


@pytest.fixture
def dispatcher(tg_settings, db):
    d = Dispatcher(db, tg_settings, [TelegramTransport(tg_settings, timeout=2)], clock=FakeClock())
    yield d
    d.close()


class Chat:
    """A Telegram user talking to the bot through the webhook; `replies()` runs the dispatcher."""

    def __init__(self, client: TestClient, dispatcher: Dispatcher, fake, chat_id: int = CHAT):
        self.client, self.dispatcher, self.fake, self.chat_id = client, dispatcher, fake, chat_id

    def post(self, update: dict, secret: str | None = SECRET):
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return self.client.post("/webhooks/telegram", json=update, headers=headers)

    def replies(self) -> list[dict]:
        before = len(self.fake.sent)
        self.dispatcher.drain()
        return [m for m in self.fake.sent[before:] if m["chat_id"] == str(self.chat_id)]

    def say(self, text: str) -> list[dict]:
        assert self.post(text_update(self.chat_id, text)).status_code == 200
        return self.replies()

    def press(self, data: str) -> list[dict]:
        r = self.post(button_update(self.chat_id, data))
        assert r.status_code == 200
        assert r.json()["method"] == "answerCallbackQuery"  # the button stops spinning
        return self.replies()


@pytest.fixture
def chat(tg_client, dispatcher, fake_telegram):
    return Chat(tg_client, dispatcher, fake_telegram)


def count(db, model) -> int:
    with session_scope(db) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_an_update_with_the_secret_is_answered_through_the_bot_api(chat, cluster, db):
    [reply] = chat.say("/join")
    assert "Moshi Tailors" in reply["text"]
    with session_scope(db) as s:
        assert s.exec(select(OutboundMessage)).one().status == "sent"


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_recorded(chat, cluster, db, secret):
    assert chat.post(text_update(CHAT, "JOIN"), secret=secret).status_code == 403
    assert (count(db, InboundMessage), count(db, Identity), count(db, OutboundMessage)) == (0, 0, 0)


def test_the_webhook_is_closed_when_telegram_is_not_configured(client, cluster, db):
    r = client.post("/webhooks/telegram", json=text_update(CHAT, "JOIN"),
                    headers={"X-Telegram-Bot-Api-Secret-Token": ""})
    assert r.status_code == 403 and count(db, InboundMessage) == 0


def test_the_same_update_twice_is_acted_on_once(chat, cluster, db):
    update = text_update(CHAT, "JOIN")
    assert chat.post(update).status_code == chat.post(update).status_code == 200
    assert count(db, InboundMessage) == 1
    assert len(chat.replies()) == 1


@pytest.mark.parametrize("body", [b"{not json", b"[" * 5000 + b"]" * 5000, b"\xff\xfe"])
def test_malformed_json_gets_400(chat, db, body):
    r = chat.client.post("/webhooks/telegram", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert r.status_code == 400 and count(db, InboundMessage) == 0


@pytest.mark.parametrize("update", [
    [], "x", {"update_id": "1"}, {"update_id": 5, "message": {"chat": "x"}},
    {"update_id": 6, "message": {"chat": {"id": 1}, "from": "x", "text": 3}},
    {"update_id": 7, "callback_query": {"message": []}},
    {"update_id": 8, "edited_message": text_update(CHAT, "JOIN")["message"]},
    {"update_id": 9, "message": dict(text_update(CHAT, "JOIN")["message"],
                                     chat={"id": -100, "type": "group", "title": "Moshi"})},
])
def test_updates_we_do_not_serve_are_acknowledged_and_ignored(chat, db, update):
    r = chat.post(update)
    assert r.status_code == 200
    assert count(db, InboundMessage) == 0


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                               st.sampled_from(["update_id", "message", "chat", "id", "type", "from", "text",
                                                "contact", "user_id", "phone_number", "callback_query",
                                                "data", "date", "message_id"]), inner, max_size=6),
                           max_leaves=30)


@hypothesis_settings(max_examples=300, deadline=None)
@given(json_values)
def test_no_payload_makes_the_update_parser_raise(data):
    inbound = inbound_from_update(data)
    assert inbound is None or inbound.channel == "telegram"


def test_a_whole_join_conversation_with_button_presses(chat, cluster, add_member, db):
    add_member("+255712000009", admin_role="facilitator")
    [welcome] = chat.say("/join")
    assert "full name" in welcome["text"]
    for answer in ["Asha Juma", "Asha Designs", "tailoring"]:
        chat.say(answer)
    [gender] = chat.say("Moshi")
    markup = gender["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for row in markup for b in row] == ["1", "2", "3"]
    assert [b["text"] for row in markup for b in row] == ["Woman", "Man", "Other"]
    [role] = chat.press("1")
    assert len([b for row in role["reply_markup"]["inline_keyboard"] for b in row]) == 4
    [language] = chat.press("1")
    assert "language" in language["text"].lower()
    [done] = chat.press("2")  # Kiswahili
    with session_scope(db) as s:
        member = s.exec(select(Member).where(Member.name == "Asha Juma")).one()
        linked = s.exec(select(Identity).where(Identity.channel == "telegram")).one()
        assert (member.gender, member.role, member.language, member.phone) == ("female", "firm", "sw", "")
        assert linked.member_id == member.id
    assert member.number in done["text"]
    assert done["reply_markup"] == {"remove_keyboard": True}


def test_a_shared_contact_links_the_chat_to_the_member_who_registered_by_sms(chat, cluster, add_member, db):
    member = add_member("+255712000001", name="Asha Juma", language="fr")
    assert chat.post(contact_update(CHAT, "255712000001")).status_code == 200
    [reply] = chat.replies()
    assert "Asha Juma" in reply["text"] and member.number in reply["text"]
    with session_scope(db) as s:
        linked = s.exec(select(Identity).where(Identity.channel == "telegram")).one()
        assert (linked.address, linked.member_id) == (str(CHAT), member.id)
    [profile] = chat.say("PROFILE")  # now the chat speaks as that member, in the member's language
    assert member.number in profile["text"]


def test_someone_else_s_contact_card_links_nothing(chat, cluster, add_member, db):
    add_member("+255712000001")
    chat.post(contact_update(CHAT, "+255712000001", user_id=999))
    chat.replies()
    with session_scope(db) as s:
        assert s.exec(select(Identity).where(Identity.channel == "telegram")).one().member_id is None


def test_a_blocked_bot_silences_the_chat_until_the_user_writes_again(chat, cluster, db, fake_telegram):
    fake_telegram.blocked.add(str(CHAT))
    assert chat.say("HELP") == []
    with session_scope(db) as s:
        failed = s.exec(select(OutboundMessage)).one()
    assert failed.status == "failed" and "blocked" in failed.last_error
    assert identity(db, "telegram", str(CHAT)).opted_out
    fake_telegram.blocked.clear()  # unblocked, and says something
    assert len(chat.say("HELP")) == 1
    assert not identity(db, "telegram", str(CHAT)).opted_out


def test_flood_control_retry_after_is_honoured(chat, cluster, db, fake_telegram, dispatcher):
    fake_telegram.fail(1, 429, retry_after=7)
    assert chat.say("HELP") == []
    [held] = queued(db)
    assert held.status == "queued" and "RetryAfter" in held.last_error
    dispatcher.drain(wait=True)
    assert len(fake_telegram.sent) == 1
    assert dispatcher.clock.offset >= 6.5


def queued(db) -> list[OutboundMessage]:
    with session_scope(db) as s:
        return list(s.exec(select(OutboundMessage)))


@pytest.mark.parametrize("status, outcome, silenced", [(500, "queued", False), (502, "queued", False),
                                                       (400, "failed", True)])
def test_send_errors_are_retried_or_failed(tg_settings, db, fake_telegram, dispatcher, status, outcome, silenced):
    [msg_id] = queue(db, "7002", channel="telegram")
    fake_telegram.fail(1, status)
    dispatcher.drain()
    assert message(db, msg_id).status == outcome
    assert identity(db, "telegram", "7002").opted_out is silenced


def test_a_bad_request_about_the_message_does_not_silence_the_chat(db, fake_telegram, dispatcher):
    [msg_id] = queue(db, "7003", channel="telegram")
    fake_telegram.fail(1, 400, message="Bad Request: message is too long")
    dispatcher.drain()
    assert message(db, msg_id).status == "failed"
    assert not identity(db, "telegram", "7003").opted_out


def test_an_unreachable_bot_api_is_retried_until_it_is_back(db, fake_telegram, dispatcher):
    [msg_id] = queue(db, "7004", channel="telegram")
    fake_telegram.refuse()
    dispatcher.drain()
    assert message(db, msg_id).status == "queued"
    fake_telegram.accept()
    dispatcher.drain(wait=True)
    assert message(db, msg_id).status == "sent"


def test_keyboards():
    assert keyboard("").to_dict() == {"remove_keyboard": True}
    assert keyboard("not json").to_dict() == {"remove_keyboard": True}
    short = keyboard(json.dumps([["Woman", "1"], ["Man", "2"]])).to_dict()
    assert short == {"inline_keyboard": [[{"text": "Woman", "callback_data": "1"},
                                          {"text": "Man", "callback_data": "2"}]]}
    long = keyboard(json.dumps([["Firm or farm", "1"], ["Support organisation", "2"]])).to_dict()
    assert [len(row) for row in long["inline_keyboard"]] == [1, 1]  # long labels: one a row
    contact = keyboard(json.dumps([["Share my phone number", CONTACT]])).to_dict()
    assert contact["keyboard"] == [[{"text": "Share my phone number", "request_contact": True}]]
    assert contact["one_time_keyboard"] is True


def test_polling_deletes_the_webhook_and_keeps_the_offset(tg_settings, db, cluster, fake_telegram):
    fake_telegram.webhook = {"url": "https://bot.example.org/webhooks/telegram"}
    fake_telegram.push(text_update(CHAT, "/join"), button_update(CHAT, "1"))
    woken = threading.Event()
    poller = Poller(db, tg_settings, wake=woken.set, poll_timeout=0)
    try:
        assert poller.poll_once() == 2
        assert fake_telegram.webhook == {}
        assert woken.is_set()
        assert poller.offset == fake_telegram.calls("/getUpdates")[-1].response["result"][-1]["update_id"] + 1
        assert poller.poll_once() == 0  # confirmed: Telegram does not send them again
        assert count(db, InboundMessage) == 2
        assert len(fake_telegram.calls("/answerCallbackQuery")) == 1
        assert fake_telegram.calls("/getUpdates")[-1].params["offset"] == str(poller.offset)
    finally:
        poller.caller.close()


def test_polling_in_its_thread_survives_errors(tg_settings, db, cluster, fake_telegram):
    fake_telegram.fault_match = "/getUpdates"
    fake_telegram.fail(1, 500)
    fake_telegram.push(text_update(CHAT, "HELP"))
    poller = Poller(db, tg_settings, poll_timeout=1)
    poller.start()
    try:
        handled = threading.Event()
        for _ in range(200):
            if count(db, InboundMessage) == 1:
                handled.set()
                break
            handled.wait(0.05)
        assert handled.is_set()
    finally:
        poller.stop(timeout=5)
    assert not poller.thread.is_alive()


def test_set_webhook_registers_the_public_url_and_secret(tg_settings, fake_telegram):
    assert set_webhook(tg_settings) == "https://bot.example.org/webhooks/telegram"
    assert fake_telegram.webhook["url"] == "https://bot.example.org/webhooks/telegram"
    assert fake_telegram.webhook["secret_token"] == SECRET
    with pytest.raises(ValueError):
        set_webhook(with_settings(tg_settings, telegram_webhook_secret=""))


def test_polling_mode_end_to_end_with_the_workers(tg_settings, db, cluster, fake_telegram):
    polling = with_settings(tg_settings, telegram_mode="polling", twilio_account_sid="")
    fake_telegram.push(text_update(CHAT, "/join"))
    _dispatcher, stop = start_workers(db, polling, with_scheduler=False)
    try:
        answered = threading.Event()
        for _ in range(200):
            if fake_telegram.sent:
                answered.set()
                break
            answered.wait(0.05)
        assert answered.is_set()
        assert "Moshi Tailors" in fake_telegram.sent[0]["text"]
    finally:
        stop()


def test_sharing_the_contact_in_the_middle_of_join_ends_the_join(chat, cluster, add_member, db):
    member = add_member("+255712000001", name="Asha Juma")
    chat.say("/join")
    chat.post(contact_update(CHAT, "+255712000001"))
    chat.replies()
    [profile] = chat.say("PROFILE")
    assert member.number in profile["text"]
    with session_scope(db) as s:
        assert s.exec(select(func.count()).select_from(Member)).one() == 1


def test_join_on_telegram_offers_the_share_my_phone_number_button(chat, cluster):
    keyboards = [r["reply_markup"].get("keyboard") for r in chat.say("/join")]
    assert any(k and k[0][0].get("request_contact") for k in keyboards)
