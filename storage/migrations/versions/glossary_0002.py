"""glossary: a change counter per scope, so every process's lookup index notices changed names

Revision ID: glossary_0002
Revises: glossary_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "glossary_0002"
down_revision = "glossary_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("glossary_versions",
    sa.Column("scope", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("generation", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("scope")
    )


def downgrade() -> None:
    op.drop_table("glossary_versions")
