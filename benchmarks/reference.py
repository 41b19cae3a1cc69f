"""The yardsticks benchmarks/inbound.py measures the bot against, each served by uvicorn as the bot is.

`bare_app` reads the body and returns fixed TwiML: the HTTP server's own ceiling, no durability.

`durable_app` is the least a durable webhook does: it checks the Twilio signature (RequestValidator, the
bot's token and PUBLIC_BASE_URL), parses the form, INSERTs the message (From, Body, MessageSid under a
unique constraint, a repeated sid changes nothing) and COMMITs before it answers fixed TwiML. The database
work runs in a worker thread (run_in_threadpool, as the bot's receive does), through the DBAPI directly
with one connection per thread. REFERENCE_DATABASE is a SQLite file path (WAL, synchronous=NORMAL,
foreign_keys, busy_timeout: the PRAGMAs of storage/db.py make_engine; the threads take turns at the
writer under one lock, as the bot's do, instead of in SQLite's sleeping busy handler) or a postgresql://
URL (psycopg, the table `reference_inbound`).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

PATH = "/webhooks/twilio/sms"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Your savings: TSh500. No loan.</Message></Response>'
TABLE = "reference_inbound"
CREATE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (id {{key}}, message_sid VARCHAR(64) NOT NULL UNIQUE, "
          "sender VARCHAR(64) NOT NULL, body TEXT NOT NULL, received_at VARCHAR(40) NOT NULL)")
INSERT = (f"INSERT INTO {TABLE} (message_sid, sender, body, received_at) VALUES ({{p}}, {{p}}, {{p}}, {{p}}) "
          "ON CONFLICT (message_sid) DO NOTHING")


async def _bare(request: Request) -> Response:
    await request.body()
    return Response(TWIML, media_type="application/xml")


bare_app = Starlette(routes=[Route(PATH, _bare, methods=["POST"])])


class SQLiteStore:
    """One sqlite3 connection per worker thread, autocommit off by hand: BEGIN IMMEDIATE, INSERT, COMMIT."""

    def __init__(self, path: str):
        self.path = path
        self.local = threading.local()
        self.writer = threading.Lock()
        conn = self.connection()
        conn.execute(CREATE.format(key="INTEGER PRIMARY KEY"))

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
                conn.execute(f"PRAGMA {pragma}")
            self.local.conn = conn
        return conn

    def insert(self, sender: str, body: str, sid: str) -> None:
        conn = self.connection()
        with self.writer:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(INSERT.format(p="?"), (sid, sender, body, datetime.now(UTC).isoformat()))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


class PostgresStore:
    """One psycopg connection per worker thread: INSERT, COMMIT (PostgreSQL takes concurrent writers)."""

    def __init__(self, url: str):
        import psycopg  # only with a postgresql:// REFERENCE_DATABASE

        self.connect = lambda: psycopg.connect(url)
        self.local = threading.local()
        with self.connect() as conn:
            conn.execute(CREATE.format(key="BIGSERIAL PRIMARY KEY"))

    def insert(self, sender: str, body: str, sid: str) -> None:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = self.connect()
        try:
            conn.execute(INSERT.format(p="%s"), (sid, sender, body, datetime.now(UTC).isoformat()))
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def open_store(target: str) -> SQLiteStore | PostgresStore:
    if target.startswith("postgresql"):
        return PostgresStore(target.replace("postgresql+psycopg://", "postgresql://", 1))
    return SQLiteStore(target)


@asynccontextmanager
async def _lifespan(app: Starlette):
    app.state.store = open_store(os.environ["REFERENCE_DATABASE"])
    app.state.validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    app.state.url = os.environ["PUBLIC_BASE_URL"].rstrip("/") + PATH
    yield


async def _durable(request: Request) -> Response:
    state = request.app.state
    form = await request.form()
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    if not state.validator.validate(state.url, params, request.headers.get("X-Twilio-Signature", "")):
        return Response("invalid signature", status_code=403)
    sid, sender = params.get("MessageSid", ""), params.get("From", "")
    if not sid or not sender:
        return Response("missing From or MessageSid", status_code=400)
    await run_in_threadpool(state.store.insert, sender, params.get("Body", ""), sid)
    return Response(TWIML, media_type="application/xml")


durable_app = Starlette(routes=[Route(PATH, _durable, methods=["POST"])], lifespan=_lifespan)
