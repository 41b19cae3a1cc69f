"""members: the facilitator's committed mark is dated (it counts for 12 months, like every other way of
taking part); the never-set boolean goes, a mark it held becomes one made at migration time

Revision ID: members_0002
Revises: members_0001
"""

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "members_0002"
down_revision = "members_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("committed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    members = sa.table("members", sa.column("committed", sa.Boolean()), sa.column("committed_at", sqlmodel.sql.sqltypes.UTCDateTime()))
    op.execute(members.update().where(members.c.committed == sa.true()).values(committed_at=datetime.now(UTC)))
    with op.batch_alter_table("members") as batch:
        batch.drop_column("committed")


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("committed", sa.Boolean(), nullable=False, server_default=sa.false()))
    members = sa.table("members", sa.column("committed", sa.Boolean()), sa.column("committed_at", sqlmodel.sql.sqltypes.UTCDateTime()))
    op.execute(members.update().where(members.c.committed_at.is_not(None)).values(committed=sa.true()))
    with op.batch_alter_table("members") as batch:
        batch.drop_column("committed_at")
