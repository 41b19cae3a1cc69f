"""Africa's Talking two-way SMS beside Twilio: keyed callbacks, sends through the fake AT API, which
provider sends what, status codes, delivery reports, and a registration journey end to end over HTTP."""

from __future__ import annotations

import itertools
import logging
from datetime import timedelta

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from bot import i18n, outbox, router, sms
from bot.app import create_app
from bot.channels.africastalking import AfricasTalkingTransport, classify
from bot.channels.twilio_sms import TwilioTransport
from bot.config import Settings
from bot.dispatch import Dispatcher
from bot.runtime import transports
from storage.clusters import Cluster, create_cluster
from storage.db import session_scope
from storage.members import Identity, Member
from storage.messages import InboundMessage, OutboundMessage
from tests.conftest import Phone, with_settings
from tests.fakes.africastalking import KEY, SHORTCODE, USERNAME
from tests.fakes.outbox import identity, message, queue

pytest_plugins = ("tests.fakes.fixtures", "tests.fakes.africastalking_fixtures")

ASHA, FAC, TREASURER = "+255712000001", "+255712000009", "+255712000008"
_ids = itertools.count(1)


def post_sms(client, number: str, text: str, *, msg_id: str | None = None, link_id: str = "", key: str | None = KEY):
    form = {"from": number, "to": SHORTCODE, "text": text, "date": "2025-03-01 08:00:00",
            "id": msg_id or f"ATid_{next(_ids):08d}"}
    if link_id:
        form["linkId"] = link_id
    url = "/webhooks/africastalking/sms" + (f"?key={key}" if key is not None else "")
    return client.post(url, data=form)


def post_delivery(client, message_id: str, status: str, reason: str = "", key: str | None = KEY):
    form = {"id": message_id, "status": status, "phoneNumber": ASHA, "networkCode": "64002"}
    if reason:
        form["failureReason"] = reason
    url = "/webhooks/africastalking/delivery" + (f"?key={key}" if key is not None else "")
    return client.post(url, data=form)


class ATPhone:
    """A basic phone writing to the bot's Africa's Talking shortcode; the replies are what the fake AT API
    was asked to send to it once the dispatcher has drained."""

    def __init__(self, client, dispatcher, fake_at, number: str):
        self.client, self.dispatcher, self.fake_at, self.number = client, dispatcher, fake_at, number

    def received(self) -> list[dict]:
        return [m for m in self.fake_at.messages if m["to"] == self.number]

    def send(self, text: str, **kwargs) -> list[str]:
        before = len(self.received())
        r = post_sms(self.client, self.number, text, **kwargs)
        assert (r.status_code, r.text) == (200, "")
        self.dispatcher.drain()
        return [m["message"] for m in self.received()[before:]]

    def last(self, text: str) -> str:
        replies = self.send(text)
        assert len(replies) == 1, replies
        return replies[0]


@pytest.fixture
def at_phone(at_client, dispatcher, fake_at):
    return lambda number: ATPhone(at_client, dispatcher, fake_at, number)


def counts(db) -> tuple[int, int, int]:
    with session_scope(db) as s:
        return tuple(s.exec(select(func.count()).select_from(model)).one()
                     for model in (InboundMessage, OutboundMessage, Identity))


# Callbacks carry ?key=: AT does not sign them.

@pytest.mark.parametrize("key", [None, "", "wrong-key", KEY + "x"])
def test_a_callback_without_the_right_key_is_refused_and_nothing_recorded(at_client, db, cluster, key):
    before = counts(db)
    assert post_sms(at_client, ASHA, "JOIN", key=key).status_code == 403
    assert post_delivery(at_client, "ATXid_1", "Success", key=key).status_code == 403
    assert counts(db) == before


def test_callbacks_are_refused_while_africas_talking_is_not_configured(settings, db, cluster):
    unconfigured = with_settings(settings, at_webhook_key=KEY)  # a key, but no AT_USERNAME / AT_API_KEY
    with TestClient(create_app(unconfigured, db), client=("127.0.0.1", 50000)) as c:
        before = counts(db)
        assert post_sms(c, ASHA, "JOIN").status_code == 403
        assert counts(db) == before


def test_a_callback_without_from_or_id_is_refused(at_client, db, cluster):
    r = at_client.post(f"/webhooks/africastalking/sms?key={KEY}", data={"from": ASHA, "text": "JOIN"})
    assert r.status_code == 400
    assert counts(db)[0] == 0


# Replies go back the way the person wrote.

