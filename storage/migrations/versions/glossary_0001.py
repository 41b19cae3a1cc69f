"""glossary: terms, per-language entries, proposals, votes, settings, history; the seed glossary

Revision ID: glossary_0001
Revises: 0001_foundation
"""

import csv
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "glossary_0001"
down_revision = "0001_foundation"
branch_labels = ("glossary",)
depends_on = None


def upgrade() -> None:
    op.create_table("glossary_settings",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("cluster_id", sa.Integer(), nullable=False),
    sa.Column("min_votes", sa.Integer(), nullable=False),
    sa.Column("vote_days", sa.Integer(), nullable=False),
    sa.Column("early_majority", sa.Boolean(), nullable=False),
    sa.Column("plurality", sa.Boolean(), nullable=False),
    sa.Column("weekly_day", sa.Integer(), nullable=True),
    sa.Column("weekly_hour", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("cluster_id")
    )
    terms = op.create_table("glossary_terms",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column("cluster_id", sa.Integer(), nullable=True),
    sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("glossary_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_glossary_terms_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_glossary_terms_key"), ["key"], unique=False)

    op.create_table("glossary_ballots",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("cluster_id", sa.Integer(), nullable=False),
    sa.Column("term_id", sa.Integer(), nullable=False),
    sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column("options", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("opened_by", sa.Integer(), nullable=True),
    sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("closes_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column("winner", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column("tally", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ),
    sa.ForeignKeyConstraint(["opened_by"], ["members.id"], ),
    sa.ForeignKeyConstraint(["term_id"], ["glossary_terms.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("glossary_ballots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_glossary_ballots_closes_at"), ["closes_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_glossary_ballots_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_glossary_ballots_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_glossary_ballots_term_id"), ["term_id"], unique=False)

    entries = op.create_table("glossary_entries",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("term_id", sa.Integer(), nullable=False),
    sa.Column("cluster_id", sa.Integer(), nullable=True),
    sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column("aliases", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column("short", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column("long", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ),
    sa.ForeignKeyConstraint(["term_id"], ["glossary_terms.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("glossary_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_glossary_entries_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_glossary_entries_term_id"), ["term_id"], unique=False)

    op.create_table("glossary_history",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("cluster_id", sa.Integer(), nullable=True),
    sa.Column("term_id", sa.Integer(), nullable=True),
    sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column("actor_member_id", sa.Integer(), nullable=True),
    sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column("details", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(["actor_member_id"], ["members.id"], ),
    sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ),
    sa.ForeignKeyConstraint(["term_id"], ["glossary_terms.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("glossary_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_glossary_history_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_glossary_history_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_glossary_history_term_id"), ["term_id"], unique=False)

    op.create_table("glossary_proposals",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("cluster_id", sa.Integer(), nullable=False),
    sa.Column("term_id", sa.Integer(), nullable=False),
    sa.Column("member_id", sa.Integer(), nullable=False),
    sa.Column("word", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column("word_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ),
    sa.ForeignKeyConstraint(["member_id"], ["members.id"], ),
    sa.ForeignKeyConstraint(["term_id"], ["glossary_terms.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("term_id", "cluster_id", "member_id", "word_key")
    )
    with op.batch_alter_table("glossary_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_glossary_proposals_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_glossary_proposals_term_id"), ["term_id"], unique=False)

    op.create_table("glossary_votes",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("ballot_id", sa.Integer(), nullable=False),
    sa.Column("member_id", sa.Integer(), nullable=False),
    sa.Column("choice", sa.Integer(), nullable=False),
    sa.Column("voted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["ballot_id"], ["glossary_ballots.id"], ),
    sa.ForeignKeyConstraint(["member_id"], ["members.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("ballot_id", "member_id")
    )
    with op.batch_alter_table("glossary_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_glossary_votes_ballot_id"), ["ballot_id"], unique=False)
    _load_seed(terms, entries)



SEED_FILE = Path(__file__).resolve().parents[2] / "glossary_seed.csv"


def _load_seed(terms: sa.Table, entries: sa.Table) -> None:
    """The shipped glossary (one row per term and language) as global terms, so a fresh database has it."""
    with SEED_FILE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    now = datetime.now(UTC)
    keys = list(dict.fromkeys(row["key"] for row in rows))
    topic = {row["key"]: row["topic"] for row in rows}
    op.bulk_insert(terms, [{"key": key, "cluster_id": None, "topic": topic[key], "status": "seeded",
                            "created_at": now} for key in keys])
    ids = dict(op.get_bind().execute(sa.select(terms.c.key, terms.c.id).where(terms.c.cluster_id.is_(None))).all())
    op.bulk_insert(entries, [{"term_id": ids[row["key"]], "cluster_id": None, "lang": row["lang"],
                              "name": row["name"], "aliases": row["aliases"], "short": row["short"],
                              "long": row["long"], "source": "seed", "updated_at": now} for row in rows])

def downgrade() -> None:
    with op.batch_alter_table("glossary_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_glossary_votes_ballot_id"))

    op.drop_table("glossary_votes")
    with op.batch_alter_table("glossary_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_glossary_proposals_term_id"))
        batch_op.drop_index(batch_op.f("ix_glossary_proposals_cluster_id"))

    op.drop_table("glossary_proposals")
    with op.batch_alter_table("glossary_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_glossary_history_term_id"))
        batch_op.drop_index(batch_op.f("ix_glossary_history_cluster_id"))
        batch_op.drop_index(batch_op.f("ix_glossary_history_at"))

    op.drop_table("glossary_history")
    with op.batch_alter_table("glossary_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_glossary_entries_term_id"))
        batch_op.drop_index(batch_op.f("ix_glossary_entries_cluster_id"))

    op.drop_table("glossary_entries")
    with op.batch_alter_table("glossary_ballots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_glossary_ballots_term_id"))
        batch_op.drop_index(batch_op.f("ix_glossary_ballots_status"))
        batch_op.drop_index(batch_op.f("ix_glossary_ballots_cluster_id"))
        batch_op.drop_index(batch_op.f("ix_glossary_ballots_closes_at"))

    op.drop_table("glossary_ballots")
    with op.batch_alter_table("glossary_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_glossary_terms_key"))
        batch_op.drop_index(batch_op.f("ix_glossary_terms_cluster_id"))

    op.drop_table("glossary_terms")
    op.drop_table("glossary_settings")
