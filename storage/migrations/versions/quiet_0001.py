"""quiet: a cluster's quiet hours, and the broadcasts a facilitator sends through them

Revision ID: quiet_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "quiet_0001"
down_revision = "0001_foundation"
branch_labels = ("quiet",)
depends_on = "facilitation_0001"  # the broadcasts table


def upgrade() -> None:
    with op.batch_alter_table("clusters") as batch:
        # '' until the next start writes the QUIET_HOURS setting onto the cluster (storage.clusters)
        batch.add_column(sa.Column("quiet_hours", sa.String(length=11), nullable=False, server_default=""))
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("urgent")
    with op.batch_alter_table("clusters") as batch:
        batch.drop_column("quiet_hours")
