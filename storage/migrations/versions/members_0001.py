"""members: a STOP is recorded on the address that sent it, member or not

Revision ID: members_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "members_0001"
down_revision = "0001_foundation"
branch_labels = ("members",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("stopped", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("stopped")
