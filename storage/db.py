"""Database engine, sessions, migrations and the small helpers every domain shares."""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Integer, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel import Session, SQLModel, create_engine, select

MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    """Aware UTC: every timestamp is stored in UTC and shown in the cluster's timezone."""
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """SQLite gets WAL, a busy timeout, and transactions that queue for the writer only once they write."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30,
                                                  "factory": _SQLiteConnection})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we say when a transaction begins, and how
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "before_cursor_execute")
        def _begin_for(conn, _cursor, statement, _parameters, _context, _executemany):
            conn.connection.dbapi_connection.before(statement)

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class _WriterQueue:
    """SQLite takes one writer at a time. This process's threads wait here for their turn instead of in
    SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and turns a short queue into
    seconds of latency; other processes still meet the busy timeout. Re-entrant for the thread that holds
    it (as its RLock predecessor was), and released by whichever thread ends the transaction."""

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._free:
            while self._owner not in (None, me):
                self._free.wait()
            self._owner, self._depth = me, self._depth + 1

    def release(self) -> None:
        with self._free:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._free.notify()


_SQLITE_WRITER = _WriterQueue()
_READS = ("SELECT", "PRAGMA", "EXPLAIN")


class _SQLiteConnection(sqlite3.Connection):
    """A connection that opens its transaction at the first statement, as late and as weak as it can.

    A transaction that only reads runs BEGIN (deferred) and reads WAL's last committed snapshot beside
    the writer, never waiting for it. Before its first write (INSERT, UPDATE, DELETE, a savepoint, DDL)
    it queues for this process's writer and runs BEGIN IMMEDIATE, so it holds SQLite's write lock
    before it writes. A transaction that read first cannot upgrade in place (its snapshot may predate
    another writer's commit: SQLITE_BUSY_SNAPSHOT, "database is locked"); it has written nothing yet, so
    it ends its read snapshot and begins again IMMEDIATE: what it reads from then on is the newest
    committed data, and no other writer can commit until it does. That is PostgreSQL's READ COMMITTED,
    which every storage rule already meets: a value read to decide a write is re-read with `lock_row`,
    which on SQLite claims the writer first, as FOR UPDATE does on PostgreSQL.
    """

    state = ""  # "": no transaction; "read": BEGIN (deferred); "write": BEGIN IMMEDIATE and the writer held

    def before(self, statement: str) -> None:
        """Open or upgrade the transaction a statement needs, before SQLite runs it."""
        if self.state == "write" or statement.startswith(("BEGIN", "COMMIT", "ROLLBACK", "RELEASE")):
            return
        if statement.lstrip()[:7].upper().startswith(_READS):
            if not self.state:
                self.execute("BEGIN")
                self.state = "read"
            return
        self.claim_writer()

    def claim_writer(self) -> None:
        if self.state == "write":
            return
        _SQLITE_WRITER.acquire()
        try:
            if self.state == "read":
                self.execute("ROLLBACK")  # nothing written yet: only a snapshot is given up
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.state = ""
            _SQLITE_WRITER.release()
            raise
        self.state = "write"

    def commit(self) -> None:
        self._ending(super().commit)

    def rollback(self) -> None:
        self._ending(super().rollback)

    def close(self) -> None:
        self._ending(super().close)

    def _ending(self, end: Callable[[], None]) -> None:
        """COMMIT, ROLLBACK or closing: whether it succeeds or fails, the writer's turn ends with it."""
        try:
            end()
        finally:
            self._ended()

    def _ended(self) -> None:
        """After COMMIT or ROLLBACK has run: the next writer may begin."""
        if self.state == "write":
            _SQLITE_WRITER.release()
        self.state = ""


def is_postgres(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def compare_type(context, _inspected_column, _metadata_column, inspected_type, metadata_type) -> bool | None:
    """Alembic's column type comparison, except that on SQLite INTEGER and BIGINT are one type (every
    integer column holds 64 bits there): money is BIGINT in the models for PostgreSQL's sake."""
    if context.dialect.name == "sqlite" and isinstance(inspected_type, Integer) and isinstance(metadata_type, Integer):
        return False
    return None


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


MIGRATION_LOCK = 0x6D696772  # "migr": several web processes starting together migrate one at a time


_MIGRATING = threading.Lock()  # Alembic's environment is process-global: one migration per process at a time


@contextmanager
def _migration_file_lock(engine: Engine) -> Iterator[None]:
    """On a SQLite file, one process migrates at a time, across every commit the migration makes: the
    writer lock ends at each COMMIT, and a process that read the schema's version before another's
    upgrade committed would build tables that already exist. PostgreSQL has its advisory lock instead."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision of every domain branch."""
    cfg = alembic_config(engine)
    with _MIGRATING, _migration_file_lock(engine), engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            conn.commit()
        else:
            conn.connection.dbapi_connection.claim_writer()  # read the schema's version only as its writer
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
            conn.commit()
        finally:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                conn.commit()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error.

    On SQLite it queues for the writer only at its first write (see _SQLiteConnection): a dashboard
    page, an export or a report reads beside a running writer.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def claim_writer(session: Session) -> None:
    """Queue for SQLite's writer now, before reading what this transaction will change: what FOR UPDATE
    does on PostgreSQL (where this does nothing), for a whole transaction."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().connection.dbapi_connection.claim_writer()


def lock_row(session: Session, model: type[SQLModel], row_id: int):
    """Re-read a row to change it: FOR UPDATE on PostgreSQL; on SQLite, as this transaction's writer."""
    stmt = select(model).where(model.id == row_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    else:
        claim_writer(session)
    return session.exec(stmt.execution_options(populate_existing=True)).first()


def insert_new(session: Session, model: type[SQLModel], **values) -> int | None:
    """Insert a row guarded by a unique constraint in one statement; its id, or None when it already exists.

    INSERT ... ON CONFLICT DO NOTHING RETURNING id needs no savepoint. On PostgreSQL an insert racing
    another transaction's uncommitted row with the same key waits for it, then inserts or yields None.
    """
    dialect = session.get_bind().dialect.name
    stmt = _INSERT_NEW.get((dialect, model))
    if stmt is None:
        table = model.__table__
        dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = _INSERT_NEW[dialect, model] = dialect_insert(table).on_conflict_do_nothing().returning(table.c.id)
    return session.connection().execute(stmt, values).scalar()


_INSERT_NEW: dict[tuple[str, type], object] = {}  # built once per dialect and table


def build(model: type[SQLModel], **values):
    """A new (transient) row of `model` without SQLModel's __init__, which sets every field through the
    ORM's instrumentation (about 120 µs for a 20-column row; this takes 8): the field defaults, then
    `values`, as plain loaded values. For rows written with Core (storage rules still decide every value)."""
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        defaults = _DEFAULTS[model] = [(name, f.default_factory, f.default) for name, f in model.model_fields.items()]
    row = manager_of_class(model).new_instance()
    row.__dict__.update({name: factory() if factory is not None else default for name, factory, default in defaults})
    row.__dict__.update(values)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))
    return row


_DEFAULTS: dict[type, list] = {}


def insert_once(session: Session, row: SQLModel) -> bool:
    """Insert a row guarded by a unique constraint; False when it already exists (nothing changed)."""
    try:
        with session.begin_nested():
            session.add(row)
        return True
    except IntegrityError:
        return False
