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


def test_how_to_pay_widens_to_a_till_number_and_a_name_keeping_what_was_there(database_url):
    """purchases_0003: a purchase made under the 30-character column survives the upgrade, and the widened
    column holds the longest way to pay the flow and the CLI accept (storage.purchases.column_length)."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from storage.clusters import Cluster, create_cluster
    from storage.db import session_scope
    from storage.purchases import Purchase, column_length, create_purchase

    engine = make_engine(database_url)
    cfg = alembic_config(engine)
    now = datetime(2099, 1, 1, tzinfo=UTC)
    with engine.connect() as conn:  # back to the 30-character column, with a purchase in it
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "purchases_0002")
        conn.commit()
    with engine.begin() as conn:
        [pay_to] = [c for c in sa.inspect(conn).get_columns("purchases") if c["name"] == "pay_to"]
        assert pay_to["type"].length == 30
    with session_scope(engine) as s:
        cluster = create_cluster(s, "Moshi Coffee", "MOSHI", language="en", currency="TZS",
                                 timezone="Africa/Dar_es_Salaam", region="TZ")
        s.flush()
        s.execute(sa.text("INSERT INTO purchases (cluster_id, item, unit, units, whole_units, currency, unit_price, "
                          "individual_price, supplier, pay_to, minimum, deadline, status, segment, created_at) "
                          "VALUES (:c, 'Coffee', 'bag', 'bags', :t, 'TZS', 100, 0, '', :pay, 1000, :d, 'open', "
                          "'all', :d)"),
                  dict(c=cluster.id, t=True, pay="M-Pesa 0712 345 678 Asha Juma", d=now))
    migrate(engine)
    assert _diff(engine) == []
    till = "Lipa na M-Pesa till 5123456 Kibosho Coffee Growers"  # the catalog test's longest way to pay
    assert len(till) == column_length("pay_to") == 50
    with session_scope(engine) as s:
        [old] = s.exec(sa.select(Purchase.pay_to)).all()
        assert old == ("M-Pesa 0712 345 678 Asha Juma",)
        c = s.exec(sa.select(Cluster)).scalars().one()
        create_purchase(s, c, item="Seed", unit="kg", unit_price=100, minimum=1000, deadline=now + timedelta(days=1),
                        now=now, pay_to=till)
    with session_scope(engine) as s:
        assert till in [row[0] for row in s.exec(sa.select(Purchase.pay_to)).all()]
    engine.dispose()