def test_a_reply_goes_through_africas_talking_with_the_link_id(at_phone, fake_at, fake_twilio, db, cluster):
    replies = at_phone(ASHA).send("JOIN", link_id="SampleLinkId123")
    assert len(replies) == 1 and "Moshi Tailors" in replies[0]
    [sent] = fake_at.messages
    assert (sent["to"], sent["from"], sent["linkId"], sent["username"]) == (ASHA, SHORTCODE, "SampleLinkId123", USERNAME)
    assert fake_twilio.messages == []
    with session_scope(db) as s:
        row = s.exec(select(OutboundMessage)).one()
        assert (row.provider, row.status, row.provider_id) == ("africastalking", "sent", sent["messageId"])


def test_an_africas_talking_reply_is_queued_and_the_dispatcher_woken(at_client, dispatcher, db, cluster):
    dispatcher.wake.clear()
    assert post_sms(at_client, ASHA, "JOIN").status_code == 200
    assert dispatcher.wake.is_set()
    with session_scope(db) as s:
        assert s.exec(select(OutboundMessage.status)).all() == ["queued"]


def test_without_at_from_and_link_id_the_send_leaves_them_out(at_settings, db, fake_at, fake_clock, cluster):
    plain = with_settings(at_settings, at_from="")
    d = Dispatcher(db, plain, [AfricasTalkingTransport(plain, timeout=2)], clock=fake_clock)
    queue(db, ASHA)
    assert d.drain().sent == 1
    [sent] = fake_at.messages
    assert "from" not in sent and "linkId" not in sent
    d.close()


def test_a_duplicate_id_is_acted_on_once(at_phone, db, fake_at, cluster):
    p = at_phone(ASHA)
    assert len(p.send("JOIN", msg_id="ATid_same")) == 1
    assert p.send("JOIN", msg_id="ATid_same") == []
    assert len(fake_at.messages) == 1
    assert counts(db)[:2] == (1, 1)


def test_inbound_ids_of_the_two_providers_never_collide(at_phone, phone, db, cluster):
    """An AT id equal to a Twilio MessageSid is another message."""
    phone("+255712000002").send("JOIN", sid="SM1")
    assert len(at_phone(ASHA).send("JOIN", msg_id="SM1")) == 1


def test_a_twilio_sender_is_answered_by_twiml_even_in_an_africas_talking_cluster(
        at_client, at_cluster, dispatcher, fake_at, fake_twilio, db):
    replies = Phone(at_client, ASHA).send("JOIN")
    assert len(replies) == 1 and "Moshi Tailors" in replies[0]
    dispatcher.drain()
    assert fake_at.messages == [] and fake_twilio.messages == []
    with session_scope(db) as s:
        row = s.exec(select(OutboundMessage)).one()
        assert (row.provider, row.status) == ("twilio", "sent")


def test_notices_go_through_each_clusters_provider(db, dispatcher, cluster, add_member, fake_at, fake_twilio):
    with session_scope(db) as s:
        at = create_cluster(s, "Arusha Weavers", "ARUSHA", sms_provider="africastalking")
    in_at = add_member("+255712000011", cluster_obj=at)
    in_twilio = add_member("+255712000012")  # the default cluster: SMS_PROVIDER, here Twilio
    with session_scope(db) as s:
        for m in (in_at, in_twilio):
            outbox.notify(s, s.get(Member, m.id), "Your last conversation expired after 24 hours. Nothing was "
                          "saved from it. Send HELP to start again.")
    assert dispatcher.drain().sent == 2
    assert [m["to"] for m in fake_at.messages] == ["+255712000011"]
    assert [m["To"] for m in fake_twilio.messages] == ["+255712000012"]


def test_sms_provider_names_the_default_lane(at_settings, db, fake_at, fake_twilio, fake_clock, cluster):
    """Rows without a provider (notices of a cluster without one, rows written before) follow SMS_PROVIDER."""
    chosen = with_settings(at_settings, sms_provider="africastalking")
    d = Dispatcher(db, chosen, [TwilioTransport(chosen, timeout=2), AfricasTalkingTransport(chosen, timeout=2)],
                   clock=fake_clock)
    queue(db, ASHA, 2)
    assert d.drain().sent == 2
    assert len(fake_at.messages) == 2 and fake_twilio.messages == []
    d.close()


