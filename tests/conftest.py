"""Shared fixtures: a real SQLite file per test, the ASGI app over HTTP, signed Twilio webhooks."""

from __future__ import annotations

import io
import itertools
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, make_url, text
from sqlmodel import select
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from bot import cli, sms
from bot.app import create_app
from bot.config import Settings
from bot.engine import Inbound, receive
from storage.clusters import Cluster, create_cluster
from storage.db import make_engine, migrate, session_scope, utcnow
from storage.members import Identity, Member, create_member
from storage.messages import OutboundMessage

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE = "https://bot.example.org"
_sid = itertools.count(1)


def next_sid(prefix: str = "SM") -> str:
    return f"{prefix}{next(_sid):032x}"


def pytest_addoption(parser):
    parser.addoption("--db", choices=["sqlite", "postgres"], default=os.environ.get("TEST_DB", "sqlite"),
                     help="database backend for the tests; postgres needs TEST_DATABASE_URL "
                          "(scripts/with-postgres sets it)")


def pytest_report_header(config):
    return f"clusterbot database backend: {config.getoption('--db')}"


@pytest.fixture
def progress(request):
    """What a long test measured ("2000 webhooks in 38 s, 0 lost"), shown after the run in its own section
    rather than among the dots (and carried back from pytest-xdist's workers with the test's report)."""
    return lambda line: request.node.user_properties.append(("progress", line))


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL run only the tests that reach the database under test (those using `database_url`,
    through `db`, `settings`, `client`...): the others never see the backend, so the SQLite run has run
    them already, identically. Slow tests stay: scripts/test runs them once, here."""
    if config.getoption("--db") != "postgres":
        return
    neutral = [item for item in items if not {"database_url", "backend"} & set(getattr(item, "fixturenames", ()))
               and item.get_closest_marker("slow") is None]  # the slow ones run only in this run
    if neutral:
        config.hook.pytest_deselected(items=neutral)
        items[:] = [item for item in items if item not in neutral]


def pytest_terminal_summary(terminalreporter):
    lines = [value for reports in terminalreporter.stats.values() for report in reports
             for key, value in getattr(report, "user_properties", ()) if key == "progress"
             and getattr(report, "when", "call") == "call"]
    if lines:
        terminalreporter.section("what the long tests measured")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def backend(request) -> str:
    return request.config.getoption("--db")


def _admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.exit("--db postgres needs TEST_DATABASE_URL=postgresql+psycopg://... (see scripts/with-postgres)", 2)
    return url


def _pg_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


# Kept in the template beside the migrated schema, never touched by the app: a copy of every table the
# migrations fill (the seeded glossary, alembic_version) and a log of DDL written by an event trigger.
_PRISTINE = "cb_pristine"


def _autocommit(engine):
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _keep_pristine(engine) -> tuple[str, str]:
    """Snapshot what the migrations left in the template, arm the DDL log, and return the SQL that puts a
    database copied from it back to that state: a query naming the tables that hold rows, and the rest of
    the reset after their TRUNCATE (the seeded rows copied back in replica mode, no foreign-key checks or
    triggers, and every sequence where it was). TRUNCATE, not DELETE: a table gets a new, empty heap, so
    rows come back in the order they are inserted, as in a new database (after a DELETE PostgreSQL puts new
    rows into the freed space, and a test reading without ORDER BY saw them out of order). Two round trips
    instead of a CREATE DATABASE (0.5 s on this machine)."""
    with _autocommit(engine) as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                   "ORDER BY tablename")).scalars().all()
        sequences = conn.execute(text(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = 'public' ORDER BY sequencename")).all()
        conn.execute(text(f'CREATE SCHEMA "{_PRISTINE}"'))
        seeded = []
        for table in tables:
            if conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM public."{table}")')).scalar():
                conn.execute(text(f'CREATE TABLE "{_PRISTINE}"."{table}" AS TABLE public."{table}"'))
                seeded.append(table)
        conn.execute(text(f'CREATE TABLE "{_PRISTINE}".ddl (tag text)'))
        conn.execute(text(
            f'CREATE FUNCTION "{_PRISTINE}".note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS '
            f'$$ BEGIN INSERT INTO "{_PRISTINE}".ddl VALUES (tg_tag); END $$'))
        conn.execute(text(f'CREATE EVENT TRIGGER cb_note_ddl ON ddl_command_end '
                          f'EXECUTE FUNCTION "{_PRISTINE}".note_ddl()'))
    filled = " UNION ALL ".join(f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM public.\"{table}\")"
                                for table in tables)
    steps = ["SET session_replication_role = replica"]
    steps += [f'INSERT INTO public."{table}" SELECT * FROM "{_PRISTINE}"."{table}"' for table in seeded]
    steps += [f"SELECT setval('public.\"{name}\"', {1 if value is None else value}, {'false' if value is None else 'true'})"
              for name, value in sequences]  # last_value is NULL until a sequence is first used
    steps.append("SET session_replication_role = DEFAULT")
    return filled, ";\n".join(steps)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory, backend):
    """One migrated database, copied for each test: migrations run once per session."""
    if backend == "postgres":
        admin = make_engine(_admin_url())
        name = f"cb_template_{os.getpid()}"
        with _autocommit(admin) as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(_pg_url(_admin_url(), name))
        migrate(engine)
        filled, reset = _keep_pristine(engine)
        engine.dispose()
        yield _PgDatabases(admin, name, filled, reset)
        with _autocommit(admin) as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "cb_test_{os.getpid()}" WITH (FORCE)'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    yield path


class _PgDatabases:
    """This process's PostgreSQL test database: copied from the migrated template once, and before each
    test put back to the template's state (rows and sequences) instead of dropped and copied again. A test
    that changed the schema (a migration test, logged by the event trigger) gets a new copy instead.

    `engine` is the tests' `db` too: its compiled statements and its connections (a new one costs 6 ms
    here) outlive a test. Before each test every other connection to the database is closed, and so is any
    of its own still inside a transaction (a session a test left open): nothing holds a lock or a row."""

    def __init__(self, admin, template: str, filled: str, reset: str):
        self.admin, self.template, self.filled, self.reset = admin, template, filled, reset
        self.name = f"cb_test_{os.getpid()}"
        self.url = _pg_url(_admin_url(), self.name)
        self.engine = None
        self.own: set[int] = set()  # the server processes of engine's connections

    def fresh(self) -> str:
        if self.engine is not None:
            with _autocommit(self.engine) as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                  "AND (state <> 'idle' OR NOT pid = ANY(:own))"), {"own": list(self.own)})
                changed = conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{_PRISTINE}".ddl)')).scalar()
                if not changed:
                    tables = ", ".join(f'public."{t}"' for t in conn.execute(text(self.filled)).scalars())
                    conn.exec_driver_sql((f"TRUNCATE {tables} CASCADE;\n" if tables else "") + self.reset)
                    return self.url
            self.engine.dispose()
        with _autocommit(self.admin) as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            # FILE_COPY: a small template copies faster than through the WAL (PostgreSQL 15's default)
            conn.execute(text(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY'))
        self.engine, self.own = make_engine(self.url), set()

        @event.listens_for(self.engine, "connect")
        def _note_pid(dbapi_conn, _record):
            self.own.add(dbapi_conn.info.backend_pid)  # psycopg knows it: no query

        return self.url


@pytest.fixture
def database_url(tmp_path, template_db, backend):
    """A fresh database for one test: a copied SQLite file, or the PostgreSQL test database put back to the
    migrated template's state."""
    if backend == "postgres":
        yield template_db.fresh()
        return
    path = tmp_path / "clusterbot.db"
    shutil.copy(template_db, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(database_url=database_url, public_base_url=PUBLIC_BASE,
                    twilio_account_sid="AC" + "0" * 32, twilio_auth_token=AUTH_TOKEN,
                    twilio_from_number="+15005550006", simulator=True, flood_limit=30,
                    retention_days=0)  # tests run the scheduler years ahead; retention has its own test


@pytest.fixture
def db(settings, template_db, backend):
    if backend == "postgres" and settings.database_url == template_db.url:
        yield template_db.engine  # the test process's engine, warm (see _PgDatabases)
        return
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings, db):
    return create_app(settings, db)


