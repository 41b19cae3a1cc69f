"""Twilio over HTTP: signed webhooks, replays, TwiML answers, delivery status callbacks, REST errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import func, select
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.twilio_sms import TwilioTransport, classify, retry_after, twiml
from bot.dispatch import Dispatcher
from storage.db import session_scope
from storage.members import Identity
from storage.messages import Conversation, InboundMessage, OutboundMessage
from tests.conftest import AUTH_TOKEN, next_sid, sign, twiml_texts, with_settings
from tests.fakes import FakeTwilio
from tests.fakes.outbox import identity, message, queue

pytest_plugins = ("tests.fakes.fixtures",)

SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
PHONE = "+255712000001"


def count(db, model) -> int:
    with session_scope(db) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def inbound_params(text: str = "JOIN", sid: str | None = None, sender: str = PHONE) -> dict[str, str]:
    return {"From": sender, "To": "+15005550006", "Body": text, "MessageSid": sid or next_sid(),
            "AccountSid": "AC" + "0" * 32}


def post_sms(client, params: dict[str, str], signature: str | None):
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return client.post(SMS_PATH, data=params, headers=headers)


def post_status(client, sid: str, status: str, *, signed: bool = True, error_code: str = ""):
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if error_code:
        params["ErrorCode"] = error_code
    headers = {"X-Twilio-Signature": sign(params, STATUS_PATH)} if signed else {}
    return client.post(STATUS_PATH, data=params, headers=headers)


def test_a_correctly_signed_message_is_answered_in_twiml(client, cluster, db):
    params = inbound_params("JOIN")
    r = post_sms(client, params, sign(params))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    assert "Moshi Tailors" in twiml_texts(r.text)[0]
    assert count(db, InboundMessage) == 1


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "forged"])
def test_missing_or_forged_signatures_are_refused_and_nothing_recorded(client, cluster, db, signature):
    r = post_sms(client, inbound_params("JOIN"), signature)
    assert r.status_code == 403
    assert (count(db, InboundMessage), count(db, Identity), count(db, OutboundMessage)) == (0, 0, 0)


def test_a_signature_made_with_another_token_is_refused(client, cluster, db):
    params = inbound_params("JOIN")
    assert post_sms(client, params, sign(params, token="not-our-token")).status_code == 403
    assert count(db, InboundMessage) == 0


def test_the_signature_is_checked_against_public_base_url_not_the_request_url(client, cluster, db):
    """Behind a proxy the app sees http://internal-host; Twilio signed the public https URL."""

    params = inbound_params("JOIN")
    as_seen_by_app = RequestValidator(AUTH_TOKEN).compute_signature("http://testserver" + SMS_PATH, params)
    assert post_sms(client, params, as_seen_by_app).status_code == 403
    assert post_sms(client, params, sign(params)).status_code == 200


def test_a_replay_with_a_changed_body_fails_the_signature(client, cluster, db):
    params = inbound_params("JOIN")
    signature = sign(params)
    assert post_sms(client, params, signature).status_code == 200
    tampered = dict(params, Body="APPROVE MOSHI-001", MessageSid=next_sid())
    assert post_sms(client, tampered, signature).status_code == 403
    assert post_sms(client, dict(params, Body="join"), signature).status_code == 403
    assert count(db, InboundMessage) == 1


def test_the_same_message_sid_twice_is_acted_on_once_and_answered_identically(client, cluster, db):
    join = inbound_params("JOIN")
    first = post_sms(client, join, sign(join))
    name = inbound_params("Asha Juma")
    after_name = post_sms(client, name, sign(name))
    again = post_sms(client, join, sign(join))  # Twilio retried the JOIN after a timeout
    assert first.status_code == again.status_code == 200
    assert first.text == again.text
    assert count(db, InboundMessage) == 2
    with session_scope(db) as s:
        assert s.exec(select(Conversation)).one().step == "business"  # the JOIN did not start over
    assert "business" in twiml_texts(after_name.text)[0]


def test_concurrent_duplicates_are_acted_on_once(client, cluster, db):
    params = inbound_params("JOIN")
    signature = sign(params)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: post_sms(client, params, signature), range(4)))
    assert {r.status_code for r in answers} == {200}
    assert len({r.text for r in answers}) == 1
    assert count(db, InboundMessage) == 1


def test_signed_but_malformed_requests_get_4xx(client, cluster, db):
    no_sid = {"From": PHONE, "Body": "JOIN"}
    assert post_sms(client, no_sid, sign(no_sid)).status_code == 400
    huge = inbound_params("x" * 70_000)
    assert post_sms(client, huge, sign(huge)).status_code == 400
    assert count(db, InboundMessage) == 0