def test_a_row_for_a_provider_not_configured_goes_through_the_default(db, settings, fake_twilio, fake_clock, cluster):
    """AT switched off after its rows were queued: they are not stranded."""
    only_twilio = with_settings(settings, twilio_api_base=fake_twilio.url, sms_rate=1000.0)
    [msg_id] = queue(db, ASHA)
    with session_scope(db) as s:
        s.get(OutboundMessage, msg_id).provider = "africastalking"
    d = Dispatcher(db, only_twilio, [TwilioTransport(only_twilio, timeout=2)], clock=fake_clock)
    assert d.drain().sent == 1 and len(fake_twilio.messages) == 1
    d.close()


# What the per-recipient statusCode and the HTTP status mean.

def at_only(at_settings, db, fake_clock) -> Dispatcher:
    return Dispatcher(db, at_settings, [AfricasTalkingTransport(at_settings, timeout=2)], clock=fake_clock)


@pytest.mark.parametrize("code", [403, 406])
def test_an_opted_out_or_invalid_number_is_silenced(at_settings, db, fake_at, fake_clock, cluster, code):
    fake_at.codes[ASHA] = code
    first, second = queue(db, ASHA, 2)
    d = at_only(at_settings, db, fake_clock)
    d.drain()
    assert message(db, first).status == "failed" and str(code) in message(db, first).last_error
    assert message(db, second).status == "failed"  # the rest to that address goes too
    assert identity(db, "sms", ASHA).opted_out
    assert len(fake_at.calls()) == 1
    d.close()


@pytest.mark.parametrize("code", [402, 404, 407, 409, 502])
def test_a_permanent_refusal_fails_the_message_only(at_settings, db, fake_at, fake_clock, cluster, code):
    fake_at.codes[ASHA] = code
    [msg_id] = queue(db, ASHA)
    d = at_only(at_settings, db, fake_clock)
    d.drain()
    assert message(db, msg_id).status == "failed"
    assert not identity(db, "sms", ASHA).opted_out
    d.close()


@pytest.mark.parametrize("code", [401, 405, 500, 501])
def test_a_temporary_refusal_is_retried(at_settings, db, fake_at, fake_clock, cluster, code, caplog):
    fake_at.codes[ASHA] = code
    [msg_id] = queue(db, ASHA)
    d = at_only(at_settings, db, fake_clock)
    with caplog.at_level(logging.WARNING, logger="bot.channels.africastalking"):
        assert d.drain().retried == 1
    assert message(db, msg_id).status == "queued"
    if code in (401, 405):
        assert "operator must act" in caplog.text
    del fake_at.codes[ASHA]
    d.drain(wait=True)
    assert message(db, msg_id).status == "sent"
    d.close()


def test_a_429_is_throttled_for_its_retry_after(at_settings, db, fake_at, fake_clock, cluster):
    [msg_id] = queue(db, ASHA)
    fake_at.fail(1, 429, retry_after=30)
    d = at_only(at_settings, db, fake_clock)
    start = fake_clock.now()
    assert d.drain().retried == 1
    row = message(db, msg_id)
    assert row.status == "queued" and row.attempts == 1
    assert row.next_attempt_at.replace(tzinfo=start.tzinfo) >= start + timedelta(seconds=30)
    d.drain(wait=True)
    assert message(db, msg_id).status == "sent"
    d.close()


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_retried(at_settings, db, fake_at, fake_clock, cluster, status):
    [msg_id] = queue(db, ASHA)
    fake_at.fail(1, status)
    d = at_only(at_settings, db, fake_clock)
    d.drain(wait=True)
    assert message(db, msg_id).status == "sent" and len(fake_at.calls()) == 2
    d.close()


def test_a_refused_api_key_is_retried_and_logged(at_settings, db, fake_at, fake_clock, cluster, caplog):
    wrong = with_settings(at_settings, at_api_key="not-the-key")
    [msg_id] = queue(db, ASHA)
    d = Dispatcher(db, wrong, [AfricasTalkingTransport(wrong, timeout=2)], clock=fake_clock)
    with caplog.at_level(logging.WARNING, logger="bot.channels.africastalking"):
        d.drain()
    assert message(db, msg_id).status == "queued" and "AT_API_KEY" in caplog.text
    d.close()


def test_an_answer_that_is_not_json_is_retried(at_settings, db, fake_at, fake_clock, cluster):
    [msg_id] = queue(db, ASHA)
    fake_at.garble(1)
    d = at_only(at_settings, db, fake_clock)
    assert d.drain().retried == 1
    assert "africastalking answer" in message(db, msg_id).last_error
    d.drain(wait=True)
    assert message(db, msg_id).status == "sent"
    d.close()