@pytest.fixture
def client(app):
    with TestClient(app, client=("127.0.0.1", 50000)) as c:
        yield c


@pytest.fixture
def web(app):
    """The app at its public https address, as a browser on the dashboard reaches it."""
    with TestClient(app, base_url="https://bot.example.org", client=("127.0.0.1", 50000)) as c:
        yield c


def sign(params: dict[str, str], path: str = "/webhooks/twilio/sms", token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(PUBLIC_BASE + path, params)


def twiml_texts(xml: str) -> list[str]:
    return [m.text or "" for m in ET.fromstring(xml).iter("Message")]


class Phone:
    """A basic phone texting the bot through the signed Twilio webhook."""

    def __init__(self, client: TestClient, number: str):
        self.client, self.number = client, number

    def send(self, text: str, sid: str | None = None) -> list[str]:
        params = {"From": self.number, "To": "+15005550006", "Body": text, "MessageSid": sid or next_sid()}
        r = self.client.post("/webhooks/twilio/sms", data=params,
                             headers={"X-Twilio-Signature": sign(params)})
        assert r.status_code == 200, r.text
        return twiml_texts(r.text)

    def last(self, text: str) -> str:
        replies = self.send(text)
        assert len(replies) == 1, replies
        return replies[0]


@pytest.fixture
def phone(client):
    return lambda number: Phone(client, number)


@pytest.fixture
def cluster(db) -> Cluster:
    with session_scope(db) as s:
        return create_cluster(s, "Moshi Tailors", "MOSHI", language="en", currency="TZS",
                              timezone="Africa/Dar_es_Salaam", region="TZ")


@pytest.fixture
def add_member(db, cluster):
    """Create a member directly (as an import would): add_member("+255712000001", admin_role=...)."""

    def make(phone: str, *, status: str = "active", admin_role: str = "member", language: str = "en",
             cluster_obj: Cluster | None = None, **fields) -> Member:
        target = cluster_obj or cluster
        defaults = dict(name="Test Member", business="Shop", sector="tailoring", location="Moshi",
                        gender="female", role="firm")
        defaults.update(fields)
        with session_scope(db) as s:
            m = create_member(s, s.get(Cluster, target.id), phone=phone, status=status, language=language,
                              **defaults)
            m.admin_role = admin_role
            s.add(m)
        return m

    return make


def say(db, settings, address: str, text: str, *, channel: str = "sms", now: datetime | None = None) -> list[str]:
    """Talk to the engine directly (no HTTP): the replies' texts."""
    outcome = receive(db, settings, Inbound(channel, address, text, next_sid("T")), now=now, reply_status="sent")
    return [r.text for r in outcome.replies]


def outbox(db, address: str | None = None, *, kind: str | None = None) -> list[OutboundMessage]:
    """Messages queued or sent other than direct replies, oldest first."""
    with session_scope(db) as s:
        stmt = select(OutboundMessage).where(OutboundMessage.inbound_id == None)  # noqa: E711
        if address:
            stmt = stmt.where(OutboundMessage.address == address)
        if kind:
            stmt = stmt.where(OutboundMessage.kind == kind)
        return list(s.exec(stmt.order_by(OutboundMessage.id)))


def with_settings(settings: Settings, **changes) -> Settings:
    return replace(settings, **changes)


@pytest.fixture
def cli_run(settings, monkeypatch, capsysbinary):
    """Run `clusterbot ...` in-process against the test database: (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DEFAULT_REGION", "TZ")

    def invoke(*argv, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = cli.main(list(argv))
        out, err = capsysbinary.readouterr()
        return code, out.decode(), err.decode()

    return invoke


def speaker(db, add_member, phone: str, lang: str, channel: str, **fields) -> tuple[Member, str]:
    """A member speaking `lang` on `channel`: (the member, the address to send from)."""
    member = add_member(phone, language=lang, **fields)
    if channel == "sms":
        return member, phone
    chat = "7" + phone[-8:]
    with session_scope(db) as s:
        s.add(Identity(channel="telegram", address=chat, member_id=member.id, last_seen_at=utcnow() + timedelta(1)))
    return member, chat


def one_reply(db, settings, address: str, channel: str, text: str, lang: str = "", *,
              now: datetime | None = None) -> str:
    """The one reply a message gets, checked to fit one SMS segment (two UCS-2 ones in Amharic)."""
    replies = say(db, settings, address, text, channel=channel, now=now)
    assert len(replies) == 1, (lang, text, replies)
    encoded = sms.encode(replies[0])
    assert encoded.segments == 1 if encoded.encoding == "GSM-7" else encoded.units <= 134, replies[0]
    return replies[0]