def test_an_unknown_sender_format_still_gets_an_answer(client, cluster, db):
    params = inbound_params("HELP", sender="Vodacom")
    r = post_sms(client, params, sign(params))
    assert r.status_code == 200 and len(twiml_texts(r.text)) == 1


@pytest.fixture
def sent_sms(settings, db, fake_twilio):
    """One notice sent through the fake Twilio API: (outbox id, Twilio sid)."""
    [msg_id] = queue(db, PHONE)
    live = with_settings(settings, twilio_api_base=fake_twilio.url)
    dispatcher = Dispatcher(db, live, [TwilioTransport(live)])
    dispatcher.drain()
    dispatcher.close()
    return msg_id, fake_twilio.messages[0]["Sid"]


def test_status_callbacks_move_a_message_from_sent_to_delivered(client, db, sent_sms):
    msg_id, sid = sent_sms
    assert message(db, msg_id).status == "sent"
    assert post_status(client, sid, "sent").status_code == 204
    assert post_status(client, sid, "delivered").status_code == 204
    delivered = message(db, msg_id)
    assert delivered.status == "delivered" and delivered.delivered_at is not None
    assert post_status(client, sid, "sent").status_code == 204  # late and out of order: ignored
    assert message(db, msg_id).status == "delivered"


def test_unsigned_or_forged_status_callbacks_are_refused(client, db, sent_sms):
    msg_id, sid = sent_sms
    assert post_status(client, sid, "delivered", signed=False).status_code == 403
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    forged = client.post(STATUS_PATH, data=params, headers={"X-Twilio-Signature": sign(params, SMS_PATH)})
    assert forged.status_code == 403
    assert message(db, msg_id).status == "sent"


def test_undelivered_to_a_dead_number_fails_and_silences_it(client, db, sent_sms):
    msg_id, sid = sent_sms
    assert post_status(client, sid, "undelivered", error_code="30006").status_code == 204
    failed = message(db, msg_id)
    assert failed.status == "failed" and "30006" in failed.last_error
    assert identity(db, "sms", PHONE).opted_out


def test_a_carrier_filtering_one_message_does_not_silence_the_number(client, db, sent_sms):
    msg_id, sid = sent_sms
    post_status(client, sid, "failed", error_code="30007")
    assert message(db, msg_id).status == "failed"
    assert not identity(db, "sms", PHONE).opted_out


def test_status_callbacks_for_unknown_messages_or_statuses(client, db, sent_sms):
    assert post_status(client, "SM" + "f" * 32, "delivered").status_code == 204
    assert post_status(client, sent_sms[1], "exploded").status_code == 400


@pytest.mark.parametrize("status, code, expected", [
    (429, 20429, "retry"), (500, 20500, "retry"), (503, None, "retry"), (401, 20003, "retry"),
    (400, 21211, "silence"), (400, 21610, "silence"), (400, 21614, "silence"), (400, 21612, "silence"),
    (400, 21617, "fail"), (400, 21606, "fail"), (400, 99999, "fail"),
])
def test_rest_errors_are_classified(status, code, expected):
    error = classify(status, code, "msg", {})
    kind = "silence" if error.opt_out else "fail" if error.permanent else "retry"
    assert kind == expected


def test_retry_after_is_read_as_seconds_or_as_a_date():
    assert classify(429, 20429, "slow down", {"retry-after": "12"}).retry_after == 12.0
    assert retry_after(None) is None and retry_after("soon") is None
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 50 <= retry_after(in_a_minute) <= 61


def test_messaging_service_is_used_when_configured(settings, db, fake_twilio):
    service = with_settings(settings, twilio_api_base=fake_twilio.url, twilio_from_number="",
                            twilio_messaging_service_sid="MG" + "1" * 32)
    queue(db, PHONE)
    Dispatcher(db, service, [TwilioTransport(service)]).drain()
    sent = fake_twilio.messages[0]
    assert sent["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in sent


def test_requests_carry_the_account_credentials(settings, db):
    with FakeTwilio(credentials=(settings.twilio_account_sid, settings.twilio_auth_token)) as fake:
        live = with_settings(settings, twilio_api_base=fake.url)
        queue(db, PHONE)
        assert Dispatcher(db, live, [TwilioTransport(live)]).drain().sent == 1
        assert fake.calls()[0].path == f"/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json"


@given(st.lists(st.text(max_size=200), max_size=3))
def test_the_twiml_answer_is_what_twilios_library_writes(texts):
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    assert twiml(texts) == str(response)
