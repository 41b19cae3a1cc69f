"""messaging: each outbox row says which SMS provider sends it, and each cluster which one it uses

Revision ID: messaging_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "messaging_0001"
down_revision = "0001_foundation"
branch_labels = ("messaging",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(sa.Column("provider", sa.String(length=20), nullable=False, server_default=""))
        batch.add_column(sa.Column("link_id", sa.String(length=100), nullable=False, server_default=""))
    with op.batch_alter_table("clusters") as batch:
        batch.add_column(sa.Column("sms_provider", sa.String(length=20), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("clusters") as batch:
        batch.drop_column("sms_provider")
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_column("link_id")
        batch.drop_column("provider")
