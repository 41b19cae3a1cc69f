"""SIGTERM of `clusterbot serve` and `clusterbot worker`: a clean stop on every channel configured.

A real subprocess against the fake Telegram Bot API and the fake Twilio: each channel has sent a message
before the signal, so every transport has something to close.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUTH_TOKEN, PUBLIC_BASE
from tests.fakes.server import free_port
from tests.fakes.telegram import FakeTelegram, text_update
from tests.fakes.twilio import FakeTwilio

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "4242:test-token"
SECRET = "tg-webhook-secret"
UNCLEAN = ("Cannot run the event loop", "Traceback", "was never awaited", "Task was destroyed",
           "Exception in thread", "ERROR")


def wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("mode", ["webhook", "polling"])
def test_sigterm_of_serve_with_telegram_and_twilio_stops_cleanly(settings, db, cluster, add_member, tmp_path, mode):
    add_member("+255712000001")
    telegram, twilio = FakeTelegram().start(), FakeTwilio().start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_", "DATABASE_", "SIMULATOR"))}
    env.update(DATABASE_URL=settings.database_url, PUBLIC_BASE_URL=PUBLIC_BASE, TWILIO_ACCOUNT_SID="AC" + "0" * 32,
               TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM_NUMBER="+15005550006", TWILIO_API_BASE=twilio.url,
               TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_API_BASE=telegram.url,
               TELEGRAM_MODE=mode, SMS_RATE="1000", LEADER_INTERVAL="0.5",
               LOG_LEVEL="INFO",  # the shutdown lines are INFO; the default is quiet
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port)], env=env,
                                cwd=tmp_path, stdout=out, stderr=out)
    try:
        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_for(healthy), log.read_text()
        update = text_update(777001, "HELP")
        if mode == "webhook":
            r = httpx.post(f"http://127.0.0.1:{port}/webhooks/telegram", json=update,
                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=10)
            assert r.status_code == 200
        else:
            telegram.push(update)
        assert wait_for(lambda: telegram.sent), log.read_text()
        with httpx.Client() as c:  # an SMS reply goes out through Twilio's REST API as well
            c.post(f"http://127.0.0.1:{port}/simulate", json={"from": "+255712000001", "text": "HELP"})
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        telegram.stop()
        twilio.stop()
    text = log.read_text()
    # uvicorn re-raises the signal once its shutdown is complete: death by SIGTERM after a clean stop
    assert rc in (0, -signal.SIGTERM), text
    assert "Application shutdown complete" in text, text
    for marker in UNCLEAN:
        assert marker not in text, text


def test_sigterm_of_the_worker_with_telegram_polling_stops_cleanly(settings, db, cluster, tmp_path):
    telegram = FakeTelegram().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_", "DATABASE_", "SIMULATOR"))}
    env.update(DATABASE_URL=settings.database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=telegram.url,
               TELEGRAM_MODE="polling", LEADER_INTERVAL="0.5",
               LOG_LEVEL="INFO",  # the shutdown lines are INFO; the default is quiet
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=tmp_path,
                                stdout=out, stderr=out)
    try:
        telegram.push(text_update(777002, "HELP"))
        assert wait_for(lambda: telegram.sent), log.read_text()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        telegram.stop()
    text = log.read_text()
    assert rc == 0, text
    for marker in UNCLEAN:
        assert marker not in text, text
