"""purchases: joint purchases, offers, pledges and their history, payments, collections

Revision ID: purchases_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "purchases_0001"
down_revision = "0001_foundation"
branch_labels = ("purchases",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purchases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("units", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("whole_units", sa.Boolean(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("individual_price", sa.Integer(), nullable=False),
        sa.Column("supplier", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("pay_to", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("minimum", sa.Integer(), nullable=False),
        sa.Column("maximum", sa.Integer(), nullable=True),
        sa.Column("member_limit", sa.Integer(), nullable=True),
        sa.Column("deadline", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ordered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchases_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_purchases_deadline"), ["deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_purchases_status"), ["status"], unique=False)

    op.create_table(
        "purchase_collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("collected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["purchases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["members.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("purchase_id", "member_id"),
    )
    with op.batch_alter_table("purchase_collections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_collections_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_purchase_collections_purchase_id"), ["purchase_id"], unique=False
        )

    op.create_table(
        "purchase_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("offered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["purchases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("purchase_id", "member_id"),
    )
    with op.batch_alter_table("purchase_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_offers_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_purchase_offers_purchase_id"), ["purchase_id"], unique=False)

    op.create_table(
        "purchase_pledges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["purchases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("purchase_id", "member_id"),
    )
    with op.batch_alter_table("purchase_pledges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_pledges_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_purchase_pledges_purchase_id"), ["purchase_id"], unique=False)

    op.create_table(
        "purchase_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("reference_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("reported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["members.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["purchase_pledges.id"],
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["purchases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cluster_id", "reference_key"),
    )
    with op.batch_alter_table("purchase_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_payments_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_purchase_payments_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_purchase_payments_pledge_id"), ["pledge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_purchase_payments_purchase_id"), ["purchase_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_purchase_payments_status"), ["status"], unique=False)

    op.create_table(
        "purchase_pledge_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("previous", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["purchase_pledges.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("purchase_pledge_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_pledge_changes_pledge_id"), ["pledge_id"], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("purchase_pledge_changes")
    op.drop_table("purchase_payments")
    op.drop_table("purchase_collections")
    op.drop_table("purchase_offers")
    op.drop_table("purchase_pledges")
    op.drop_table("purchases")
