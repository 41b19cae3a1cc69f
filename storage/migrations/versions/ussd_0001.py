"""ussd: where each dialled USSD session is, its last screen, and how it ended

Revision ID: ussd_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "ussd_0001"
down_revision = "0001_foundation"
branch_labels = ("ussd",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ussd_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("identity_id", sa.Integer(), sa.ForeignKey("identities.id"), nullable=True),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("network_code", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("screen", sa.String(), nullable=False),
        sa.Column("ended", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cost", sa.String(length=40), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("hops", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.UniqueConstraint("session_id"),
    )
    op.create_index("ix_ussd_sessions_phone", "ussd_sessions", ["phone"])
    op.create_index("ix_ussd_sessions_identity_id", "ussd_sessions", ["identity_id"])
    op.create_index("ix_ussd_sessions_created_at", "ussd_sessions", ["created_at"])


def downgrade() -> None:
    op.drop_table("ussd_sessions")
