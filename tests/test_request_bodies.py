"""Request bodies: refused by Content-Length, never read past the limit, before any signature check.

A counting `receive` stands in for the network: the test asserts how many bytes the app pulled in, so it
proves memory stays bounded without timing a process's RSS. The same is checked over a real HTTP server.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import uvicorn
from sqlmodel import func, select

from bot.app import MAX_BODY, create_app
from bot.dashboard import MAX_FORM
from storage.db import session_scope
from storage.messages import InboundMessage
from tests.conftest import with_settings
from tests.fakes.server import free_port

CHUNK = 64 * 1024
HUGE = 500 * 1024 * 1024
SECRET = "tg-secret"
AT_KEY = "at-key"

# every endpoint that reads a body, with its limit and the headers that get it past any pre-body check
ENDPOINTS = [
    ("/webhooks/twilio/sms", MAX_BODY, {"content-type": "application/x-www-form-urlencoded",
                                        "x-twilio-signature": "forged"}),
    ("/webhooks/twilio/status", MAX_BODY, {"content-type": "application/x-www-form-urlencoded"}),
    (f"/webhooks/africastalking/sms?key={AT_KEY}", MAX_BODY, {"content-type": "application/x-www-form-urlencoded"}),
    (f"/webhooks/africastalking/delivery?key={AT_KEY}", MAX_BODY,
     {"content-type": "application/x-www-form-urlencoded"}),
    ("/webhooks/telegram", MAX_BODY, {"content-type": "application/json",
                                      "x-telegram-bot-api-secret-token": SECRET}),
    ("/simulate", MAX_BODY, {"content-type": "application/json"}),
    (f"/webhooks/africastalking/ussd?key={AT_KEY}", MAX_BODY, {"content-type": "application/x-www-form-urlencoded"}),
    (f"/webhooks/africastalking/ussd/end?key={AT_KEY}", MAX_BODY,
     {"content-type": "application/x-www-form-urlencoded"}),
    ("/simulate/ussd", MAX_BODY, {"content-type": "application/json"}),
    ("/simulate/ussd", MAX_BODY, {"content-type": "application/x-www-form-urlencoded"}),
    ("/dashboard/login", MAX_FORM, {"content-type": "application/x-www-form-urlencoded"}),
    ("/dashboard/verify", MAX_FORM, {"content-type": "application/x-www-form-urlencoded"}),
    ("/dashboard/logout", MAX_FORM, {"content-type": "application/x-www-form-urlencoded"}),
    ("/dashboard/language", MAX_FORM, {"content-type": "application/x-www-form-urlencoded"}),
    ("/dashboard/c/MOSHI/members/MOSHI-001/approve", MAX_FORM,
     {"content-type": "application/x-www-form-urlencoded"}),
]


@pytest.fixture
def web_app(settings, db):
    return create_app(with_settings(settings, telegram_bot_token="123:abc", telegram_webhook_secret=SECRET,
                                    at_username="sandbox", at_api_key="k", at_webhook_key=AT_KEY), db)


def call(app, path: str, headers: dict[str, str], *, declared: int | None) -> tuple[int, int]:
    """POST `path` with an endless body of `a=aaaa...` in 64 KB chunks; (status, bytes the app read)."""
    read = 0
    status = 0
    path, _, query = path.partition("?")
    chunk = b"a=" + b"a" * (CHUNK - 2)
    raw = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"host", b"bot.example.org")]
    if declared is not None:
        raw.append((b"content-length", str(declared).encode()))

    async def receive():
        nonlocal read
        if read >= HUGE:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": raw, "client": ("127.0.0.1", 50000), "server": ("bot.example.org", 443)}
    asyncio.run(app(scope, receive, send))
    return status, read


def inbound_count(db) -> int:
    with session_scope(db) as session:
        return session.exec(select(func.count()).select_from(InboundMessage)).one()


@pytest.mark.parametrize(("path", "limit", "headers"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_a_streamed_body_is_read_no_further_than_the_limit(web_app, db, cluster, path, limit, headers):
    status, read = call(web_app, path, headers, declared=None)
    assert status in (400, 403, 413), status
    assert read <= limit + CHUNK, f"{path} read {read} bytes of a {HUGE}-byte body (limit {limit})"
    assert inbound_count(db) == 0


@pytest.mark.parametrize(("path", "limit", "headers"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_a_declared_length_over_the_limit_is_refused_without_reading(web_app, db, cluster, path, limit, headers):
    status, read = call(web_app, path, headers, declared=HUGE)
    assert status in (400, 403, 413), status
    assert read == 0, f"{path} read {read} bytes although Content-Length said {HUGE}"
    assert inbound_count(db) == 0


def test_the_size_is_checked_before_the_twilio_signature(web_app, db):
    """An unsigned huge post is answered as too large (400, not the signature's 403): the signature check
    never had to hold it."""
    status, read = call(web_app, "/webhooks/twilio/sms", ENDPOINTS[0][2], declared=HUGE)
    assert (status, read) == (400, 0)
    status, read = call(web_app, "/webhooks/twilio/sms", ENDPOINTS[0][2], declared=None)
    assert status == 400 and read <= MAX_BODY + CHUNK


class Counting:
    """ASGI middleware: counts the body bytes the app pulls from the server."""

    def __init__(self, app):
        self.app, self.read = app, 0

    async def __call__(self, scope, receive, send):
        async def counted():
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


def test_over_a_real_http_server_parallel_huge_posts_are_cut_off(web_app, db):
    counting = Counting(web_app)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(counting, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    results: list[tuple[bytes, int]] = []

    def post(path: str, declared: bool) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        head += f"Content-Length: {HUGE}\r\n" if declared else "Transfer-Encoding: chunked\r\n"
        sock.sendall((head + "\r\n").encode())
        block = b"a" * CHUNK
        sent = 0
        try:
            while sent < 40 * 1024 * 1024:  # stop by ourselves after 40 MB if the server never answers
                sock.sendall(block if declared else b"%x\r\n%s\r\n" % (len(block), block))
                sent += len(block)
                sock.settimeout(0)
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        break
                except BlockingIOError:
                    pass
                finally:
                    sock.settimeout(10)
        except OSError:  # the server answered and closed the connection
            pass
        sock.settimeout(10)
        try:
            answer = sock.recv(200)
        except OSError:
            answer = b""
        sock.close()
        results.append((answer, sent))

    try:
        threads = [threading.Thread(target=post, args=(path, declared))
                   for path in ("/webhooks/twilio/sms", "/dashboard/login") for declared in (True, False)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        server.should_exit = True
        thread.join(10)
    assert len(results) == 4
    for answer, _sent in results:
        assert answer.startswith(b"HTTP/1.1 4"), answer
    assert counting.read <= 2 * (MAX_BODY + MAX_FORM + 2 * CHUNK), counting.read
    assert inbound_count(db) == 0
