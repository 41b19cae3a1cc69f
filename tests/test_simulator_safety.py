"""The simulator beside real providers, login codes, and which proxies are believed.

Beside a configured provider the simulator stays off unless SIMULATOR=unsafe-with-providers (the server
starts and logs why); it never shows a dashboard login code; X-Forwarded-* is believed only from the
proxies FORWARDED_ALLOW_IPS names, and a forwarded request is never a loopback one.
"""

from __future__ import annotations

import logging
import re
import threading
import time

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from bot.app import create_app
from bot.cli.service import uvicorn_options
from bot.config import Settings
from tests.conftest import outbox, with_settings
from tests.fakes.server import free_port

TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+15005550006"}
TELEGRAM = {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "s"}
AFRICASTALKING = {"AT_USERNAME": "sandbox", "AT_API_KEY": "k"}


@pytest.mark.parametrize("provider", [TWILIO, TELEGRAM, {**TWILIO, **TELEGRAM}, AFRICASTALKING],
                         ids=["sms", "telegram", "both", "africastalking"])
@pytest.mark.parametrize("asked", ["on", "1", "true", "yes"])
def test_beside_a_provider_the_simulator_stays_off_when_merely_switched_on(provider, asked):
    s = Settings.from_env({**provider, "SIMULATOR": asked})
    assert not s.simulator and s.simulator_refused


@pytest.mark.parametrize("provider", [TWILIO, TELEGRAM, AFRICASTALKING], ids=["sms", "telegram", "africastalking"])
def test_only_the_explicit_unsafe_value_keeps_it_on_beside_a_provider(provider):
    s = Settings.from_env({**provider, "SIMULATOR": "unsafe-with-providers"})
    assert s.simulator and not s.simulator_refused
    assert not Settings.from_env(provider).simulator  # unset: off beside a provider, nothing refused
    assert not Settings.from_env(provider).simulator_refused


def test_alone_the_simulator_is_on_by_default_and_can_be_switched_off():
    assert Settings.from_env({}).simulator
    assert Settings.from_env({"SIMULATOR": "on"}).simulator
    assert not Settings.from_env({"SIMULATOR": "off"}).simulator


def test_the_server_starts_and_logs_why_the_simulator_is_off(db, cluster, caplog):
    s = Settings.from_env({**TWILIO, "SIMULATOR": "on", "DATABASE_URL": str(db.url)})
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        app = create_app(s, db)
    assert any("simulator stays off" in r.getMessage() and "unsafe-with-providers" in r.getMessage()
               for r in caplog.records)
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert local.get("/healthz").status_code == 200
        assert local.post("/simulate", json={"from": "+255712000001", "text": "HELP"}).status_code == 404
        assert "simulator is off" in local.get("/").text


@pytest.mark.parametrize("language", ["en", "sw", "fr", "am"])
def test_the_simulator_inbox_never_shows_a_login_code(settings, db, cluster, add_member, language):
    alone = with_settings(settings, twilio_account_sid="", twilio_auth_token="", simulator=True)
    for phone, role in (("+255712000009", "facilitator"), ("+255712000008", "treasurer")):
        add_member(phone, admin_role=role, language=language)
        with TestClient(create_app(alone, db), base_url="https://bot.example.org",
                        client=("127.0.0.1", 50000)) as local:
            local.post("/dashboard/login", data={"phone": phone})
            code = re.search(r"\b(\d{6})\b", outbox(db, phone, kind="login")[-1].text).group(1)
            inbox = local.get("/simulate/inbox", params={"phone": phone, "after": 0}).json()["messages"]
            assert all(code not in m["text"] for m in inbox), inbox
            history = local.get("/simulate/history", params={"phone": phone})
            if history.status_code == 200:
                assert code not in history.text


@pytest.mark.parametrize("header", [{"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=127.0.0.1"},
                                    {"X-Real-IP": "127.0.0.1"}])
def test_a_forwarded_request_is_never_a_loopback_one(settings, db, cluster, header):
    alone = with_settings(settings, twilio_account_sid="", twilio_auth_token="", simulator=True)
    with TestClient(create_app(alone, db), client=("127.0.0.1", 50000)) as local:
        assert local.post("/simulate", json={"from": "+255712000001", "text": "HELP"}).status_code == 200
        assert local.post("/simulate", json={"from": "+255712000001", "text": "HELP"},
                          headers=header).status_code == 404
        assert local.get("/simulate/inbox", params={"phone": "+255712000001", "after": 0},
                         headers=header).status_code == 404


def _client_seen(settings: Settings, headers: dict[str, str]) -> str:
    """Run uvicorn as `clusterbot serve` does and report the client address the app is given."""
    seen: list[str] = []

    async def echo(scope, receive, send):
        if scope["type"] != "http":
            return
        seen.append(scope["client"][0])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(echo, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", **uvicorn_options(settings)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        httpx.get(f"http://127.0.0.1:{port}/", headers=headers, timeout=5)
    finally:
        server.should_exit = True
        thread.join(10)
    return seen[0]


def test_proxy_headers_are_believed_only_from_forwarded_allow_ips():
    spoof = {"X-Forwarded-For": "203.0.113.9"}
    assert _client_seen(Settings.from_env({}), spoof) == "127.0.0.1"
    assert _client_seen(Settings.from_env({"FORWARDED_ALLOW_IPS": "10.9.9.9"}), spoof) == "127.0.0.1"
    assert _client_seen(Settings.from_env({"FORWARDED_ALLOW_IPS": "127.0.0.1"}), spoof) == "203.0.113.9"