def test_a_refused_connection_is_retried(at_settings, db, fake_at, fake_clock, cluster):
    [msg_id] = queue(db, ASHA)
    fake_at.refuse()
    d = at_only(at_settings, db, fake_clock)
    assert d.drain().retried == 1
    fake_at.accept()
    d.drain(wait=True)
    assert message(db, msg_id).status == "sent"
    d.close()


def test_classify_needs_a_message_id_to_call_it_sent():
    assert classify({"statusCode": 101, "messageId": "ATXid_1"}) is None
    assert classify({"statusCode": 101, "messageId": ""}) is not None
    assert classify({"statusCode": "nonsense"}).permanent is False


# Delivery reports.

def sent_row(db, dispatcher) -> OutboundMessage:
    [msg_id] = queue(db, ASHA)
    with session_scope(db) as s:
        s.get(OutboundMessage, msg_id).provider = "africastalking"
    dispatcher.drain()
    return message(db, msg_id)


@pytest.mark.parametrize(("status", "stored"), [("Sent", "sent"), ("Submitted", "sent"), ("Buffered", "sent"),
                                                ("Success", "delivered"), ("Failed", "failed"),
                                                ("Rejected", "failed")])
def test_a_delivery_report_moves_the_row(at_client, dispatcher, db, cluster, status, stored):
    row = sent_row(db, dispatcher)
    assert post_delivery(at_client, row.provider_id, status).status_code == 200
    assert message(db, row.id).status == stored
    assert not identity(db, "sms", ASHA).opted_out


@pytest.mark.parametrize("reason", ["UserInBlacklist", "UserInBlackList", "InvalidPhoneNumber", "UserIsInactive",
                                    "UserAccountSuspended", "UserDoesNotExist"])
def test_a_permanent_delivery_failure_silences_the_address(at_client, dispatcher, db, cluster, reason):
    row = sent_row(db, dispatcher)
    [later] = queue(db, ASHA)
    assert post_delivery(at_client, row.provider_id, "Failed", reason).status_code == 200
    assert message(db, row.id).status == "failed" and reason in message(db, row.id).last_error
    assert identity(db, "sms", ASHA).opted_out
    assert message(db, later).status == "failed"


@pytest.mark.parametrize("reason", ["DeliveryFailure", "InsufficientCredit", "NotNetworkSubcriber"])
def test_a_delivery_failure_that_says_nothing_of_the_address_does_not_silence(
        at_client, dispatcher, db, cluster, reason):
    row = sent_row(db, dispatcher)
    post_delivery(at_client, row.provider_id, "Failed", reason)
    assert message(db, row.id).status == "failed" and not identity(db, "sms", ASHA).opted_out


def test_an_unknown_delivery_status_is_refused(at_client, dispatcher, db, cluster):
    row = sent_row(db, dispatcher)
    assert post_delivery(at_client, row.provider_id, "Teleported").status_code == 400
    assert message(db, row.id).status == "sent"


def test_writing_again_lifts_the_silence(at_client, at_phone, dispatcher, db, cluster):
    row = sent_row(db, dispatcher)
    post_delivery(at_client, row.provider_id, "Failed", "UserInBlacklist")
    assert len(at_phone(ASHA).send("JOIN")) == 1
    assert not identity(db, "sms", ASHA).opted_out


# A journey by Africa's Talking SMS only.

JOURNEYS = {
    "sw": ("JIUNGE", ["Asha Juma", "Asha Mitindo", "ushonaji", "Moshi", "mwanamke", "1", "2"]),
    "fr": ("ADHERER", ["Awa Diop", "Awa Couture", "couture", "Thiès", "Femme", "1", "3"]),
}


def expected(lang: str, msgid: str, **kwargs) -> str:
    return sms.outgoing(i18n.translate(lang, msgid, region="TZ", tz="Africa/Dar_es_Salaam", **kwargs))


