"""Alembic environment: runs on the connection `storage.db.migrate` hands over, or on the configured URL."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from storage.db import compare_type
from storage.models import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                          compare_type=compare_type)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True, compare_type=compare_type)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
