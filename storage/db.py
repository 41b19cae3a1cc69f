"""Database engine, sessions, migrations and the small helpers every domain shares."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, create_engine, select

MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    """Aware UTC: every timestamp is stored in UTC and shown in the cluster's timezone."""
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE so writers queue instead of failing."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def is_postgres(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


MIGRATION_LOCK = 0x6D696772  # "migr": several web processes starting together migrate one at a time


_MIGRATING = threading.Lock()  # Alembic's environment is process-global: one migration per process at a time


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision of every domain branch."""
    cfg = alembic_config(engine)
    with _MIGRATING, engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
            conn.commit()
        finally:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                conn.commit()


# SQLite takes one writer at a time and every transaction here begins IMMEDIATE. Threads of one process
# queue on this lock instead of in SQLite's busy handler, which sleeps in growing steps (up to 100 ms)
# and turns a short queue into seconds of latency. Other processes still meet the busy timeout.
_SQLITE_WRITER = threading.RLock()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    queue = _SQLITE_WRITER if engine.dialect.name == "sqlite" else nullcontext()
    with queue, Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def lock_row(session: Session, model: type[SQLModel], row_id: int):
    """Re-read a row with FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers."""
    stmt = select(model).where(model.id == row_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
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


def insert_once(session: Session, row: SQLModel) -> bool:
    """Insert a row guarded by a unique constraint; False when it already exists (nothing changed)."""
    try:
        with session.begin_nested():
            session.add(row)
        return True
    except IntegrityError:
        return False
