"""Where a webhook's database work runs: on SQLite on the event loop's own thread (a worker thread traded
the GIL with the loop at every SQLite call), on PostgreSQL in a worker thread (the loop stays free while
the server works). The answers are the same either way; only the thread differs."""

from __future__ import annotations

import asyncio

import pytest
from starlette.testclient import TestClient

from bot import engine as bot_engine
from bot.app import create_app
from bot.channels import ussd
from tests.conftest import next_sid, sign, twiml_texts, with_settings
from tests.fakes import text_update
from tests.test_africastalking import post_sms
from tests.test_ussd import post_ussd

pytest_plugins = ("tests.fakes.fixtures", "tests.fakes.africastalking_fixtures")


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def where(monkeypatch):
    """Each engine call's thread: True when it ran on the event loop. `_take` is where every message is
    taken, alone (receive) or in a batch (group commit)."""
    seen: list[bool] = []
    for module, name in ((bot_engine, "_take"), (ussd, "respond")):
        real = getattr(module, name)

        def spy(*args, _real=real, **kwargs):
            seen.append(_on_loop())
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    return seen


@pytest.mark.parametrize("text", ["HELP", "msaada", "AIDE", "እርዳታ", "BAL"])
def test_twilio_sms_runs_on_the_loop_on_sqlite_and_in_a_thread_on_postgresql(client, cluster, add_member, backend,
                                                                            where, text):
    add_member("+255712000001")
    params = {"From": "+255712000001", "To": "+15005550006", "Body": text, "MessageSid": next_sid()}
    r = client.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": sign(params)})
    assert r.status_code == 200 and len(twiml_texts(r.text)) == 1
    assert where == [backend == "sqlite"]


def test_africas_talking_sms_and_ussd_run_where_twilio_does(at_client, cluster, add_member, backend, where):
    add_member("+255712000001", language="sw")
    assert post_sms(at_client, "+255712000001", "salio").status_code == 200
    r = post_ussd(at_client, "ATUid_1", "+255712000001", "")
    assert r.status_code == 200 and r.text.startswith("CON ")
    assert len(where) >= 2 and set(where) == {backend == "sqlite"}  # USSD answers through receive() too


@pytest.mark.parametrize("text", ["/help", "msaada", "AIDE", "እርዳታ"])
def test_telegram_runs_where_twilio_does(settings, db, fake_telegram, cluster, backend, where, text):
    tg = with_settings(settings, telegram_bot_token="123:TEST", telegram_webhook_secret="s3cret",
                       telegram_api_base=fake_telegram.url)
    with TestClient(create_app(tg, db)) as client:
        r = client.post("/webhooks/telegram", json=text_update(7001, text),
                        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
    assert r.status_code == 200
    assert where == [backend == "sqlite"]
