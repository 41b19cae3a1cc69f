"""Migrations: they build exactly the tables the models describe, from empty and from the first revision."""


import subprocess
import sys

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import alembic_config, compare_type, make_engine, migrate
from storage.models import metadata


def _diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": compare_type})
        return [d for d in compare_metadata(ctx, metadata)
                if not (d[0] == "remove_table" and d[1].name == "apscheduler_jobs")]


def test_migrated_schema_matches_models(db):
    assert _diff(db) == []


def test_every_branch_starts_from_the_foundation(db):
    script = ScriptDirectory.from_config(alembic_config(db))
    for rev in script.walk_revisions():
        if rev.revision != "0001_foundation":
            assert rev.down_revision is not None, f"{rev.revision} must build on an earlier revision"


def test_upgrade_from_the_first_revision_to_heads(tmp_path, backend, database_url):
    if backend == "postgres":
        engine = make_engine(database_url)
        cfg = alembic_config(engine)
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001_foundation")
            conn.commit()
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'steps.db'}")
        cfg = alembic_config(engine)
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001_foundation")
            conn.commit()
    migrate(engine)
    migrate(engine)  # a second run finds nothing to do
    assert _diff(engine) == []
    engine.dispose()


def test_processes_starting_together_migrate_one_at_a_time(database_url):
    """Several web processes may start at once on a PaaS: each migrates, none fails on a half-built schema."""
    engine = make_engine(database_url)
    cfg = alembic_config(engine)
    with engine.connect() as conn:  # back to an empty schema, as on a first deployment
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
        conn.commit()
    engine.dispose()
    code = "import sys; from storage.db import make_engine, migrate; migrate(make_engine(sys.argv[1]))"
    starts = [subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE, text=True)
              for _ in range(4)]
    failures = [p.stderr.read() for p in starts if p.wait(timeout=120) != 0]
    assert failures == []
    engine = make_engine(database_url)
    assert _diff(engine) == []
    engine.dispose()