@pytest.mark.parametrize("lang", JOURNEYS)
def test_a_member_registers_is_approved_and_saves_by_africas_talking(at_phone, at_cluster, add_member, fake_at,
                                                                     fake_twilio, db, lang):
    add_member(FAC, admin_role="facilitator", language=lang, name="Faith")
    add_member(TREASURER, admin_role="treasurer", language=lang, name="Tumaini")
    keyword, answers = JOURNEYS[lang]
    newcomer, facilitator, treasurer = at_phone(ASHA), at_phone(FAC), at_phone(TREASURER)
    assert newcomer.last(keyword) == expected(lang, "Welcome to {cluster}! We will ask 7 short questions. "
                                                    "What is your full name?", cluster="Moshi Tailors")
    for answer in answers[:-1]:
        assert sms.fits(newcomer.last(answer))
    assert newcomer.last(answers[-1]) == expected(
        lang, "Thank you, {name}! Your number is {number}. A facilitator will approve you soon.",
        name=answers[0], number="MOSHI-003")
    assert facilitator.received()[-1]["message"] == expected(
        lang, "New member {number}: {name}, {business}, {location}. Send APPROVE {number} or REJECT {number}.",
        number="MOSHI-003", name=answers[0], business=answers[1], location=answers[3])
    assert facilitator.last(f"{router.keyword('APPROVE', lang)} MOSHI-003") == expected(
        lang, "{number} {name} is now an active member.", number="MOSHI-003", name=answers[0])
    assert newcomer.received()[-1]["message"] == expected(
        lang, "Welcome to {cluster}! You are now a member, number {number}. Send HELP to see what you can do.",
        cluster="Moshi Tailors", number="MOSHI-003")
    saved = newcomer.last(f"{router.keyword('SAVE', lang)} 5000 QK7")
    assert "5" in saved and sms.fits(saved)
    assert len(treasurer.received()) == 1  # the treasurer hears of the deposit to confirm, through AT too
    assert fake_twilio.messages == []
    assert all(m["from"] == SHORTCODE for m in fake_at.messages)


# Configuration and the cluster command.

AT_ENV = {"AT_USERNAME": "sandbox", "AT_API_KEY": "k"}
TWILIO_ENV = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+15005550006"}


@pytest.mark.parametrize(("env", "provider"), [({}, "simulator"), (AT_ENV, "africastalking"), (TWILIO_ENV, "twilio"),
                                               ({**AT_ENV, **TWILIO_ENV}, "twilio"),
                                               ({**AT_ENV, **TWILIO_ENV, "SMS_PROVIDER": "africastalking"},
                                                "africastalking")])
def test_the_default_sms_provider_is_the_one_configured(env, provider):
    assert Settings.from_env(env).default_sms_provider == provider


def test_africas_talking_settings_are_read():
    s = Settings.from_env({**AT_ENV, "AT_FROM": " 15555 ", "AT_API_BASE": "https://api.sandbox.africastalking.com/",
                           "AT_WEBHOOK_KEY": KEY, "USSD_SERVICE_CODE": "*384*123#"})
    assert (s.at_enabled, s.at_from, s.at_api_base, s.at_webhook_key, s.ussd_service_code) == \
        (True, "15555", "https://api.sandbox.africastalking.com", KEY, "*384*123#")
    assert Settings.from_env({}).at_api_base == "https://api.africastalking.com"
    assert not Settings.from_env({"AT_USERNAME": "sandbox"}).at_enabled


def test_an_unknown_sms_provider_is_refused_at_start():
    with pytest.raises(ValueError, match="SMS_PROVIDER"):
        Settings.from_env({"SMS_PROVIDER": "carrier-pigeon"})


def test_the_runtime_sends_through_every_configured_provider(at_settings):
    found = transports(at_settings)
    assert sorted((t.channel, t.provider) for t in found) == [("sms", "africastalking"), ("sms", "twilio")]
    for t in found:
        getattr(t, "close", lambda: None)()


def test_cluster_create_and_edit_choose_the_sms_provider(cli_run, db):
    assert cli_run("cluster", "create", "Moshi", "--code", "MOSHI", "--sms-provider", "africastalking")[0] == 0
    with pytest.raises(SystemExit):
        cli_run("cluster", "create", "Hai", "--code", "HAI", "--sms-provider", "pigeon")
    with session_scope(db) as s:
        assert s.exec(select(Cluster.sms_provider)).all() == ["africastalking"]
    code, out, _ = cli_run("cluster", "edit", "moshi", "--sms-provider", "twilio")
    assert code == 0 and "twilio" in out
    code, out, _ = cli_run("cluster", "edit", "MOSHI", "--sms-provider", "default")
    assert code == 0 and "(SMS_PROVIDER)" in out
    with session_scope(db) as s:
        assert s.exec(select(Cluster.sms_provider)).all() == [""]
    code, _, err = cli_run("cluster", "edit", "NOPE", "--sms-provider", "twilio")
    assert code == 2 and "NOPE" in err
